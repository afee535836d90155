"""GET|PUT|PATCH /spirits/{id}/identity/ and GET /spirits/{id}/identity/history/."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from memories.identity_schema import EMPTY_IDENTITY
from memories.models import AuditEntry, Identity
from memories.services import identity as svc
from spirits.tests.factories import SpiritFactory
from teams.actors import Actor

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")


def url(spirit, suffix: str = "") -> str:
    return f"/api/v1/spirits/{spirit.pk}/identity/{suffix}"


def error(response, status: int, code: str = "validation_error") -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()["error"]
    assert body["code"] == code
    return body


def test_get_before_any_identity_returns_the_empty_one_at_version_0(api, spirit):
    response = api.get(url(spirit))
    assert response.status_code == 200
    assert response.json() == {
        "spirit_id": str(spirit.pk),
        "version": 0,
        "document": EMPTY_IDENTITY,
        "updated_at": None,
    }


def test_get_before_any_identity_writes_nothing(api, spirit):
    api.get(url(spirit))
    api.get(url(spirit))
    assert not Identity.objects.exists()
    assert not AuditEntry.objects.exists()


def test_get_returns_the_stored_identity(api, spirit):
    identity = svc.identity_revise(spirit=spirit, document={"essence": "Kind."}, actor=ACTOR)
    body = api.get(url(spirit)).json()
    assert (body["version"], body["document"]) == (2, {"essence": "Kind."})
    assert body["updated_at"] == identity.updated_at.isoformat().replace("+00:00", "Z")


def test_first_put_creates_the_identity(api, spirit):
    response = api.put(url(spirit), {"document": {"essence": "New."}}, format="json")
    assert response.status_code == 200
    assert (response.json()["version"], response.json()["document"]) == (2, {"essence": "New."})
    assert Identity.objects.get(spirit=spirit).document == {"essence": "New."}
    actions = list(
        AuditEntry.objects.filter(object_type="identity").values_list("action", flat=True)
    )
    assert actions == ["create", "revise"]


def test_put_replaces_the_document_and_bumps_the_version(api, spirit):
    svc.identity_revise(spirit=spirit, document={"purpose": "Old."}, actor=ACTOR)
    body = {"document": {"essence": "A careful helper."}, "reason": "rewrite"}
    response = api.put(url(spirit), body, format="json")
    assert response.status_code == 200
    assert response.json()["document"] == {"essence": "A careful helper."}
    assert response.json()["version"] == 3


def test_patch_merges_top_level_keys(api, spirit):
    svc.identity_revise(
        spirit=spirit, document={"essence": "Kind.", "purpose": "Old."}, actor=ACTOR
    )
    response = api.patch(url(spirit), {"document": {"purpose": "Help."}}, format="json")
    assert response.status_code == 200
    assert response.json()["document"] == {"essence": "Kind.", "purpose": "Help."}


def test_patch_without_a_document_changes_nothing(api, spirit):
    svc.identity_revise(spirit=spirit, document={"essence": "Kind."}, actor=ACTOR)
    version = api.get(url(spirit)).json()["version"]
    response = api.patch(url(spirit), {}, format="json")
    assert response.status_code == 200 and response.json()["version"] == version
    assert response.json()["document"] == {"essence": "Kind."}


def test_put_logs_a_revision_with_actor_and_reason(api, api_key, spirit):
    api.put(url(spirit), {"document": {"essence": "x"}, "reason": "onboarding"}, format="json")
    entry = AuditEntry.objects.filter(object_type="identity").last()
    assert (entry.action, entry.actor_id, entry.reason) == ("revise", str(api_key.pk), "onboarding")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"document": {"mood": "grumpy"}}, "document"),
        ({"document": {"essence": 5}}, "document"),
        ({"document": {"essence": "a\x00b"}}, "document"),
        ({"document": ["essence"]}, "document"),
        ({"document": {"values": [{"name": "x", "weight": 3}]}}, "document"),
        ({}, "document"),
        ({"document": {}, "version": 9}, "version"),
    ],
)
def test_put_with_an_invalid_body_is_400_naming_the_field_and_writes_nothing(
    api, spirit, body, field
):
    response = api.generic("PUT", url(spirit), json.dumps(body), content_type="application/json")
    assert field in error(response, 400)["details"]
    assert not AuditEntry.objects.filter(action="revise").exists()


def test_patch_with_a_document_outside_the_schema_is_400(api, spirit):
    error(api.patch(url(spirit), {"document": {"mood": "x"}}, format="json"), 400)


@pytest.mark.parametrize("method", ["get", "put", "patch"])
def test_identity_of_another_teams_spirit_is_404(other_api, spirit, method):
    response = getattr(other_api, method)(url(spirit), {"document": {}}, format="json")
    error(response, 404, "not_found")
    assert not Identity.objects.exists()


@pytest.mark.parametrize("method", ["get", "put", "patch"])
def test_identity_of_a_deleted_spirit_is_404(api, team, method):
    spirit = SpiritFactory(team=team, deleted_at=timezone.now())
    error(getattr(api, method)(url(spirit), {"document": {}}, format="json"), 404, "not_found")


def test_identity_of_an_unknown_spirit_is_404(api, spirit):
    spirit.pk = "00000000-0000-0000-0000-000000000000"
    error(api.get(url(spirit)), 404, "not_found")


def test_history_lists_revisions_in_order(api, spirit):
    svc.identity_revise(spirit=spirit, document={"essence": "a"}, actor=ACTOR, reason="r1")
    svc.identity_revise(spirit=spirit, document={"purpose": "b"}, partial=True, actor=ACTOR)
    rows = api.get(url(spirit, "history/")).json()["results"]
    assert [row["action"] for row in rows] == ["create", "revise", "revise"]
    assert rows[1]["reason"] == "r1"
    assert rows[2]["after"]["document"] == {"essence": "a", "purpose": "b"}


def test_history_before_any_identity_is_empty(api, spirit):
    response = api.get(url(spirit, "history/"))
    assert response.status_code == 200 and response.json()["results"] == []
    assert not Identity.objects.exists()


def test_history_as_of_returns_the_identity_as_it_was(api, spirit):
    svc.identity_revise(spirit=spirit, document={"essence": "first"}, actor=ACTOR)
    moment = timezone.now()
    svc.identity_revise(spirit=spirit, document={"essence": "second"}, actor=ACTOR)
    body = api.get(url(spirit, "history/"), {"as_of": moment.isoformat()}).json()
    assert (body["state"]["document"], body["state"]["version"]) == ({"essence": "first"}, 2)


def test_history_as_of_before_the_identity_existed_is_404(api, spirit):
    moment = (timezone.now() - timedelta(days=1)).isoformat()
    svc.identity_revise(spirit=spirit, document={"essence": "x"}, actor=ACTOR)
    error(api.get(url(spirit, "history/"), {"as_of": moment}), 404, "not_found")


def test_history_of_another_teams_spirit_is_404(other_api, spirit):
    svc.identity_revise(spirit=spirit, document={"essence": "x"}, actor=ACTOR)
    error(other_api.get(url(spirit, "history/")), 404, "not_found")
