"""Thin Celery tasks of the events app: each calls one service."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from uuid import UUID

from celery import shared_task
from django.conf import settings
from django.db import transaction

from elephantasm.tasks import SAFE_DELIVERY
from events import cortex
from events.services import sessions_mark_idle


@shared_task(
    bind=True, name="events.tasks.mark_idle_sessions", queue="maintenance", **SAFE_DELIVERY
)
def mark_idle_sessions(self) -> int:
    """Sweep: active sessions without an event for SESSION_IDLE_MINUTES become idle (idempotent).

    Returns how many sessions changed. Scheduled by CELERY_BEAT_SCHEDULE["sessions-mark-idle"].
    """
    return sessions_mark_idle()


@shared_task(bind=True, name="events.tasks.enrich_events", queue="enrich", **SAFE_DELIVERY)
def enrich_events(self, event_ids: list[str]) -> int:
    """The Cortex on these events (idempotent: enriched ones are skipped). Returns how many."""
    return cortex.enrich_events(event_ids=event_ids)


def _chunks(ids: Sequence[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def enqueue_enrichment(event_ids: Iterable[UUID | str]) -> None:
    """Enqueue enrichment of these events after the current transaction commits, in tasks of
    ENRICH_TASK_CHUNK ids. A broker failure is logged, not raised (`robust`): the data is
    committed and the sweep (`enrich_pending`) enqueues the events later."""
    ids = [str(i) for i in event_ids]
    for chunk in _chunks(ids, settings.ENRICH_TASK_CHUNK):
        transaction.on_commit(lambda chunk=chunk: enrich_events.delay(chunk), robust=True)


@shared_task(bind=True, name="events.tasks.enrich_pending", queue="maintenance", **SAFE_DELIVERY)
def enrich_pending(self) -> int:
    """Sweep: enqueue enrichment of live events not yet enriched (at most ENRICH_SWEEP_LIMIT,
    created over ENRICH_SWEEP_GRACE_SECONDS ago). Returns how many were enqueued."""
    ids = cortex.events_pending_enrichment(
        limit=settings.ENRICH_SWEEP_LIMIT, older_than_seconds=settings.ENRICH_SWEEP_GRACE_SECONDS
    )
    enqueue_enrichment(ids)
    return len(ids)
