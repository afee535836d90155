"""Search hits: the fused candidates, loaded with the fields a caller needs to use them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from django.db.models import Prefetch

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


def _event(hit: SearchHit, e: Event) -> None:
    hit.text, hit.summary, hit.type = e.content, e.meta_summary, e.event_type
    hit.session_id, hit.importance = e.session_id, e.importance_score
    hit.occurred_at, hit.created_at = e.occurred_at, e.created_at


def _memory(hit: SearchHit, m: Memory) -> None:
    hit.text, hit.summary, hit.subject, hit.type = m.content, m.summary, m.subject, m.memory_type
    hit.tier, hit.status, hit.importance = m.tier, m.status, m.importance
    hit.tags = [t.name for t in m.tags.all()]
    hit.occurred_at, hit.created_at = m.time_start, m.created_at


def _knowledge(hit: SearchHit, k: Knowledge) -> None:
    hit.text, hit.summary, hit.subject, hit.type = k.content, k.summary, k.topic, k.knowledge_type
    hit.occurred_at, hit.created_at = k.valid_from, k.created_at


def _lesson(hit: SearchHit, lesson: Lesson) -> None:
    hit.text, hit.summary, hit.status = lesson.statement, lesson.rationale, lesson.status
    hit.created_at = lesson.created_at


_LOADERS = {
    "events": (lambda: Event._base_manager.all(), _event),
    "memories": (
        lambda: Memory._base_manager.defer("embedding", "search_vector").prefetch_related(
            Prefetch("tags", queryset=MemoryTag.objects.order_by("name"))
        ),
        _memory,
    ),
    "knowledge": (lambda: Knowledge._base_manager.defer("embedding", "search_vector"), _knowledge),
    "lessons": (lambda: Lesson._base_manager.defer("embedding", "search_vector"), _lesson),
}


def load_hits(hits: list[SearchHit]) -> list[SearchHit]:
    """`hits` (kinds as in KINDS: "events"...) filled from their rows, one query per kind, in
    the same order; the kind becomes the singular name ("event"...)."""
    by_kind: dict[str, list[UUID]] = {}
    for hit in hits:
        by_kind.setdefault(hit.kind, []).append(hit.id)
    rows = {}
    for kind, ids in by_kind.items():
        queryset, _ = _LOADERS[kind]
        rows.update({(kind, obj.pk): obj for obj in queryset().filter(pk__in=ids)})
    loaded = []
    for hit in hits:
        obj = rows.get((hit.kind, hit.id))
        if obj is None:  # gone since the candidate query: nothing to show
            continue
        _LOADERS[hit.kind][1](hit, obj)
        hit.kind = HIT_KIND[hit.kind]
        loaded.append(hit)
    return loaded
