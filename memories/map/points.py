"""What the memory map draws: a spirit's memories and knowledge, placed by their embeddings.

`memory_map(spirit=...)` answers in at most seven queries whatever the spirit's size:

- the live (not soft-deleted) memories and knowledge of the spirit, of every status (a
  superseded or closed item is drawn, so that its line to what replaced it has both ends);
- at most `max_points` of them (MAX_POINTS, 10,000): the most important first, a memory
  weighing its importance and a knowledge item its confidence;
- items without an embedding (not embedded yet) are left out and counted, and so are those over
  the cap;
- lines between drawn items: a memory *merged into* another (the merged memory has two or more
  sources pointing to it with `superseded_by`), *superseded by* another (one source: a new
  version or a split), a knowledge item *superseded by* the fact that closed it (extraction
  closes a fact with the newer fact that contradicts it), and two memories that *contradict*
  each other (their symmetric link).

Each point carries its category under three colourings (type, tier, status), each category
its label, colour and count, so the page can draw the map and say the same in a legend.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db.models import BinaryField, Count, F, Func, Q
from django.db.models.functions import Left

from spirits.models import Spirit

from ..models import Knowledge, KnowledgeType, Memory, MemoryStatus, MemoryTier, MemoryType
from ..models.base import EMBEDDING_DIMENSIONS
from .projection import project

MAX_POINTS = 10_000
MAX_EDGES = 30_000
TEXT_CHARS = 160
_READ_CHARS = 2 * TEXT_CHARS  # what is read of a text (whitespace collapses before the cut)
MEMORY, KNOWLEDGE = 0, 1
KINDS = ("memory", "knowledge")
COLORINGS = ("type", "tier", "status")
# Distinct on white, readable for most colour-blind people first (Okabe-Ito, then Tableau).
PALETTE = (
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9", "#8c6d31", "#7f7f7f",
    "#f0e442", "#17becf", "#9467bd", "#bcbd22", "#393b79", "#e377c2",
)  # fmt: skip
EDGE_KINDS = (
    ("merge", "merged into", "#2b8a3e"),
    ("supersede", "superseded by", "#868e96"),
    ("contradiction", "contradicts", "#e03131"),
)
# A value outside the choices (a row written around the services) is drawn, in this category.
OTHER = ("other", "Other")
_EDGE_INDEX = {key: index for index, (key, _, _) in enumerate(EDGE_KINDS)}


def _categories() -> dict[str, list[tuple[str, str]]]:
    """(key, label) of every category of each colouring: memories' first, then knowledge's."""
    knowledge_types = [(f"knowledge:{k}", f"Knowledge: {n}") for k, n in KnowledgeType.choices]
    return {
        "type": [*MemoryType.choices, *knowledge_types, OTHER],
        "tier": [*MemoryTier.choices, ("knowledge", "Knowledge (no tier)"), OTHER],
        "status": [
            *MemoryStatus.choices,
            ("knowledge:current", "Knowledge: current"),
            ("knowledge:closed", "Knowledge: closed"),
            OTHER,
        ],
    }


CATEGORIES = _categories()
_CATEGORY_INDEX = {
    coloring: {key: index for index, (key, _) in enumerate(choices)}
    for coloring, choices in CATEGORIES.items()
}


def _category(coloring: str, key: str) -> int:
    found = _CATEGORY_INDEX[coloring]
    return found.get(key, found[OTHER[0]])


@dataclass
class MemoryMap:
    """`points`: one row per drawn item, [id, kind, x, y, weight, type, tier, status, text]
    (kind an index of KINDS, the three categories indexes of `categories[coloring]`), the
    most important first. `edges`: [from, to, kind] with point indexes and an index of
    `edge_kinds`. `left_out`: counts of items not drawn, and why."""

    points: list[list[Any]] = field(default_factory=list)
    edges: list[list[int]] = field(default_factory=list)
    categories: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    edge_kinds: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)
    left_out: dict[str, int] = field(default_factory=dict)
    explained: tuple[float, float] = (0.0, 0.0)
    max_points: int = MAX_POINTS


def _text(*parts: str) -> str:
    """The parts with their whitespace collapsed, cut to TEXT_CHARS (an ellipsis included)."""
    text = " ".join(" ".join(p.split()) for p in parts if p)
    return text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1].rstrip() + "…"


def _counts(model, spirit: Spirit, shown: bool) -> tuple[int, int]:
    """(live items, of which embedded) of the spirit; (0, 0) for a kind not shown."""
    if not shown:
        return 0, 0
    counted = model.objects.filter(spirit=spirit).aggregate(
        total=Count("id"), embedded=Count("id", filter=Q(embedding__isnull=False))
    )
    return counted["total"], counted["embedded"]


def _within(cutoff: tuple[float, Any] | None, weight: str) -> Q:
    """Items at or above the cutoff (ordered by weight, then id)."""
    if cutoff is None:
        return Q()
    value, pk = cutoff
    return Q(**{f"{weight}__gt": value}) | Q(**{weight: value, "id__lte": pk})


def _cutoff(spirit: Spirit, kinds: frozenset[str], limit: int) -> tuple[float, Any] | None:
    """(weight, id) of the last item that fits under the cap: the weightiest embedded items of
    `kinds` first (a memory's importance, a knowledge item's confidence), then by id."""
    parts = []
    if "memory" in kinds:
        parts.append(_embedded(Memory, spirit).annotate(weight=F("importance")))
    if "knowledge" in kinds:
        parts.append(_embedded(Knowledge, spirit).annotate(weight=F("confidence")))
    parts = [part.values_list("weight", "id") for part in parts]
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    last = list(rows.order_by("-weight", "id")[limit - 1 : limit])
    return last[0] if last else None


def _embedded(model, spirit: Spirit):
    return model.objects.filter(spirit=spirit, embedding__isnull=False)


def _vector_bytes() -> Func:
    """The embedding in pgvector's binary form (int16 dimensions, int16 unused, float4 big-endian
    values): decoded by numpy at once, where the text form costs a Python float per value."""
    return Func(F("embedding"), function="vector_send", output_field=BinaryField())


def _decode(raw: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(raw, dtype=">f4", offset=4)


def _memory_rows(spirit: Spirit, cutoff, limit: int) -> list[dict[str, Any]]:
    fields = ("id", "importance", "memory_type", "tier", "status", "superseded_by_id")
    return list(
        _embedded(Memory, spirit)
        .filter(_within(cutoff, "importance"))
        .annotate(
            vector=_vector_bytes(),
            short_summary=Left("summary", _READ_CHARS),
            excerpt=Left("content", _READ_CHARS),
        )
        .order_by("-importance", "id")
        .values(*fields, "vector", "short_summary", "excerpt")[:limit]
    )


def _knowledge_rows(spirit: Spirit, cutoff, limit: int) -> list[dict[str, Any]]:
    fields = ("id", "confidence", "knowledge_type", "topic", "valid_to", "superseded_by_id")
    return list(
        _embedded(Knowledge, spirit)
        .filter(_within(cutoff, "confidence"))
        .annotate(vector=_vector_bytes(), excerpt=Left("content", _READ_CHARS))
        .order_by("-confidence", "id")
        .values(*fields, "vector", "excerpt")[:limit]
    )


def _point_of_memory(row: dict[str, Any]) -> tuple[list[Any], list[int]]:
    categories = [
        _category("type", row["memory_type"]),
        _category("tier", row["tier"]),
        _category("status", row["status"]),
    ]
    text = row["short_summary"] or row["excerpt"]
    return [str(row["id"]), MEMORY, 0.0, 0.0, row["importance"], *categories, _text(text)], (
        categories
    )


def _point_of_knowledge(row: dict[str, Any]) -> tuple[list[Any], list[int]]:
    status = "knowledge:closed" if row["valid_to"] is not None else "knowledge:current"
    categories = [
        _category("type", f"knowledge:{row['knowledge_type']}"),
        _category("tier", "knowledge"),
        _category("status", status),
    ]
    text = _text(f"[{row['topic']}]" if row["topic"] else "", row["excerpt"])
    return [str(row["id"]), KNOWLEDGE, 0.0, 0.0, row["confidence"], *categories, text], categories


def _edges(
    spirit: Spirit, memory_rows: list[dict], knowledge_rows: list[dict], index: dict
) -> list[list[int]]:
    """Lines between drawn points (see the module's docstring), at most MAX_EDGES."""
    edges: list[list[int]] = []
    superseded = [row for row in memory_rows if row["superseded_by_id"] in index]
    merges = set()
    if superseded:  # a memory with two sources or more pointing to it is a merge
        merges = set(
            Memory.all_objects.filter(spirit=spirit, superseded_by__isnull=False)
            .values("superseded_by")
            .annotate(sources=Count("id"))
            .filter(sources__gte=2)
            .values_list("superseded_by", flat=True)
        )
    for row in superseded:
        target = row["superseded_by_id"]
        kind = "merge" if target in merges else "supersede"
        edges.append([index[row["id"]], index[target], _EDGE_INDEX[kind]])
    for row in knowledge_rows:
        if row["superseded_by_id"] in index:
            edges.append(
                [index[row["id"]], index[row["superseded_by_id"]], _EDGE_INDEX["supersede"]]
            )
    if memory_rows:
        # Driven by the link table (one join, for the spirit): a plan joining the memories
        # table twice can go quadratic on stale statistics (10,000 fresh rows: a minute).
        pairs = (
            Memory.contradicts.through.objects.filter(from_memory__spirit=spirit)
            .filter(from_memory_id__lt=F("to_memory_id"))  # the link is stored both ways
            .order_by("from_memory_id", "to_memory_id")
            .values_list("from_memory_id", "to_memory_id")[:MAX_EDGES]
        )
        contradiction = _EDGE_INDEX["contradiction"]
        edges += [
            [index[a], index[b], contradiction] for a, b in pairs if a in index and b in index
        ]
    return edges[:MAX_EDGES]


def _legend(counts: dict[str, Counter]) -> dict[str, list[dict[str, Any]]]:
    legend = {}
    for coloring, choices in CATEGORIES.items():
        legend[coloring] = [
            {
                "key": key,
                "label": str(label),
                "color": PALETTE[position % len(PALETTE)],
                "count": counts[coloring][position],
            }
            for position, (key, label) in enumerate(choices)
        ]
    return legend


def memory_map(
    *, spirit: Spirit, kinds: Iterable[str] = KINDS, max_points: int = MAX_POINTS
) -> MemoryMap:
    """The map of `spirit` (see the module's docstring): its memories, its knowledge, or both
    (`kinds`, of KINDS)."""
    kinds = frozenset(kinds)
    if not kinds or not kinds <= set(KINDS):
        raise ValueError(f"kinds must be some of {KINDS}, not {sorted(kinds)}")
    memories_total, memories_embedded = _counts(Memory, spirit, "memory" in kinds)
    knowledge_total, knowledge_embedded = _counts(Knowledge, spirit, "knowledge" in kinds)
    embedded = memories_embedded + knowledge_embedded
    cutoff = _cutoff(spirit, kinds, max_points) if embedded > max_points else None
    memory_rows = _memory_rows(spirit, cutoff, max_points) if memories_embedded else []
    knowledge_rows = _knowledge_rows(spirit, cutoff, max_points) if knowledge_embedded else []
    rows = sorted(
        [(row, row["importance"], _point_of_memory) for row in memory_rows]
        + [(row, row["confidence"], _point_of_knowledge) for row in knowledge_rows],
        key=lambda item: (-item[1], item[0]["id"]),
    )[:max_points]  # the cutoff already keeps to those that fit, but for rows written meanwhile
    memory_rows = [row for row, _, shape in rows if shape is _point_of_memory]
    knowledge_rows = [row for row, _, shape in rows if shape is _point_of_knowledge]
    points, counts = [], {coloring: Counter() for coloring in COLORINGS}
    vectors = np.zeros((len(rows), EMBEDDING_DIMENSIONS), dtype=np.float32)
    for position, (row, _, shape) in enumerate(rows):
        point, categories = shape(row)
        points.append(point)
        for coloring, category in zip(COLORINGS, categories, strict=True):
            counts[coloring][category] += 1
        vectors[position] = _decode(row["vector"])
    projection = project(vectors)
    for point, (x, y) in zip(points, projection.coordinates.tolist(), strict=True):
        point[2], point[3] = round(x, 4), round(y, 4)
    index = {row["id"]: position for position, (row, _, _) in enumerate(rows)}
    edges = _edges(spirit, memory_rows, knowledge_rows, index)
    edge_counts = Counter(kind for _, _, kind in edges)
    return MemoryMap(
        points=points,
        edges=edges,
        categories=_legend(counts),
        edge_kinds=[
            {"key": key, "label": label, "color": color, "count": edge_counts[position]}
            for position, (key, label, color) in enumerate(EDGE_KINDS)
        ],
        totals={
            "memories": memories_total,
            "knowledge": knowledge_total,
            "shown_memories": len(memory_rows),
            "shown_knowledge": len(knowledge_rows),
        },
        left_out={
            "memories_without_embedding": memories_total - memories_embedded,
            "knowledge_without_embedding": knowledge_total - knowledge_embedded,
            "over_cap": max(embedded - len(rows), 0),
        },
        explained=projection.explained,
        max_points=max_points,
    )
