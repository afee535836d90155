"""Ingest: one event or a batch, with dedupe, exact session counters and no per-item queries.

Both paths share `_store`: lock the spirit (and bump its last_activity_at), one multi-row
INSERT ... ON CONFLICT DO NOTHING with ids chosen here, one query that tells which keyed rows are
ours and which already existed, then one session upsert per distinct session — in one transaction,
so a failure leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from elephantasm.ai.tokens import count_tokens_many
from elephantasm.api.errors import Conflict
from events.errors import DuplicateEvent
from events.hooks import announce_events_recorded
from events.models import ARRIVAL_SEQUENCE, Event
from spirits.models import Spirit

from ._build import build_event
from ._spirit import spirit_touch_for_ingest
from .sessions import session_deltas, sessions_add_events


class ItemStatus(StrEnum):
    CREATED = "created"
    DUPLICATE = "duplicate"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class BulkItemResult:
    """The outcome of one item of `events_bulk_create`, at the item's index in the input.

    created: `id` is the new event's; duplicate: `id` is the event that already had the dedupe
    key (possibly an earlier item of the same batch); error: `errors` maps field names to messages
    and nothing was written for the item.
    """

    index: int
    status: ItemStatus
    id: UUID | None = None
    errors: dict[str, list[str]] | None = None


def _error_dict(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return exc.message_dict
    return {"non_field_errors": exc.messages}


def _next_arrivals(count: int) -> list[int]:
    """`count` numbers of the arrival sequence, increasing (one query)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(%s) AS n FROM generate_series(1, %s) ORDER BY n",
            [ARRIVAL_SEQUENCE, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _store(*, spirit: Spirit, events: list[Event], now: datetime) -> list[tuple[bool, UUID]]:
    """Insert `events` (no two sharing a dedupe key); return (created?, stored id) per event."""
    if not events:
        return []
    spirit_touch_for_ingest(
        spirit_id=spirit.pk, activity_at=max(event.occurred_at for event in events)
    )
    # Numbered in input order (ties on occurred_at replay in it), then inserted keyed rows in key
    # order: concurrent batches then wait on each other's keys in one order.
    if len(events) > 1:  # one event is numbered by the column's default
        for event, arrival in zip(events, _next_arrivals(len(events)), strict=True):
            event.arrival = arrival
    ordered = sorted(events, key=lambda e: (e.dedupe_key is None, e.dedupe_key or ""))
    Event.all_objects.bulk_create(ordered, ignore_conflicts=True)

    keys = [event.dedupe_key for event in events if event.dedupe_key is not None]
    stored: dict[str, UUID] = {}
    if keys:
        # After ON CONFLICT DO NOTHING each key has exactly one visible row: ours, or the one
        # that was there first (a concurrent insert of the same key was waited for).
        stored = dict(
            Event.all_objects.filter(spirit_id=spirit.pk, dedupe_key__in=keys).values_list(
                "dedupe_key", "id"
            )
        )
    outcomes: list[tuple[bool, UUID]] = []
    for event in events:
        if event.dedupe_key is None:
            outcomes.append((True, event.pk))
            continue
        existing = stored.get(event.dedupe_key)
        if existing is None:  # the conflicting row vanished (hard-deleted) meanwhile
            raise Conflict("A concurrent change got in the way; retry the request.")
        outcomes.append((existing == event.pk, existing))

    created = [event for event, (is_new, _) in zip(events, outcomes, strict=True) if is_new]
    sessions_add_events(spirit_id=spirit.pk, deltas=session_deltas(created), now=now)
    return outcomes


@transaction.atomic
def event_create(*, spirit: Spirit, data: Mapping[str, Any]) -> Event:
    """Record one event of `spirit`.

    `data` holds model field values (see `_build.INGEST_FIELDS`); missing ones get defaults:
    occurred_at now, token_count counted, dedupe_key derived (events.dedupe.derive_event_key).
    Raises ValidationError (invalid data), NotFound (spirit soft-deleted) or DuplicateEvent
    (the spirit already has an event with this dedupe key; its id is in the error).
    """
    now = timezone.now()
    event = build_event(spirit=spirit, data=data, now=now)
    [(is_new, stored_id)] = _store(spirit=spirit, events=[event], now=now)
    if not is_new:
        deleted = Event.all_objects.filter(pk=stored_id, deleted_at__isnull=False).exists()
        raise DuplicateEvent(existing_id=stored_id, existing_deleted=deleted)
    announce_events_recorded(spirit_id=spirit.pk, event_ids=[event.pk])
    return event


@transaction.atomic
def events_bulk_create(*, spirit: Spirit, items: list[Mapping[str, Any]]) -> list[BulkItemResult]:
    """Record many events of `spirit` at once; one result per item, in input order.

    Invalid items are reported and skipped; the others are written with one multi-row insert.
    An item whose dedupe key (given or derived) already exists is a duplicate of that event;
    when two items of the batch share a key, the later one is a duplicate of the earlier.
    Items without an occurred_at get the call's time plus their index in microseconds: distinct
    times, in input order, so two identical items without a time are two events (their derived
    keys differ), as two single calls would be.
    Queries: a constant handful whatever the batch size (plus one per distinct session).
    """
    now = timezone.now()
    results: list[BulkItemResult | None] = [None] * len(items)
    pending: list[tuple[int, Event]] = []
    first_with_key: dict[str, int] = {}
    repeats: list[tuple[int, int]] = []  # (index, index of the earlier item with the same key)
    for index, data in enumerate(items):
        item_now = now + timedelta(microseconds=index)
        try:
            event = build_event(spirit=spirit, data=data, now=item_now, count=False)
        except ValidationError as exc:
            results[index] = BulkItemResult(index, ItemStatus.ERROR, errors=_error_dict(exc))
            continue
        key = event.dedupe_key
        if key is not None:
            if key in first_with_key:
                repeats.append((index, first_with_key[key]))
                continue
            first_with_key[key] = index
        pending.append((index, event))

    uncounted = [event for _, event in pending if event.token_count is None]
    for event, tokens in zip(
        uncounted, count_tokens_many([e.content for e in uncounted]), strict=True
    ):
        event.token_count = tokens
    outcomes = _store(spirit=spirit, events=[event for _, event in pending], now=now)
    for (index, _), (is_new, stored_id) in zip(pending, outcomes, strict=True):
        status = ItemStatus.CREATED if is_new else ItemStatus.DUPLICATE
        results[index] = BulkItemResult(index, status, id=stored_id)
    for index, earlier in repeats:
        results[index] = BulkItemResult(index, ItemStatus.DUPLICATE, id=results[earlier].id)
    created = [r.id for r in results if r.status == ItemStatus.CREATED]
    announce_events_recorded(spirit_id=spirit.pk, event_ids=created)
    return results  # type: ignore[return-value]
