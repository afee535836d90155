"""The pack endpoints: compile, latest, history; validation and scoping."""

from __future__ import annotations

import pytest

from memories.models import ContextPack

from .factories import MemoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(sent_tasks):
    """Packs record their use through a task: sent nowhere here."""


def pack_url(spirit) -> str:
    return f"/api/v1/spirits/{spirit.pk}/pack/"


def test_post_compiles_and_keeps_a_pack(api, spirit):
    MemoryFactory(spirit=spirit, content="The user likes green tea.")

    response = api.post(
        pack_url(spirit), {"query": "tea", "max_tokens": 500, "preset": "focused"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["preset"] == "focused" and body["query"] == "tea"
    assert body["max_tokens"] == 500 and 0 < body["token_count"] <= 500
    [item] = body["items"]
    assert item["layer"] == "memories" and item["kind"] == "memory"
    assert item["tokens"] > 0 and "score" in item and "recency" in item["reasons"]
    assert "The user likes green tea." in body["text"]
    assert set(body["budget"]) == {
        "identity",
        "session",
        "past",
        "knowledge",
        "lessons",
        "memories",
        "pending",
    }
    assert ContextPack.objects.get(pk=body["id"]).text == body["text"]


def test_latest_and_history(api, spirit):
    assert api.get(f"/api/v1/spirits/{spirit.pk}/packs/latest/").status_code == 404
    first = api.post(pack_url(spirit), {}, format="json").json()
    second = api.post(pack_url(spirit), {"max_tokens": 300}, format="json").json()

    latest = api.get(f"/api/v1/spirits/{spirit.pk}/packs/latest/")
    history = api.get(f"/api/v1/spirits/{spirit.pk}/packs/")

    assert latest.status_code == 200 and latest.json() == second
    assert [p["id"] for p in history.json()["results"]] == [second["id"], first["id"]]
    assert second["max_tokens"] == 300
    assert first["max_tokens"] == spirit.effective_config["retrieval"]["pack_max_tokens"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"preset": "chatty"}, "preset"),
        ({"max_tokens": 10}, "max_tokens"),
        ({"max_tokens": "500"}, "max_tokens"),
        ({"limits": {"dreams": 1}}, "limits"),
        ({"weights": {"importance": 5}}, "weights"),
        ({"query": 12}, "query"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(api, spirit, body, field):
    response = api.post(pack_url(spirit), body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "validation_error"
    assert field in response.json()["error"]["details"]
    assert not ContextPack.objects.exists()


def test_another_teams_spirit_is_404(other_api, spirit):
    assert other_api.post(pack_url(spirit), {}, format="json").status_code == 404
    assert other_api.get(f"/api/v1/spirits/{spirit.pk}/packs/latest/").status_code == 404
    assert other_api.get(f"/api/v1/spirits/{spirit.pk}/packs/").status_code == 404


@pytest.mark.parametrize(("role", "scopes"), [("viewer", None), ("admin", ["read"])])
def test_a_read_only_caller_gets_packs_but_keeps_none(role_api, spirit, role, scopes):
    """The probe's finding: viewer and read-scope keys kept packs, so a read-only client could
    push the kept history out."""
    reader = role_api(role, scopes)

    response = reader.post(f"/api/v1/spirits/{spirit.pk}/pack/", {"query": "hi"}, format="json")

    assert response.status_code == 200
    assert response.json()["id"] is None
    assert ContextPack.objects.filter(spirit=spirit).count() == 0


def test_a_member_keeps_the_packs_it_asks_for(role_api, spirit):
    response = role_api("member").post(f"/api/v1/spirits/{spirit.pk}/pack/", {}, format="json")

    assert response.json()["id"] == str(ContextPack.objects.get(spirit=spirit).pk)
