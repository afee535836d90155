"""GET /spirits/{id}/export/: one JSON document, streamed, for admins of the spirit's team."""

from __future__ import annotations

import json

import pytest

from events.tests.factories import EventFactory
from memories.tests.factories import MemoryFactory
from spirits.portability.export import export_chunks
from spirits.portability.format import SECTIONS
from teams.models import Role

from .portability_fixtures import fill_spirit

pytestmark = pytest.mark.django_db


def url(spirit, query: str = "") -> str:
    return f"/api/v1/spirits/{spirit.pk}/export/{query}"


def read(response) -> dict:
    return json.loads(b"".join(response.streaming_content))


def test_the_export_is_a_streamed_download(api, spirit):
    response = api.get(url(spirit))
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith('attachment; filename="spirit-')


def test_the_document_names_its_format_and_has_its_sections_in_order(api, spirit):
    fill_spirit(spirit)
    document = read(api.get(url(spirit)))
    assert (document["format"], document["version"], document["embeddings"]) == (
        "elephantasm.spirit",
        1,
        False,
    )
    assert list(document)[4:] == list(SECTIONS)
    assert document["spirit"]["id"] == str(spirit.pk)
    assert len(document["events"]) == 6 and len(document["memories"]) == 5


def test_soft_deleted_rows_are_in_the_export_with_their_deletion_time(api, spirit):
    fill_spirit(spirit)
    document = read(api.get(url(spirit)))
    deleted = [e for e in document["events"] if e["deleted_at"] is not None]
    assert len(deleted) == 1
    assert [m["content"] for m in document["memories"] if m["deleted_at"]] == [
        "A forgotten detail."
    ]


def test_provenance_keeps_its_strengths(api, spirit):
    made = fill_spirit(spirit)
    document = read(api.get(url(spirit)))
    tea = next(m for m in document["memories"] if m["content"] == "The user likes tea.")
    assert tea["events"] == [
        {"event": str(made["events"][0].pk), "link_strength": 0.9},
        {"event": str(made["events"][1].pk), "link_strength": 0.35},
    ]


def test_embeddings_are_left_out_unless_asked_for(api, spirit):
    fill_spirit(spirit)
    plain = read(api.get(url(spirit)))
    assert not any("embedding" in row for row in plain["events"] + plain["memories"])
    full = read(api.get(url(spirit, "?embeddings=true")))
    assert full["embeddings"] is True
    assert all(row["embedding"]["model"] == "test-model" for row in full["events"])
    assert len(full["events"][0]["embedding"]["vector"]) == 384
    assert [m["content"] for m in full["memories"] if "embedding" in m] == ["The user likes tea."]


def test_a_bad_embeddings_flag_is_a_400(api, spirit):
    response = api.get(url(spirit, "?embeddings=maybe"))
    assert response.status_code == 400
    assert "embeddings" in response.json()["error"]["details"]


def test_another_teams_spirit_is_a_404(api, foreign_spirit):
    response = api.get(url(foreign_spirit))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MEMBER])
def test_below_admin_is_a_403(role_api, spirit, role):
    response = role_api(role).get(url(spirit))
    assert response.status_code == 403
    assert response.json()["error"]["details"]["required_role"] == "admin"


def test_an_admin_may_export(role_api, spirit):
    assert role_api(Role.ADMIN).get(url(spirit)).status_code == 200


def test_an_archived_spirit_can_be_exported(api, spirit):
    spirit.status = "archived"
    spirit.save()
    assert api.get(url(spirit)).status_code == 200


def test_the_text_comes_in_several_chunks_for_a_large_spirit(spirit):
    EventFactory.create_batch(300, spirit=spirit, content="x" * 400)
    chunks = list(export_chunks(spirit=spirit))
    assert len(chunks) > 1
    assert json.loads("".join(chunks))["events"][299]["content"] == "x" * 400


def test_the_number_of_queries_does_not_grow_with_the_rows(spirit, django_assert_max_num_queries):
    for _ in range(40):
        memory = MemoryFactory(spirit=spirit)
        memory.tags.create(name="t")
        memory.event_links.create(event=EventFactory(spirit=spirit))
    with django_assert_max_num_queries(25):
        document = json.loads("".join(export_chunks(spirit=spirit)))
    assert len(document["memories"]) == 40
