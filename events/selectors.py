"""Reads of events and sessions. Querysets here are not team-scoped: the API's base viewset
adds the caller's team filter; other callers pass a spirit they already hold."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypedDict
from uuid import UUID

from django.db import connection
from django.db.models import F, QuerySet

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
    metadata: dict[str, Any] | None = None,
    include_deleted: bool = False,
) -> QuerySet[Event]:
    """Filtered events, newest first — or oldest first within one session (a transcript).

    occurred_after / occurred_before are strict bounds; min_importance keeps events whose score is
    at least that (events without a score are left out); metadata keeps events whose metadata
    contains that object (jsonb `@>`, served by the event_metadata_gin index). include_deleted
    adds soft-deleted events and the events of soft-deleted spirits. Ties on occurred_at are
    broken by arrival order.
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
    if metadata:  # {} contains nothing to test: every event
        qs = qs.filter(metadata__contains=metadata)
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


_STATS_SQL = """
    SELECT GROUPING(event_type) = 1, event_type, count(*),
           count(DISTINCT session_id) FILTER (WHERE session_id <> ''),
           min(occurred_at), max(occurred_at)
    FROM {table}
    WHERE spirit_id = %s AND deleted_at IS NULL
    GROUP BY ROLLUP (event_type)
"""


def spirit_stats(*, spirit: Spirit) -> SpiritStats:
    """Counts over the spirit's live events, in one query (per type, and the totals: ROLLUP).

    `events_by_type` has every known type (zero included), then each custom type the spirit has
    events of, by name. Sessions are the distinct non-empty `session_id`s of those events, so
    every number here describes the same set of events.
    """
    by_type = dict.fromkeys(EventType.values, 0)
    custom: dict[str, int] = {}
    totals: tuple = (0, 0, None, None)
    with connection.cursor() as cursor:
        cursor.execute(_STATS_SQL.format(table=Event._meta.db_table), [spirit.pk])
        for is_total, event_type, count, sessions, first, last in cursor.fetchall():
            if is_total:
                totals = (count, sessions, first, last)
            elif event_type in by_type:
                by_type[event_type] = count
            else:
                custom[event_type] = count
    event_count, session_count, first_activity_at, last_activity_at = totals
    return {
        "events_by_type": {**by_type, **dict(sorted(custom.items()))},
        "event_count": event_count,
        "session_count": session_count,
        "first_activity_at": first_activity_at,
        "last_activity_at": last_activity_at,
    }


# The turn just before ('before') or after ('after') each event in its session, in arrival order
# (occurred_at, then arrival); events without a session have no neighbours.
_NEIGHBOUR = """
    SELECT hit.id, '{side}', near.id, near.content FROM {table} AS hit
    JOIN LATERAL (
        SELECT e.id, e.content FROM {table} AS e
        WHERE e.spirit_id = hit.spirit_id AND e.session_id = hit.session_id
          AND e.deleted_at IS NULL
          AND (e.occurred_at, e.arrival) {compare} (hit.occurred_at, hit.arrival)
        ORDER BY e.occurred_at {order}, e.arrival {order} LIMIT 1
    ) AS near ON true
    WHERE hit.id = ANY(%s) AND hit.session_id <> ''
"""
_NEIGHBOURS = " UNION ALL ".join(
    _NEIGHBOUR.format(side=side, table=Event._meta.db_table, compare=compare, order=order)
    for side, compare, order in (("before", "<", "DESC"), ("after", ">", "ASC"))
)


def neighbouring_turns(
    *, before: Iterable = (), after: Iterable = ()
) -> dict[tuple[Any, str], tuple[Any, str]]:
    """(event id, "before" | "after") -> (id, content) of the turn just before the events of
    `before` and just after those of `after`, in their sessions; one query."""
    before, after = list(before), list(after)
    if not before and not after:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_NEIGHBOURS, [before, after])
        return {(hit, side): (near, content) for hit, side, near, content in cursor.fetchall()}
