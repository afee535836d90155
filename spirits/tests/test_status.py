"""What a spirit's status means: paused spirits store events but are not curated until active;
archived spirits are read-only (409 `spirit_archived`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import Event
from events.tests.factories import EventFactory
from memories.models import Memory
from memories.tests.factories import KnowledgeFactory, MemoryFactory
from pipeline import flow, tasks
from pipeline.synthesis import synthesis_due, synthesize_spirit

pytestmark = pytest.mark.django_db
EVENT = {"event_type": "message.in", "role": "user", "content": "I live in Porto."}


def set_status(spirit, status: str) -> None:
    spirit.status = status
    spirit.save(update_fields=["status"])


def conflict_code(response) -> str:
    assert response.status_code == 409, response.content
    return response.json()["error"]["code"]


# --- Archived: read-only ----------------------------------------------------------------------


def test_an_archived_spirit_refuses_writes_to_its_data_with_409(api, spirit):
    memory = MemoryFactory(spirit=spirit)
    set_status(spirit, "archived")
    sid = str(spirit.pk)

    writes = [
        api.post("/api/v1/events/", {**EVENT, "spirit_id": sid}, format="json"),
        api.post("/api/v1/events/bulk/", {"spirit_id": sid, "events": [EVENT]}, format="json"),
        api.post("/api/v1/memories/", {"spirit_id": sid, "content": "x"}, format="json"),
        api.patch(f"/api/v1/memories/{memory.pk}/", {"content": "y"}, format="json"),
        api.delete(f"/api/v1/memories/{memory.pk}/"),
        api.post(f"/api/v1/spirits/{sid}/synthesize/", format="json"),
        api.post(f"/api/v1/spirits/{sid}/dreams/", format="json"),
        api.put(f"/api/v1/spirits/{sid}/identity/", {"document": {}}, format="json"),
    ]

    assert [conflict_code(r) for r in writes] == ["spirit_archived"] * len(writes)
    assert not Event.objects.filter(spirit=spirit).exists()
    memory.refresh_from_db()
    assert memory.deleted_at is None and memory.content != "y"


def test_an_archived_spirit_is_still_read_searched_and_packed(api, spirit):
    MemoryFactory(spirit=spirit, content="Ada lives in Porto.")
    set_status(spirit, "archived")

    assert api.get(f"/api/v1/spirits/{spirit.pk}/").status_code == 200
    assert api.get("/api/v1/memories/", {"spirit_id": spirit.pk}).json()["count"] == 1
    search = api.post(f"/api/v1/spirits/{spirit.pk}/search/", {"query": "Porto"}, format="json")
    assert search.status_code == 200
    pack = api.post(f"/api/v1/spirits/{spirit.pk}/pack/", {"query": "Porto"}, format="json")
    assert pack.status_code == 200


def test_an_archived_spirit_can_be_made_active_again_and_then_written(api, spirit):
    set_status(spirit, "archived")
    url = f"/api/v1/spirits/{spirit.pk}/"

    assert api.patch(url, {"status": "active"}, format="json").status_code == 200
    response = api.post("/api/v1/events/", {**EVENT, "spirit_id": str(spirit.pk)}, format="json")
    assert response.status_code == 201, response.content


def test_another_teams_archived_spirit_is_still_a_404(api, foreign_spirit):
    set_status(foreign_spirit, "archived")
    body = {**EVENT, "spirit_id": str(foreign_spirit.pk)}
    assert api.post("/api/v1/events/", body, format="json").status_code == 404


# --- Paused: stored, not curated, then it catches up --------------------------------------------


def test_a_paused_spirit_stores_events_but_is_never_due_and_refuses_curation(api, spirit):
    set_status(spirit, "paused")
    sid = str(spirit.pk)
    events = [{**EVENT, "content": f"message {i}"} for i in range(25)]

    response = api.post("/api/v1/events/bulk/", {"spirit_id": sid, "events": events}, format="json")
    assert response.json()["created"] == 25
    assert not synthesis_due(spirit).due
    assert synthesize_spirit(spirit_id=spirit.pk, force=True) == []
    assert conflict_code(api.post(f"/api/v1/spirits/{sid}/synthesize/")) == "spirit_paused"
    assert conflict_code(api.post(f"/api/v1/spirits/{sid}/dreams/")) == "spirit_paused"


def test_a_paused_spirit_catches_up_once_active(
    spirit, sent_tasks, django_capture_on_commit_callbacks
):
    extractions = sent_tasks(flow.EXTRACT_MEMORIES, lambda args, countdown: args[0])
    syntheses = sent_tasks(flow.SYNTHESIZE_SPIRIT, lambda args, countdown: args[0])
    set_status(spirit, "paused")
    EventFactory.create_batch(25, spirit=spirit)
    old = timezone.now() - timedelta(hours=1)
    memory = MemoryFactory(spirit=spirit, content="My name is Ada.", created_at=old)

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.synthesis_sweep() == 0
        assert tasks.extraction_sweep() == 0
        assert tasks.extract_memories([str(memory.pk)])["created"] == 0  # left for later

    set_status(spirit, "active")
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.synthesis_sweep() == 1
        assert tasks.extraction_sweep() == 1
    assert syntheses == [str(spirit.pk)]
    assert extractions == [[str(memory.pk)]]
    assert len(synthesize_spirit(spirit_id=spirit.pk)) >= 1  # due: 25 events pending
    assert Memory.objects.filter(spirit=spirit).count() >= 2


# --- The sweeps recover lost messages ----------------------------------------------------------


def test_the_evolution_sweep_finds_spirits_whose_identity_is_due(
    spirit, other_team, sent_tasks, django_capture_on_commit_callbacks
):
    evolutions = sent_tasks(flow.EVOLVE_IDENTITY, lambda args, countdown: args[0])
    KnowledgeFactory.create_batch(5, spirit=spirit)  # revise_after: 5

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.evolution_sweep() == 1
    assert evolutions == [str(spirit.pk)]
    tasks.evolve_identity(str(spirit.pk))
    assert tasks.evolution_sweep() == 0
