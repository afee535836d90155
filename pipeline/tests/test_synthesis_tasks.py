"""Synthesis in Celery: the debounced trigger after ingest, the sweep, a real worker on Redis."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.test import override_settings

from elephantasm.ai.llm import TransientLanguageModelError
from elephantasm.tests.routing import queue_of
from elephantasm.tests.waiting import real_worker, wait_until
from events.models import Event
from events.services import event_create, events_bulk_create
from events.tests.factories import EventFactory
from memories.models import Memory, MemoryEvent
from pipeline import flow, tasks

EVENTS_URL = "/api/v1/events/"
BULK_URL = "/api/v1/events/bulk/"


@pytest.fixture
def triggers(sent_tasks):
    """(args, countdown) of each debounced send of synthesize_spirit, instead of publishing it."""
    return sent_tasks(
        flow.SYNTHESIZE_SPIRIT,
        lambda args, countdown: (args, countdown) if countdown is not None else None,
    )


@pytest.fixture
def delayed(sent_tasks):
    """The spirit ids of each send of synthesize_spirit without a countdown."""
    return sent_tasks(
        flow.SYNTHESIZE_SPIRIT, lambda args, countdown: args[0] if countdown is None else None
    )


def debounce_key(spirit) -> str:
    return flow._debounce_key(str(spirit.pk))


def test_synthesis_tasks_are_routed_with_safe_delivery_and_transient_retries_only():
    # A language model's passing failures (retries ran out on 429/5xx) are transient too.
    for task, queue, retried in [
        (tasks.synthesize_spirit, "synthesis", {TransientLanguageModelError}),
        (tasks.synthesis_sweep, "maintenance", set()),
    ]:
        assert queue_of(task.name) == queue
        assert task.acks_late is True
        assert task.reject_on_worker_lost is True
        assert set(task.autoretry_for) == {OperationalError, InterfaceError, *retried}
        assert task.max_retries == 5
    beat = settings.CELERY_BEAT_SCHEDULE["memories-synthesis-sweep"]
    assert beat["task"] == tasks.synthesis_sweep.name
    assert queue_of(beat["task"]) == "maintenance"


@pytest.mark.django_db
@override_settings(SYNTHESIS_DEBOUNCE_SECONDS=45)
def test_a_burst_of_ingests_makes_one_delayed_trigger(
    spirit, triggers, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(20):
            event_create(spirit=spirit, data={"event_type": "message.in", "content": f"m{i}"})
        assert triggers == []  # nothing before the commit

    assert triggers == [((str(spirit.pk),), 45)]
    client = flow._debounce_client()
    assert client.exists(debounce_key(spirit))
    assert 0 < client.ttl(debounce_key(spirit)) <= 45 + 60

    with django_capture_on_commit_callbacks(execute=True):
        events_bulk_create(spirit=spirit, items=[{"event_type": "message.in", "content": "more"}])
    assert len(triggers) == 1  # still pending: no second trigger
    client.delete(debounce_key(spirit))


@pytest.mark.django_db
def test_a_bulk_ingest_without_new_events_triggers_nothing(
    spirit, triggers, django_capture_on_commit_callbacks
):
    EventFactory(spirit=spirit, dedupe_key="k")
    with django_capture_on_commit_callbacks(execute=True):
        events_bulk_create(
            spirit=spirit, items=[{"event_type": "message.in", "content": "x", "dedupe_key": "k"}]
        )

    assert triggers == []


@pytest.mark.django_db
def test_the_task_clears_the_trigger_so_later_ingests_trigger_again(
    spirit, triggers, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        event_create(spirit=spirit, data={"event_type": "message.in", "content": "one"})
    assert len(triggers) == 1

    assert tasks.synthesize_spirit(str(spirit.pk), force=True) == 1
    assert not flow._debounce_client().exists(debounce_key(spirit))

    with django_capture_on_commit_callbacks(execute=True):
        event_create(spirit=spirit, data={"event_type": "message.in", "content": "two"})
    assert len(triggers) == 2
    flow._debounce_client().delete(debounce_key(spirit))


@pytest.mark.django_db
def test_the_task_respects_the_gate_and_is_idempotent(spirit):
    EventFactory.create_batch(2, spirit=spirit)  # default gate: far from due

    assert tasks.synthesize_spirit(str(spirit.pk)) == 0
    assert tasks.synthesize_spirit(str(spirit.pk), force=True) == 1
    assert tasks.synthesize_spirit(str(spirit.pk), force=True) == 0
    assert Memory.objects.count() == 1


@pytest.mark.django_db
@override_settings(SYNTHESIS_MAX_EVENTS_PER_RUN=2)
def test_a_full_run_enqueues_the_next_one(spirit, delayed, django_capture_on_commit_callbacks):
    EventFactory.create_batch(3, spirit=spirit)

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.synthesize_spirit(str(spirit.pk), force=True) == 1

    assert delayed == [str(spirit.pk)]
    assert Event.objects.filter(synthesized_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_sweep_enqueues_spirits_with_pending_events(
    spirit, foreign_spirit, delayed, django_capture_on_commit_callbacks
):
    EventFactory(spirit=spirit)
    EventFactory(spirit=foreign_spirit, synthesized_at="2025-01-01T00:00:00Z")
    EventFactory(spirit=foreign_spirit, deleted_at="2025-01-01T00:00:00Z")

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.synthesis_sweep() == 1

    assert delayed == [str(spirit.pk)]


@pytest.fixture
def private_queue(route_to_private_queue):
    """Route synthesis to a queue of this test only (a `make run` worker consumes "synthesis")."""
    return route_to_private_queue(flow.SYNTHESIZE_SPIRIT)


@pytest.mark.django_db(transaction=True)
@override_settings(SYNTHESIS_DEBOUNCE_SECONDS=0)
def test_ingested_conversation_becomes_memories_with_provenance_in_a_real_worker(
    spirit, api, private_queue
):
    spirit.config = {"synthesis": {"threshold": 0.01}}
    spirit.save()
    response = api.post(
        BULK_URL,
        {
            "spirit_id": str(spirit.pk),
            "events": [
                {
                    "event_type": "message.in" if i % 2 == 0 else "message.out",
                    "role": "user" if i % 2 == 0 else "assistant",
                    "content": f"Session {session} message {i}.",
                    "session_id": session,
                }
                for session in ("morning", "evening")
                for i in range(3)
            ],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    ids = {uuid.UUID(r["id"]) for r in response.json()["results"]}

    with real_worker(private_queue):
        wait_until(lambda: MemoryEvent.objects.filter(event_id__in=ids).count() == len(ids))

    memories = Memory.objects.filter(spirit=spirit)
    assert sorted(m.metadata["synthesis"]["session_id"] for m in memories) == ["evening", "morning"]
    for memory in memories:
        assert memory.time_start <= memory.time_end
        session = memory.metadata["synthesis"]["session_id"]
        for i in range(3):  # the session's three turns, in its memory
            assert f"{session} message {i}." in memory.content.lower()
    assert not Event.objects.filter(pk__in=ids, synthesized_at__isnull=True).exists()


@pytest.mark.django_db
def test_a_run_that_is_not_due_yet_looks_again_when_time_alone_makes_it_due(spirit, sent_tasks):
    checks = sent_tasks(flow.SYNTHESIZE_SPIRIT, lambda args, countdown: (args, countdown))
    EventFactory.create_batch(2, spirit=spirit)  # just now: due once quiet for idle_minutes

    assert tasks.synthesize_spirit(str(spirit.pk)) == 0
    assert tasks.synthesize_spirit(str(spirit.pk)) == 0  # a check is scheduled: not a second

    [(args, countdown)] = checks
    assert args == (str(spirit.pk),)
    assert 590 <= countdown <= 601  # idle_minutes (10) after the newest event
    flow._debounce_client().delete(flow._recheck_key(str(spirit.pk)))
