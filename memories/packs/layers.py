"""The candidates of each layer of a pack, as rendered lines with their scores and reasons.

With a query, knowledge, lessons and memories come from hybrid retrieval (one embedding of the
query for all three kinds); without one, from the spirit's most confident / most important and
newest items. Only what an agent should see: live rows; knowledge currently valid; lessons not
retired; memories active or decaying (not archived, superseded or disputed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q

from events.cortex import truncate_words
from events.models import Event
from spirits.models import Spirit

from ..models import (
    Identity,
    Knowledge,
    Lesson,
    LessonStatus,
    Memory,
    MemoryStatus,
)
from ..retrieval import SearchQuery, fuse
from ..retrieval.fusion import Fused
from ..retrieval.search import (
    QueryEmbedding,
    candidate_depth,
    candidate_lists,
    resolve_weights,
)
from .scoring import DEFAULT_IMPORTANCE, recency, score

LINE_MAX_CHARS = 600
MEMORY_STATUSES = (MemoryStatus.ACTIVE, MemoryStatus.DECAYING)
HEADINGS = {
    "identity": "## Who you are",
    "session": "## This session so far",
    "pending": "## Recent events (not yet in long-term memory)",
    "knowledge": "## What you know",
    "lessons": "## Lessons you learned",
    "memories": "## Relevant memories",
}


@dataclass(slots=True)
class Item:
    layer: str
    kind: str  # identity, event, knowledge, lesson, memory
    id: str | None
    line: str
    score: float | None = None
    reasons: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None  # sorts session and pending lines in time order
    tokens: int = 0


def _clip(text: str) -> str:
    return truncate_words(text, LINE_MAX_CHARS)


# --- Identity ------------------------------------------------------------------------------------


def identity_items(spirit: Spirit) -> list[Item]:
    """One item per non-empty section of the identity document, in document order."""
    identity = Identity.objects.filter(spirit=spirit).only("document").first()
    if identity is None:
        return []
    doc = identity.document
    sections: list[tuple[str, str]] = []
    if doc.get("essence"):
        sections.append(("essence", f"Essence: {doc['essence']}"))
    if doc.get("purpose"):
        sections.append(("purpose", f"Purpose: {doc['purpose']}"))
    if doc.get("principles"):
        sections.append(
            ("principles", "Principles:\n" + "\n".join(f"- {p}" for p in doc["principles"]))
        )
    if doc.get("values"):
        values = "; ".join(
            v["name"] + (f" ({v['description']})" if v.get("description") else "")
            for v in doc["values"]
        )
        sections.append(("values", f"Values: {values}"))
    style = doc.get("communication_style") or {}
    if style:
        parts = [
            f"{k}: {style[k]}" for k in ("tone", "verbosity", "formality", "notes") if style.get(k)
        ]
        sections.append(("communication_style", "Communication style: " + ", ".join(parts)))
    if doc.get("relationships"):
        lines = [
            f"- {r['name']}"
            + (f" ({r['kind']})" if r.get("kind") else "")
            + (f": {r['notes']}" if r.get("notes") else "")
            for r in doc["relationships"]
        ]
        sections.append(("relationships", "Relationships:\n" + "\n".join(lines)))
    arc = doc.get("current_arc") or {}
    if arc.get("title") or arc.get("description"):
        text = " — ".join(t for t in (arc.get("title"), arc.get("description")) if t)
        sections.append(("current_arc", f"Current arc: {text}"))
    return [
        Item(layer="identity", kind="identity", id=name, line=line, reasons={"section": name})
        for name, line in sections
    ]


# --- Events --------------------------------------------------------------------------------------


def _event_item(layer: str, event: Event) -> Item:
    who = event.role or event.event_type
    when = event.occurred_at.strftime("%Y-%m-%d %H:%M")
    return Item(
        layer=layer,
        kind="event",
        id=str(event.pk),
        line=f"[{when}] {who}: {_clip(event.content)}",
        at=event.occurred_at,
        reasons={"session_id": event.session_id, "occurred_at": event.occurred_at.isoformat()},
    )


def _events(spirit: Spirit):
    return Event.objects.filter(spirit=spirit).only(
        "id", "role", "event_type", "content", "occurred_at", "session_id"
    )


def session_items(spirit: Spirit, session_id: str | None, limit: int) -> list[Item]:
    """The session's newest `limit` events (newest first: the budget keeps the latest)."""
    if not session_id or limit == 0:
        return []
    events = _events(spirit).filter(session_id=session_id).order_by("-occurred_at", "-id")
    return [_event_item("session", e) for e in events[:limit]]


def pending_items(spirit: Spirit, session_id: str | None, limit: int) -> list[Item]:
    """Events not yet synthesized (outside the current session), newest first."""
    if limit == 0:
        return []
    events = _events(spirit).filter(synthesized_at__isnull=True)
    if session_id:
        events = events.exclude(session_id=session_id)
    return [_event_item("pending", e) for e in events.order_by("-occurred_at", "-id")[:limit]]


# --- Knowledge, lessons, memories ----------------------------------------------------------------


def _knowledge_line(k: Knowledge) -> str:
    return f"- {_clip(k.content)}"


def _lesson_line(lesson: Lesson) -> str:
    return f"- {_clip(lesson.statement)}"


def _memory_line(m: Memory) -> str:
    text = m.content if len(m.content) <= LINE_MAX_CHARS else (m.summary or m.content)
    when = (m.time_end or m.created_at).strftime("%Y-%m-%d")
    return f"- [{when}] {_clip(text)}"


KINDS = {
    # layer: (search kind, model, live filter, line, terms)
    "knowledge": (
        "knowledge",
        Knowledge,
        Q(valid_to__isnull=True),
        _knowledge_line,
        lambda k: (DEFAULT_IMPORTANCE, k.confidence, k.valid_from or k.created_at, 0.0),
    ),
    "lessons": (
        "lessons",
        Lesson,
        ~Q(status=LessonStatus.RETIRED),
        _lesson_line,
        lambda lesson: (DEFAULT_IMPORTANCE, lesson.confidence, lesson.created_at, 0.0),
    ),
    "memories": (
        "memories",
        Memory,
        Q(status__in=MEMORY_STATUSES),
        _memory_line,
        lambda m: (m.importance, m.confidence, m.time_end or m.created_at, m.decay),
    ),
}
_ORDER_WITHOUT_QUERY = {
    "knowledge": (("-confidence", "-created_at"),),
    "lessons": (("-confidence", "-created_at"),),
    "memories": (("-importance", "-created_at"), ("-created_at",)),
}


class Retrieval:
    """The retrieval of a pack's knowledge, lessons and memories for a query, started early:
    the query is embedded in the background from construction on, while the compiler reads the
    identity and the events; then both lists of the three kinds in two statements
    (search.candidate_lists)."""

    def __init__(self, spirit: Spirit, query: str, limits: dict[str, int]):
        self.spirit = spirit
        self.limits = {layer: limits[layer] for layer in KINDS}
        self.depths = {
            KINDS[layer][0]: candidate_depth(limit) for layer, limit in self.limits.items() if limit
        }
        self.query = SearchQuery(text=query, kinds=tuple(self.depths) or ("memories",)).validated()
        self.weights = resolve_weights(spirit, self.query)
        self.embedding = (
            QueryEmbedding(self.query.text) if self.depths and self.weights.vector > 0 else None
        )

    def candidates(self) -> dict[str, dict[Any, Fused]]:
        """Per layer, its best 2 x limit candidates (id -> fused hit): both lists of every kind
        read at once (two statements), each list as deep as retrieval goes for k = limit
        (2 x limit, at least DEPTH_MIN)."""
        by_layer: dict[str, dict[Any, Fused]] = {layer: {} for layer in KINDS}
        if not self.depths:
            return by_layer
        lists = candidate_lists(self.spirit, self.query, self.depths, self.weights, self.embedding)
        kind_layer = {kind: layer for layer, (kind, *_) in KINDS.items()}
        for hit in fuse(lists.vector, lists.text, self.weights):
            layer = kind_layer[hit.kind]
            if len(by_layer[layer]) < 2 * self.limits[layer]:
                by_layer[layer][hit.id] = hit
        return by_layer


def scored_items(
    spirit: Spirit,
    *,
    retrieval: Retrieval | None,
    limits: dict[str, int],
    weights: dict[str, float],
    now: datetime,
) -> dict[str, list[Item]]:
    """Knowledge, lessons and memories, each list sorted by score (best first); by retrieval
    for a query (`retrieval`), else the most confident / important and newest."""
    candidates = retrieval.candidates() if retrieval is not None else None
    result: dict[str, list[Item]] = {}
    for layer, (_kind, model, live, line, terms_of) in KINDS.items():
        limit = limits[layer]
        if limit == 0:
            result[layer] = []
            continue
        fused: dict[Any, Fused] = {}
        if candidates is not None:
            fused = candidates[layer]
            if not fused:
                result[layer] = []
                continue
            rows = model.objects.filter(live, spirit=spirit, pk__in=list(fused))
        else:
            ids: dict[Any, None] = {}
            for order in _ORDER_WITHOUT_QUERY[layer]:
                qs = model.objects.filter(live, spirit=spirit).order_by(*order)
                ids.update(dict.fromkeys(qs.values_list("id", flat=True)[: 3 * limit]))
            rows = model.objects.filter(pk__in=list(ids))
        rows = rows.defer("embedding", "search_vector")
        best = max((h.score for h in fused.values()), default=0.0) or 1.0
        items = []
        for row in rows:
            importance, confidence, moment, decay = terms_of(row)
            hit = fused.get(row.pk)
            terms = {
                "importance": importance,
                "confidence": confidence,
                "recency": recency(moment, now),
                "decay": 1.0 - decay,
                "similarity": (hit.score / best) if hit else 0.0,
            }
            reasons = {name: round(value, 4) for name, value in terms.items()}
            reasons["decay"] = round(decay, 4)
            if hit is not None:
                reasons.update({k: v for k, v in hit.reasons.as_dict().items() if v is not None})
            items.append(
                Item(
                    layer=layer,
                    kind=model.__name__.lower(),
                    id=str(row.pk),
                    line=line(row),
                    score=round(score(terms, weights, with_query=candidates is not None), 6),
                    reasons=reasons,
                )
            )
        result[layer] = sorted(items, key=lambda i: (-i.score, i.id))
    return result
