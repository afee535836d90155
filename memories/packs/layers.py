"""The candidates of each layer of a pack, as rendered lines with their scores and reasons
(the identity's in `identity`, the past events' in `past`).

With a query, past events, knowledge, lessons and memories come from hybrid retrieval (one
embedding of the query for all four kinds); without one, knowledge, lessons and memories come
from the spirit's most confident / most important and newest items. Only what an agent should
see: live rows; knowledge currently valid; lessons not retired; memories active or decaying (not
archived, superseded or disputed).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from django.db import models
from django.db.models import F, Q
from django.db.models.expressions import ExpressionWrapper
from django.db.models.functions import Cast, Coalesce

from elephantasm.text import truncate_words
from events.models import Event
from spirits.models import Spirit

from ..models import (
    UNEXPIRED,
    Knowledge,
    Lesson,
    LessonStatus,
    Memory,
    MemoryStatus,
)
from ..retrieval import SearchQuery, fuse
from ..retrieval.fusion import Fused
from ..retrieval.kinds import Columns
from ..retrieval.search import (
    QueryEmbedding,
    candidate_depth,
    candidate_lists,
    resolve_weights,
)
from . import reads
from .dates import resolve as resolve_dates
from .scoring import DEFAULT_IMPORTANCE, recency, usable_weights, weighted

# A line's content in full up to this many characters (then cut on a word); its summary is the
# short form when the full line does not fit.
LINE_MAX_CHARS = 2000
MEMORY_STATUSES = (MemoryStatus.ACTIVE, MemoryStatus.DECAYING)
HEADINGS = {
    "identity": "## Who you are",
    "session": "## This session so far",
    "pending": "## Recent events (not yet in long-term memory)",
    "knowledge": "## What you know",
    "lessons": "## Lessons you learned",
    "memories": "## Relevant memories",
    "past": "## Relevant past events",
}


@dataclass(slots=True)
class Item:
    layer: str
    kind: str  # identity, event, knowledge, lesson, memory
    id: str | None
    line: str
    score: float | None = None
    reasons: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None  # sorts session, past and pending lines in time order
    tokens: int = 0
    # The line with summaries for full contents, taken when the line does not fit ("" = none).
    short: str = ""


def _clip(text: str) -> str:
    return truncate_words(text, LINE_MAX_CHARS)


def day(moment: datetime) -> str:
    """'8 May 2023': the date as people write it (an agent answers "when" questions with it)."""
    return f"{moment.day} {moment.strftime('%B %Y')}"


def _short(full: str, short: str) -> str:
    """`short` when it is shorter than `full`, else "" (no short form)."""
    return short if short and len(short) < len(full) else ""


# --- Events --------------------------------------------------------------------------------------


def speaker(event: Event) -> str:
    """Who an event is from: its author, else its role, else its type."""
    return event.author or event.role or event.event_type


def _event_item(layer: str, event: Event) -> Item:
    when = f"{day(event.occurred_at)}, {event.occurred_at.strftime('%H:%M')}"
    content = resolve_dates(_clip(event.content), event.occurred_at)
    line = f"[{when}] {speaker(event)}: {content}"
    summary = resolve_dates(event.meta_summary, event.occurred_at)
    short = f"[{when}] {speaker(event)}: {summary}" if event.meta_summary else ""
    return Item(
        layer=layer,
        kind="event",
        id=str(event.pk),
        line=line,
        short=_short(line, short),
        at=event.occurred_at,
        reasons={"session_id": event.session_id, "occurred_at": event.occurred_at.isoformat()},
    )


def session_items(spirit: Spirit, session_id: str | None, limit: int) -> list[Item]:
    """The session's newest `limit` events (newest first: the budget keeps the latest)."""
    if not session_id or limit == 0:
        return []
    events = reads.event_rows("session", spirit.pk, session_id, limit)
    return [_event_item("session", e) for e in events]


def pending_items(spirit: Spirit, session_id: str | None, limit: int) -> list[Item]:
    """Events not yet synthesized (outside the current session), newest first."""
    if limit == 0:
        return []
    which = "pending_outside" if session_id else "pending"
    return [
        _event_item("pending", e) for e in reads.event_rows(which, spirit.pk, session_id, limit)
    ]


# --- Knowledge, lessons, memories ----------------------------------------------------------------


def _plain_line(content: str, summary: str, moment: datetime) -> tuple[str, str]:
    return f"- {_clip(content)}", ""


# A text that says its own date ("On 4 December 2026: ...", as synthesis writes them).
_DATED = re.compile(r"On \d{1,2} [A-Z][a-z]+ \d{4}\b")


def _memory_line(content: str, summary: str, moment: datetime) -> tuple[str, str]:
    def dated(text: str) -> str:
        return f"- {text}" if _DATED.match(text) else f"- [{day(moment)}] {text}"

    line = dated(_clip(content))
    return line, _short(line, dated(summary) if summary else "")


def _float(value: float) -> Cast:
    return Cast(models.Value(value), output_field=models.FloatField())


@dataclass(frozen=True, slots=True)
class ScoredKind:
    search_kind: str
    model: type[models.Model]
    live: Q  # what an agent should see
    # (content, summary, moment) -> the rendered line and its short form ("" when none)
    line: Callable[[str, str, datetime], tuple[str, str]]
    # The same columns for every kind (`ROW_COLUMNS`): what the line and the score terms need.
    columns: dict[str, Any]


ROW_COLUMNS = ("content", "summary", "importance", "confidence", "moment", "decay")
KINDS = {
    "knowledge": ScoredKind(
        "knowledge",
        Knowledge,
        Q(valid_to__isnull=True),
        _plain_line,
        {
            "content": F("content"),
            "summary": models.Value(""),
            "importance": _float(DEFAULT_IMPORTANCE),
            "confidence": F("confidence"),
            "moment": Coalesce("valid_from", "created_at"),
            "decay": _float(0.0),
        },
    ),
    "lessons": ScoredKind(
        "lessons",
        Lesson,
        ~Q(status=LessonStatus.RETIRED),
        _plain_line,
        {
            "content": F("statement"),
            "summary": models.Value(""),
            "importance": _float(DEFAULT_IMPORTANCE),
            "confidence": F("confidence"),
            "moment": F("created_at"),
            "decay": _float(0.0),
        },
    ),
    "past": ScoredKind(
        "events",
        Event,
        Q(deleted_at__isnull=True),
        _plain_line,  # past.past_items writes these lines
        {
            "content": F("content"),
            "summary": F("meta_summary"),
            "importance": Coalesce("importance_score", _float(DEFAULT_IMPORTANCE)),
            "confidence": _float(1.0),
            "moment": F("occurred_at"),
            "decay": _float(0.0),
        },
    ),
    "memories": ScoredKind(
        "memories",
        Memory,
        Q(status__in=MEMORY_STATUSES) & UNEXPIRED,
        _memory_line,
        {
            "content": F("content"),
            "summary": F("summary"),
            "importance": F("importance"),
            "confidence": F("confidence"),
            "moment": Coalesce("time_end", "created_at"),
            "decay": F("decay"),
        },
    ),
}


@cache
def _columns(layer: str) -> Columns:
    """The columns of an item of `layer` as retrieval reads them with its candidates: the
    ROW_COLUMNS, then whether the row is live (`ScoredKind.live`)."""
    kind = KINDS[layer]
    live = ExpressionWrapper(kind.live, output_field=models.BooleanField())
    return (*((f"row_{name}", kind.columns[name]) for name in ROW_COLUMNS), ("row_live", live))


_ORDER_WITHOUT_QUERY = {
    "knowledge": (("-confidence", "-created_at"),),
    "lessons": (("-confidence", "-created_at"),),
    "memories": (("-importance", "-created_at"), ("-created_at",)),
}


def _newest_rows(layer: str, spirit: Spirit, limit: int) -> list[tuple]:
    """Without a query: (id, *ROW_COLUMNS) of the 3 x `limit` first live rows of each order of
    the layer (the most confident / important, the newest), each row once."""
    kind = KINDS[layer]
    columns = dict(_columns(layer)[: len(ROW_COLUMNS)])
    found: dict[Any, tuple] = {}
    for order in _ORDER_WITHOUT_QUERY[layer]:
        rows = (
            kind.model.objects.filter(kind.live, spirit=spirit)
            .order_by(*order)
            .annotate(**columns)
            .values_list("pk", *columns)[: 3 * limit]
        )
        found.update((row[0], row) for row in rows)
    return list(found.values())


class Retrieval:
    """The retrieval of a pack's knowledge, lessons and memories for a query, started early:
    the query is embedded in the background from construction on, while the compiler reads the
    identity and the events; then both lists of the three kinds in two statements
    (search.candidate_lists), which also read what each item is made of (`_columns`)."""

    def __init__(self, spirit: Spirit, query: str, limits: dict[str, int]):
        self.spirit = spirit
        self.limits = {layer: limits[layer] for layer in KINDS}
        self.depths = {
            KINDS[layer].search_kind: candidate_depth(limit)
            for layer, limit in self.limits.items()
            if limit
        }
        self.query = SearchQuery(text=query, kinds=tuple(self.depths) or ("memories",)).validated()
        self.weights = resolve_weights(spirit, self.query)
        self.embedding = (
            QueryEmbedding(self.query.text) if self.depths and self.weights.vector > 0 else None
        )

    def candidates(self) -> dict[str, dict[Any, tuple[Fused, tuple | None]]]:
        """Per layer, its best 2 x limit candidates (id -> (fused hit, its ROW_COLUMNS or None
        when the row is not live)): both lists of every kind read at once (two statements),
        each list as deep as retrieval goes for k = limit (2 x limit, at least DEPTH_MIN).
        A knowledge item, lesson or memory is a candidate only if it ranks among the first
        `depth` (the deepest layer's) of the vector or the text list across kinds."""
        by_layer: dict[str, dict[Any, tuple[Fused, tuple | None]]] = {layer: {} for layer in KINDS}
        if not self.depths:
            return by_layer
        kind_layer = {kind.search_kind: layer for layer, kind in KINDS.items()}
        columns = {kind: _columns(layer) for kind, layer in kind_layer.items()}
        lists = candidate_lists(
            self.spirit, self.query, self.depths, self.weights, self.embedding, columns
        )
        # Knowledge, lessons and memories must rank among the first `depth` of either list
        # across kinds (as a search would): a layer is not filled with what matches nothing.
        ranked = {
            (h.kind, h.id)
            for h in fuse(lists.vector, lists.text, self.weights, depth=max(self.depths.values()))
        }
        for hit in fuse(lists.vector, lists.text, self.weights):
            layer = kind_layer[hit.kind]
            if layer != "past" and (hit.kind, hit.id) not in ranked:
                continue
            if len(by_layer[layer]) < 2 * self.limits[layer]:
                *values, live = lists.extra[hit.kind, hit.id]
                by_layer[layer][hit.id] = (hit, tuple(values) if live else None)
        return by_layer


def scored_items(
    spirit: Spirit,
    *,
    candidates: dict[str, dict[Any, tuple[Fused, tuple | None]]] | None,
    limits: dict[str, int],
    weights: dict[str, float],
    now: datetime,
) -> dict[str, list[Item]]:
    """Knowledge, lessons and memories, each list sorted by score (best first); by retrieval
    for a query (`candidates`: `Retrieval.candidates()`), else the most confident / important
    and newest."""
    used = usable_weights(weights, with_query=candidates is not None)
    result: dict[str, list[Item]] = {}
    for layer, kind in KINDS.items():
        limit = limits[layer]
        fused: dict[Any, Fused] = {}
        if layer == "past":  # relevance only: the compiler asks past.past_items
            continue
        if limit == 0:
            found: list[tuple] = []
        elif candidates is not None:
            fused = {pk: hit for pk, (hit, _) in candidates[layer].items()}
            found = [(pk, *values) for pk, (_, values) in candidates[layer].items() if values]
        else:
            found = _newest_rows(layer, spirit, limit)
        best = max((h.score for h in fused.values()), default=0.0) or 1.0
        item_kind = kind.model.__name__.lower()
        items = []
        for pk, content, summary, importance, confidence, moment, decay in found:
            hit = fused.get(pk)
            terms = {
                "importance": importance,
                "confidence": confidence,
                "recency": recency(moment, now),
                "decay": 1.0 - decay,
                "similarity": (hit.score / best) if hit else 0.0,
            }
            reasons = {name: round(value, 4) for name, value in terms.items()}
            line, short = kind.line(content, summary, moment)
            reasons["decay"] = round(decay, 4)
            if hit is not None:
                reasons.update({k: v for k, v in hit.reasons.as_dict().items() if v is not None})
            items.append(
                Item(
                    layer=layer,
                    kind=item_kind,
                    id=str(pk),
                    line=line,
                    short=short,
                    score=round(weighted(terms, used), 6),
                    reasons=reasons,
                )
            )
        result[layer] = sorted(items, key=lambda i: (-i.score, i.id))
    return result
