"""The Cortex in Celery: enqueued by ingest after commit, the sweep, and a real worker on Redis."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from elephantasm.tests.routing import queue_of
from elephantasm.tests.waiting import real_worker, wait_until
from events.models import Event
from events.services import ItemStatus, event_create, events_bulk_create
from events.tests.conftest import BULK_URL, EVENTS_URL
from events.tests.factories import EventFactory
from pipeline import flow, tasks


@pytest.fixture
def enqueued(sent_tasks):
    """The id lists sent to enrich_events, instead of publishing them."""
    return sent_tasks(flow.ENRICH_EVENTS, lambda args, countdown: args[0])


@pytest.fixture
def private_queue(route_to_private_queue):
    """Route the Cortex task to a queue of this test only: a worker of a running `make run` (which
    consumes "enrich" on the same Redis) must not take it."""
    return route_to_private_queue(flow.ENRICH_EVENTS)


def test_tasks_are_routed_with_safe_delivery_and_transient_retries_only():
    from django.db import InterfaceError, OperationalError

    for task, queue in [(tasks.enrich_events, "enrich"), (tasks.enrich_pending, "maintenance")]:
        assert queue_of(task.name) == queue
        assert task.acks_late is True
        assert task.reject_on_worker_lost is True
        assert set(task.autoretry_for) == {OperationalError, InterfaceError}
        assert task.retry_backoff is True
        assert task.max_retries == 5
    beat = settings.CELERY_BEAT_SCHEDULE["events-enrich-pending"]
    assert beat["task"] == tasks.enrich_pending.name


@pytest.mark.django_db
def test_event_create_enqueues_its_event_after_commit(
    spirit, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        event = event_create(spirit=spirit, data={"event_type": "message.in", "content": "hi"})
        assert enqueued == []  # nothing published before the commit

    assert len(callbacks) == 2  # enrichment, and the debounced synthesis trigger (memories)
    assert enqueued == [[str(event.pk)]]


@pytest.mark.django_db
@override_settings(ENRICH_TASK_CHUNK=2)
def test_bulk_create_enqueues_only_created_events_in_chunks(
    spirit, enqueued, django_capture_on_commit_callbacks
):
    existing = EventFactory(spirit=spirit, dedupe_key="k-old")
    items = [
        {"event_type": "message.in", "content": "one"},
        {"event_type": "message.in", "content": "dup", "dedupe_key": "k-old"},
        {"event_type": "message.in", "content": ""},  # invalid
        {"event_type": "message.in", "content": "two", "dedupe_key": "k-new"},
        {"event_type": "message.in", "content": "again", "dedupe_key": "k-new"},
        {"event_type": "message.in", "content": "three"},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        results = events_bulk_create(spirit=spirit, items=items)

    created = [str(r.id) for r in results if r.status == ItemStatus.CREATED]
    assert len(created) == 3
    assert enqueued == [created[:2], created[2:]]
    assert all(str(existing.pk) not in ids for ids in enqueued)


@pytest.mark.django_db
@override_settings(ENRICH_SWEEP_LIMIT=10, ENRICH_SWEEP_GRACE_SECONDS=60)
def test_sweep_enqueues_pending_events_past_the_grace_period(
    spirit, enqueued, django_capture_on_commit_callbacks
):
    old = timezone.now() - timezone.timedelta(minutes=10)
    pending = EventFactory(spirit=spirit, created_at=old)
    EventFactory(spirit=spirit, created_at=old, enriched_at=timezone.now())
    EventFactory(spirit=spirit)  # ingest just enqueued it itself

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.enrich_pending() == 1

    assert enqueued == [[str(pending.pk)]]


@pytest.mark.django_db(transaction=True)
def test_ingested_events_are_enriched_by_a_real_worker(spirit, api, private_queue):
    single = api.post(
        EVENTS_URL,
        {"spirit_id": str(spirit.pk), "event_type": "message.in", "content": "Remember: Ana."},
        format="json",
    )
    assert single.status_code == 201, single.content
    bulk = api.post(
        BULK_URL,
        {
            "spirit_id": str(spirit.pk),
            "events": [
                {"event_type": "message.out", "content": f"Answer number {i}. More."}
                for i in range(3)
            ],
        },
        format="json",
    )
    assert bulk.status_code == 200, bulk.content
    ids = [single.json()["id"], *(r["id"] for r in bulk.json()["results"])]

    with real_worker(private_queue):
        wait_until(
            lambda: (
                Event.objects.filter(
                    pk__in=ids, enriched_at__isnull=False, vector__isnull=False
                ).count()
                == len(ids)
            )
        )

    for event in Event.objects.filter(pk__in=ids):
        assert event.importance_score is not None
        assert event.meta_summary
        assert event.vector.model
