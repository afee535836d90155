"""Search hits: the fused candidates, loaded with the fields a caller needs to use them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from uuid import UUID

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef
from django.db.models.expressions import RawSQL

from elephantasm.compiled import Compiled
from events.models import Event
from memories.models import Knowledge, Lesson, Memory, MemoryTag

from .fusion import Reasons
from .query import HIT_KIND


@dataclass(slots=True)
class SearchHit:
    """One item found. `kind` is event, memory, knowledge or lesson; fields an item does not
    have stay empty (None, "" or [])."""

    kind: str
    id: UUID
    score: float
    reasons: Reasons
    text: str = ""
    summary: str = ""
    subject: str = ""
    type: str | None = None
    tier: str | None = None
    status: str | None = None
    session_id: str | None = None
    tags: list[str] = field(default_factory=list)
    importance: float | None = None
    occurred_at: datetime | None = None
    created_at: datetime | None = None


# What a hit of each kind is filled with: (its field, the row's column) pairs, read by id.
_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "events": (
        ("text", "content"),
        ("summary", "meta_summary"),
        ("type", "event_type"),
        ("session_id", "session_id"),
        ("importance", "importance_score"),
        ("occurred_at", "occurred_at"),
        ("created_at", "created_at"),
    ),
    "memories": (
        ("text", "content"),
        ("summary", "summary"),
        ("subject", "subject"),
        ("type", "memory_type"),
        ("tier", "tier"),
        ("status", "status"),
        ("importance", "importance"),
        ("occurred_at", "time_start"),
        ("created_at", "created_at"),
        ("tags", "tag_names"),
    ),
    "knowledge": (
        ("text", "content"),
        ("summary", "summary"),
        ("subject", "topic"),
        ("type", "knowledge_type"),
        ("occurred_at", "valid_from"),
        ("created_at", "created_at"),
    ),
    "lessons": (
        ("text", "statement"),
        ("summary", "rationale"),
        ("status", "status"),
        ("created_at", "created_at"),
    ),
}
_MODELS = {"events": Event, "memories": Memory, "knowledge": Knowledge, "lessons": Lesson}
# The reads are compiled once (elephantasm.compiled): building them with the ORM and making model
# instances of every row took ~2-4 ms of a search for 10 hits. The ids go as one array.
_IDS = {"ids": [UUID("00000000-0000-4000-8000-000000001d5e")]}


def _given() -> RawSQL:
    """The ids given (one array parameter), for an `__in` filter."""
    return RawSQL("SELECT unnest(%s::uuid[])", (_IDS["ids"],))


@cache
def _rows_sql(kind: str) -> Compiled:
    """(id, the columns of _FIELDS[kind]) of the rows whose ids are given, deleted or not."""
    rows = _MODELS[kind]._base_manager.filter(pk__in=_given())
    if kind == "memories":  # its tags, by name, in the same row
        names = MemoryTag.objects.filter(memory=OuterRef("pk")).order_by("name").values("name")
        rows = rows.annotate(tag_names=ArraySubquery(names))
    rows = rows.values_list("pk", *(column for _, column in _FIELDS[kind]))
    return Compiled.of(rows.query.sql_with_params(), _IDS, required=["ids"])


def load_hits(hits: list[SearchHit]) -> list[SearchHit]:
    """`hits` (kinds as in KINDS: "events"...) filled from their rows, one query per kind, in
    the same order; the kind becomes the singular name ("event"...)."""
    by_kind: dict[str, list[UUID]] = {}
    for hit in hits:
        by_kind.setdefault(hit.kind, []).append(hit.id)
    rows: dict[tuple[str, UUID], tuple] = {}
    for kind, ids in by_kind.items():
        rows.update(((kind, row[0]), row[1:]) for row in _rows_sql(kind).fetch({"ids": ids}))
    loaded = []
    for hit in hits:
        values = rows.get((hit.kind, hit.id))
        if values is None:  # gone since the candidate query: nothing to show
            continue
        for (name, _), value in zip(_FIELDS[hit.kind], values, strict=True):
            setattr(hit, name, value)
        hit.kind = HIT_KIND[hit.kind]
        loaded.append(hit)
    return loaded
