"""A pack's reads of the identity and the events: each shape is compiled once
(elephantasm.compiled) and run with the spirit and the session in the stand-ins' places.
Building them with the ORM took ~1.2 ms of every pack, PostgreSQL ~0.1 ms."""

from __future__ import annotations

from functools import cache, lru_cache
from uuid import UUID

from django.db import connection

from elephantasm.compiled import Compiled
from events.models import NEWEST_FIRST, Event

from ..models import Identity

# The fields an event's line is made of (layers._event_item, past.py).
EVENT_LINE_FIELDS = (
    "id",
    "author",
    "role",
    "event_type",
    "content",
    "meta_summary",
    "occurred_at",
    "arrival",
    "session_id",
)
# The same, in the model's field order: Model.from_db takes a row's values in that order.
_EVENT_ROW_FIELDS = tuple(
    f.attname for f in Event._meta.concrete_fields if f.attname in EVENT_LINE_FIELDS
)
STAND_INS = {"spirit_id": UUID("00000000-0000-4000-8000-0000000ba5e5"), "session_id": "\x00session"}


@cache
def _document_sql() -> Compiled:
    rows = Identity.objects.filter(spirit_id=STAND_INS["spirit_id"]).values_list("document")
    return Compiled.of(rows[:1].query.sql_with_params(), STAND_INS, required=("spirit_id",))


def identity_document(spirit_id: UUID) -> dict | None:
    """The spirit's identity document, None when it has none."""
    rows = _document_sql().fetch({"spirit_id": spirit_id})
    if not rows:
        return None
    return Identity._meta.get_field("document").from_db_value(rows[0][0], None, connection)


@lru_cache(maxsize=64)
def _events_sql(which: str, limit: int) -> Compiled:
    events = Event.objects.filter(spirit_id=STAND_INS["spirit_id"])
    if which == "session":
        events = events.filter(session_id=STAND_INS["session_id"])
    else:
        events = events.filter(synthesized_at__isnull=True)
    if which == "pending_outside":
        events = events.exclude(session_id=STAND_INS["session_id"])
    rows = events.order_by(*NEWEST_FIRST).values_list(*_EVENT_ROW_FIELDS)[:limit]
    required = ("spirit_id",) if which == "pending" else ("spirit_id", "session_id")
    return Compiled.of(rows.query.sql_with_params(), STAND_INS, required=required)


def event_rows(which: str, spirit_id: UUID, session_id: str | None, limit: int) -> list[Event]:
    """The newest `limit` live events of the session ("session"), or not yet synthesized
    ("pending"), or not yet synthesized outside the session ("pending_outside"), newest
    first, with the EVENT_LINE_FIELDS only."""
    rows = _events_sql(which, limit).fetch({"spirit_id": spirit_id, "session_id": session_id})
    return [Event.from_db(connection.alias, _EVENT_ROW_FIELDS, row) for row in rows]
