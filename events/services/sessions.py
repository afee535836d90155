"""Session counters: kept exact by one atomic upsert per session on ingest, recomputed from the
live events (one aggregate statement) on soft delete and restore.

Callers hold the spirit lock (see `_spirit`), so the recompute never races an ingest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from events.models import Event, EventType, Session, SessionStatus

_COUNTERS = ("event_count", "token_count", "input_token_count", "output_token_count")
_COLUMNS = (
    "id, spirit_id, session_id, title, status, event_count, token_count, input_token_count, "
    "output_token_count, first_event_at, last_event_at, created_at, updated_at"
)


@dataclass(slots=True)
class SessionDelta:
    """What a batch of new events adds to one session."""

    event_count: int = 0
    token_count: int = 0
    input_token_count: int = 0
    output_token_count: int = 0
    first_event_at: datetime | None = None
    last_event_at: datetime | None = None

    def add(self, event: Event) -> None:
        self.event_count += 1
        self.token_count += event.token_count
        if event.event_type == EventType.MESSAGE_IN:
            self.input_token_count += event.token_count
        elif event.event_type == EventType.MESSAGE_OUT:
            self.output_token_count += event.token_count
        when = event.occurred_at
        if self.first_event_at is None or when < self.first_event_at:
            self.first_event_at = when
        if self.last_event_at is None or when > self.last_event_at:
            self.last_event_at = when


def session_deltas(events: Iterable[Event]) -> dict[str, SessionDelta]:
    """The per-session totals of `events` (events without a session_id have no session)."""
    deltas: dict[str, SessionDelta] = {}
    for event in events:
        if event.session_id:
            deltas.setdefault(event.session_id, SessionDelta()).add(event)
    return deltas


def _upsert_sql() -> str:
    table = connection.ops.quote_name(Session._meta.db_table)
    increments = ",\n".join(f"{c} = {table}.{c} + EXCLUDED.{c}" for c in _COUNTERS)
    # Only identifiers from the models are interpolated; every value is a query parameter.
    return f"""
        INSERT INTO {table} ({_COLUMNS})
        VALUES (%s, %s, %s, '', %s, %s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (spirit_id, session_id) DO UPDATE SET
            {increments},
            first_event_at = LEAST({table}.first_event_at, EXCLUDED.first_event_at),
            last_event_at = GREATEST({table}.last_event_at, EXCLUDED.last_event_at),
            status = CASE WHEN {table}.status = %s THEN %s ELSE {table}.status END,
            updated_at = EXCLUDED.updated_at
    """  # noqa: S608


def sessions_add_events(*, spirit_id: UUID, deltas: dict[str, SessionDelta], now: datetime) -> None:
    """Add new events' totals to their sessions: one INSERT ... ON CONFLICT DO UPDATE per session.

    The increments happen inside PostgreSQL, so concurrent ingests never lose an update. A new
    session starts active; an idle one becomes active again; a closed one stays closed.
    Sessions are written in session_id order so concurrent batches lock rows in the same order.
    """
    if not deltas:
        return
    sql = _upsert_sql()
    with connection.cursor() as cursor:
        for session_id in sorted(deltas):
            d = deltas[session_id]
            cursor.execute(
                sql,
                [
                    uuid4(),
                    spirit_id,
                    session_id,
                    SessionStatus.ACTIVE,
                    d.event_count,
                    d.token_count,
                    d.input_token_count,
                    d.output_token_count,
                    d.first_event_at,
                    d.last_event_at,
                    now,
                    now,
                    SessionStatus.IDLE,
                    SessionStatus.ACTIVE,
                ],
            )


def _recompute_sql(*, some: bool) -> str:
    sessions = connection.ops.quote_name(Session._meta.db_table)
    events = connection.ops.quote_name(Event._meta.db_table)
    only = "AND session_id = ANY(%(session_ids)s)" if some else ""
    assignments = ",\n".join(
        f"{c} = EXCLUDED.{c}" for c in (*_COUNTERS, "first_event_at", "last_event_at", "updated_at")
    )
    return f"""
        INSERT INTO {sessions} ({_COLUMNS})
        SELECT gen_random_uuid(), %(spirit_id)s, k.session_id, '', %(active)s,
               count(e.id),
               COALESCE(sum(e.token_count), 0),
               COALESCE(sum(e.token_count) FILTER (WHERE e.event_type = %(message_in)s), 0),
               COALESCE(sum(e.token_count) FILTER (WHERE e.event_type = %(message_out)s), 0),
               min(e.occurred_at), max(e.occurred_at), %(now)s, %(now)s
        FROM (
            SELECT session_id FROM {sessions} WHERE spirit_id = %(spirit_id)s {only}
            UNION
            SELECT session_id FROM {events}
            WHERE spirit_id = %(spirit_id)s AND session_id <> '' {only}
        ) AS k
        LEFT JOIN {events} AS e
            ON e.spirit_id = %(spirit_id)s AND e.session_id = k.session_id
            AND e.deleted_at IS NULL
        GROUP BY k.session_id
        ORDER BY k.session_id
        ON CONFLICT (spirit_id, session_id) DO UPDATE SET
            {assignments}
    """  # noqa: S608


def sessions_recompute(
    *, spirit_id: UUID, session_ids: Iterable[str] | None = None, now: datetime | None = None
) -> None:
    """Set the counters of the spirit's sessions (all, or those named) from their live events.

    One aggregate statement; a session whose events are all deleted gets zero counts and no
    first/last time; a session_id that has events but no Session row gets one. The caller holds
    the spirit lock.
    """
    params = {
        "spirit_id": spirit_id,
        "active": SessionStatus.ACTIVE,
        "message_in": EventType.MESSAGE_IN,
        "message_out": EventType.MESSAGE_OUT,
        "now": now or timezone.now(),
    }
    some = session_ids is not None
    if some:
        params["session_ids"] = sorted({s for s in session_ids if s})
        if not params["session_ids"]:
            return
    with connection.cursor() as cursor:
        cursor.execute(_recompute_sql(some=some), params)


@transaction.atomic
def sessions_mark_idle(*, now: datetime | None = None) -> int:
    """Make active sessions idle when their last event is older than SESSION_IDLE_MINUTES.

    Returns how many sessions became idle. A session whose last_event_at moves on while this runs
    is re-checked by PostgreSQL and stays active.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.SESSION_IDLE_MINUTES)
    return Session.objects.filter(status=SessionStatus.ACTIVE, last_event_at__lt=cutoff).update(
        status=SessionStatus.IDLE, updated_at=now
    )
