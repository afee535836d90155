"""A spirit exported and imported through the API keeps every count and every relation."""

from __future__ import annotations

import json

import pytest

from elephantasm.ai.embeddings import get_batch_embedder
from events.models import Event, EventEmbedding
from memories.models import AuditEntry, Identity, Knowledge, Lesson, Memory
from pipeline import flow
from spirits.models import Spirit

from .portability_fixtures import counts, fill_spirit, relations

pytestmark = pytest.mark.django_db


def export(api, spirit, query: str = "") -> dict:
    response = api.get(f"/api/v1/spirits/{spirit.pk}/export/{query}")
    assert response.status_code == 200, response
    return json.loads(b"".join(response.streaming_content))


def import_(api, document, query: str = ""):
    return api.post(
        f"/api/v1/spirits/import/{query}",
        data=json.dumps(document),
        content_type="application/json",
    )


@pytest.fixture
def full_spirit(spirit):
    fill_spirit(spirit)
    return spirit


def imported(api, document, query: str = "") -> Spirit:
    response = import_(api, document, query)
    assert response.status_code == 201, response.json()
    return Spirit.objects.get(pk=response.json()["spirit"]["id"])


def test_a_round_trip_keeps_every_count(api, full_spirit):
    copy = imported(api, export(api, full_spirit))
    assert copy.pk != full_spirit.pk
    assert counts(copy.pk) == counts(full_spirit.pk)
    assert all(counts(copy.pk).values()), counts(copy.pk)


def test_a_round_trip_keeps_every_relation(api, full_spirit):
    copy = imported(api, export(api, full_spirit))
    original, copied = relations(full_spirit.pk), relations(copy.pk)
    for key in original:
        assert copied[key] == original[key], key


def test_the_copy_keeps_the_spirit_and_goes_to_the_callers_team(api, full_spirit, team):
    copy = imported(api, export(api, full_spirit))
    assert (copy.team_id, copy.name, copy.description) == (
        team.pk,
        full_spirit.name,
        "A test spirit.",
    )
    assert (copy.config, copy.metadata, copy.status) == (
        {"synthesis": {"enabled": False}},
        {"k": "v"},
        full_spirit.status,
    )


def test_the_copy_can_be_named(api, full_spirit):
    copy = imported(api, export(api, full_spirit), "?name=restored")
    assert copy.name == "restored"


def test_importing_twice_gives_two_spirits_sharing_no_row(api, full_spirit):
    document = export(api, full_spirit)
    first, second = imported(api, document), imported(api, document)
    assert first.pk != second.pk
    assert counts(first.pk) == counts(second.pk) == counts(full_spirit.pk)
    for model in (Event, Memory, Knowledge, Lesson):
        ids = [
            set(model.all_objects.filter(spirit=s).values_list("pk", flat=True))
            for s in (full_spirit, first, second)
        ]
        assert not (ids[0] & ids[1]) and not (ids[1] & ids[2]) and not (ids[0] & ids[2])


def test_the_import_is_recorded_in_the_audit_log(api, api_key, full_spirit):
    document = export(api, full_spirit)
    copy = imported(api, document)
    entry = AuditEntry.objects.get(object_type="spirit", object_id=copy.pk)
    assert (entry.action, entry.actor_type, entry.actor_id) == (
        "create",
        "api_key",
        str(api_key.pk),
    )
    assert entry.after["imported_from"]["spirit_id"] == str(full_spirit.pk)
    assert entry.after["imported_from"]["exported_at"] == document["exported_at"]
    assert entry.after["counts"]["events"] == 6
    assert str(full_spirit.pk) in entry.reason


def test_the_identity_history_reads_the_same_in_the_copy(api, full_spirit):
    copy = imported(api, export(api, full_spirit))
    original = api.get(f"/api/v1/spirits/{full_spirit.pk}/identity/history/").json()["results"]
    copied = api.get(f"/api/v1/spirits/{copy.pk}/identity/history/").json()["results"]
    assert [(e["action"], e["after"]["version"], e["after"]["document"]) for e in copied] == [
        (e["action"], e["after"]["version"], e["after"]["document"]) for e in original
    ]
    assert {e["after"]["id"] for e in copied} == {str(Identity.objects.get(spirit=copy).pk)}


def test_without_embeddings_every_row_is_left_to_be_embedded_again(api, full_spirit):
    copy = imported(api, export(api, full_spirit))
    assert not EventEmbedding.objects.filter(event__spirit=copy).exists()
    assert not Event.all_objects.filter(spirit=copy, enriched_at__isnull=False).exists()
    for model in (Memory, Knowledge, Lesson):
        rows = model.all_objects.filter(spirit=copy)
        assert rows.exists() and not rows.filter(embedding_stale=False).exists()
        assert not rows.filter(embedding__isnull=False).exists()


def test_embeddings_of_the_installed_model_are_kept(api, full_spirit, settings):
    document = export(api, full_spirit, "?embeddings=true")
    installed = get_batch_embedder().model_name
    for row in document["events"] + document["memories"]:
        if "embedding" in row:
            row["embedding"]["model"] = installed  # as if the original ran this embedder
    copy = imported(api, document)
    vectors = EventEmbedding.objects.filter(event__spirit=copy)
    assert vectors.count() == 6 and {v.model for v in vectors} == {installed}
    assert not Event.all_objects.filter(spirit=copy, enriched_at__isnull=True).exists()
    tea = Memory.objects.get(spirit=copy, content="The user likes tea.")
    assert (tea.embedding_stale, tea.embedding_model) == (False, installed)
    assert list(tea.embedding) == pytest.approx([0.25] * 384)
    other = Memory.objects.get(spirit=copy, content="The user hates coffee.")
    assert other.embedding_stale and other.embedding is None


def test_embeddings_of_another_model_are_not_kept(api, full_spirit):
    document = export(api, full_spirit, "?embeddings=true")
    assert document["events"][0]["embedding"]["model"] == "test-model"
    copy = imported(api, document)
    assert not EventEmbedding.objects.filter(event__spirit=copy).exists()
    assert Memory.objects.get(spirit=copy, content="The user likes tea.").embedding_stale


def test_the_pipeline_is_asked_to_embed_what_was_left_after_commit(
    api, full_spirit, sent_tasks, django_capture_on_commit_callbacks
):
    enrich, embed = sent_tasks(flow.ENRICH_EVENTS), sent_tasks(flow.EMBED_STALE)
    document = export(api, full_spirit)
    with django_capture_on_commit_callbacks(execute=True):
        copy = imported(api, document)
    live = set(Event.objects.filter(spirit=copy).values_list("pk", flat=True))
    assert {i for (chunk,) in enrich for i in chunk} == {str(i) for i in live}
    embedded = {label: set(ids) for label, ids in embed}
    assert embedded["memories.memory"] == {
        str(i) for i in Memory.all_objects.filter(spirit=copy).values_list("pk", flat=True)
    }
    assert set(embedded) == {"memories.memory", "memories.knowledge", "memories.lesson"}
