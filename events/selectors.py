"""Reads of events and sessions. Querysets here are not team-scoped: the API's base viewset
adds the caller's team filter; other callers pass a spirit they already hold."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypedDict
from uuid import UUID

from django.db.models import Count, F, Max, Min, Q, QuerySet

from elephantasm.api.errors import NotFound
from events.models import ARRIVAL_ORDER, NEWEST_FIRST, Event, EventType, Session
from spirits.models import Spirit


def spirit_get_for_teams(
    *, spirit_id: UUID, team_ids: Iterable, include_deleted: bool = False
) -> Spirit:
    """The spirit if it belongs to one of `team_ids` (and is live, unless include_deleted).

    Unknown, foreign and soft-deleted spirits are all the same 404 to the caller.
    """
    manager = Spirit.all_objects if include_deleted else Spirit.objects
    spirit = manager.filter(pk=spirit_id, team_id__in=list(team_ids)).first()
    if spirit is None:
        raise NotFound("Spirit not found.", details={"spirit_id": str(spirit_id)})
    return spirit


def event_queryset(
    *, include_deleted_events: bool = False, include_deleted_spirits: bool = False
) -> QuerySet[Event]:
    """Events, by default only live ones of live spirits."""
    qs = Event.all_objects.all()
    if not include_deleted_events:
        qs = qs.filter(deleted_at__isnull=True)
    if not include_deleted_spirits:
        qs = qs.filter(spirit__deleted_at__isnull=True)
    return qs


def event_list(
    *,
    spirit_id: UUID | None = None,
    event_type: str | None = None,
    session_id: str | None = None,
    min_importance: float | None = None,
    occurred_after: datetime | None = None,
    occurred_before: datetime | None = None,
    include_deleted: bool = False,
) -> QuerySet[Event]:
    """Filtered events, newest first — or oldest first within one session (a transcript).

    occurred_after / occurred_before are strict bounds; min_importance keeps events whose score is
    at least that (events without a score are left out). include_deleted adds soft-deleted events
    and the events of soft-deleted spirits. Ties on occurred_at are broken by arrival order.
    """
    qs = event_queryset(
        include_deleted_events=include_deleted, include_deleted_spirits=include_deleted
    )
    if spirit_id is not None:
        qs = qs.filter(spirit_id=spirit_id)
    if event_type:
        qs = qs.filter(event_type=event_type)
    if session_id:
        qs = qs.filter(session_id=session_id)
    if min_importance is not None:
        qs = qs.filter(importance_score__gte=min_importance)
    if occurred_after is not None:
        qs = qs.filter(occurred_at__gt=occurred_after)
    if occurred_before is not None:
        qs = qs.filter(occurred_at__lt=occurred_before)
    if session_id:
        return qs.order_by(*ARRIVAL_ORDER)
    return qs.order_by(*NEWEST_FIRST)


def session_queryset() -> QuerySet[Session]:
    """Sessions of live spirits."""
    return Session.objects.filter(spirit__deleted_at__isnull=True)


def session_list(*, spirit_id: UUID | None = None, status: str | None = None) -> QuerySet[Session]:
    """Sessions of live spirits, most recently active first (sessions without events last)."""
    qs = session_queryset()
    if spirit_id is not None:
        qs = qs.filter(spirit_id=spirit_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by(F("last_event_at").desc(nulls_last=True), "-id")


class SpiritStats(TypedDict):
    events_by_type: dict[str, int]
    event_count: int
    session_count: int
    first_activity_at: datetime | None
    last_activity_at: datetime | None


def spirit_stats(*, spirit: Spirit) -> SpiritStats:
    """Counts over the spirit's live events, in one aggregate query.

    Sessions are the distinct non-empty `session_id`s of those events, so every number here
    describes the same set of events.
    """
    by_type = {
        f"type_{index}": Count("id", filter=Q(event_type=value))
        for index, value in enumerate(EventType.values)
    }
    row: dict[str, Any] = Event.objects.filter(spirit=spirit).aggregate(
        event_count=Count("id"),
        session_count=Count("session_id", distinct=True, filter=~Q(session_id="")),
        first_activity_at=Min("occurred_at"),
        last_activity_at=Max("occurred_at"),
        **by_type,
    )
    return {
        "events_by_type": {
            value: row[f"type_{index}"] for index, value in enumerate(EventType.values)
        },
        "event_count": row["event_count"],
        "session_count": row["session_count"],
        "first_activity_at": row["first_activity_at"],
        "last_activity_at": row["last_activity_at"],
    }
