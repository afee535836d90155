"""Deep sleep: near-duplicate memories found by embedding similarity, and their merged text.

Which memories: a spirit's *mergeable* memories — live, active or decaying, not pinned, with a
current embedding (`embedding_stale` false). Each *probe* (every mergeable memory, or the
DREAM_MERGE_PROBES most recently changed ones) asks the HNSW index for its NEIGHBOURS nearest
mergeable memories of the same type; a pair with cosine similarity >= `merge_similarity` (spirit
config) is a near-duplicate.
Pairs join into clusters (union-find, at most MAX_CLUSTER memories each).

The merged text keeps every fact verbatim:
- offline (no language model): the members' lines in time order, each line kept once (compared
  lowercased with spaces collapsed), so nothing any member said is lost and nothing is repeated;
  the summary is the longest member summary;
- with a language model: it is asked for a consolidated `content` and `summary` that keep every
  fact verbatim; the answer is used only if every number of the sources appears in it, else
  (and on any permanent model error) the offline text is used.

Planning reads only (no locks) and may call the model, so it runs outside the dream's
transaction; the dream re-checks each cluster under its locks before merging.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from pgvector.django import CosineDistance

from elephantasm.ai.llm import PermanentLanguageModelError
from memories.models import Memory, MemoryStatus

from ..llm_calls import language_model

logger = logging.getLogger(__name__)

NEIGHBOURS = 8
MAX_CLUSTER = 8
MERGEABLE_STATUSES = (MemoryStatus.ACTIVE, MemoryStatus.DECAYING)
SUMMARY_MAX_CHARS = 500
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")

CONSOLIDATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["content", "summary"],
    "properties": {
        "content": {"type": "string", "minLength": 1, "maxLength": 20_000},
        "summary": {"type": "string", "maxLength": SUMMARY_MAX_CHARS},
    },
}
CONSOLIDATION_PROMPT = (
    "You consolidate near-duplicate memories of an AI agent into one memory. Keep every fact, "
    "name, number, date and quotation exactly as written (verbatim); drop only repetition. "
    "`content` is the consolidated memory, `summary` one or two sentences."
)


@dataclass(frozen=True, slots=True)
class MergePlan:
    memory_ids: tuple[UUID, ...]
    similarity: float  # the lowest similarity of the pairs that joined the cluster
    data: dict[str, Any]  # content and summary of the merged memory
    method: str  # "offline" or the language model's name


def mergeable(spirit_id):
    return Memory.objects.filter(
        spirit_id=spirit_id,
        status__in=MERGEABLE_STATUSES,
        pinned=False,
        embedding__isnull=False,
        embedding_stale=False,
    )


def _neighbours(spirit_id, probe: dict, threshold: float) -> list[tuple[UUID, float]]:
    rows = (
        mergeable(spirit_id)
        .filter(memory_type=probe["memory_type"])
        .exclude(pk=probe["id"])
        .annotate(distance=CosineDistance("embedding", probe["embedding"]))
        .order_by("distance")
        .values_list("id", "distance")[:NEIGHBOURS]
    )
    return [(pk, 1.0 - d) for pk, d in rows if 1.0 - d >= threshold]


def near_duplicate_pairs(spirit_id, *, threshold: float) -> list[tuple[UUID, UUID, float]]:
    """(a, b, similarity) pairs of near-duplicates among the spirit's mergeable memories."""
    probes = (
        mergeable(spirit_id)
        .order_by("-updated_at", "id")
        .values("id", "memory_type", "embedding")[: settings.DREAM_MERGE_PROBES]
    )
    pairs = []
    with transaction.atomic(), connection.cursor() as cursor:
        # Iterative scans: the spirit and status filters still get their NEIGHBOURS rows.
        cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        for probe in probes:
            for other, similarity in _neighbours(spirit_id, probe, threshold):
                pairs.append((probe["id"], other, similarity))
    return pairs


def clusters(pairs: Iterable[tuple[UUID, UUID, float]]) -> list[tuple[list[UUID], float]]:
    """Union-find over the pairs, strongest first; no cluster grows past MAX_CLUSTER. Each
    cluster comes with the lowest similarity that joined it; ordered by their first member."""
    parent: dict[UUID, UUID] = {}
    size: dict[UUID, int] = {}
    weakest: dict[UUID, float] = {}

    def root(x: UUID) -> UUID:
        parent.setdefault(x, x)
        size.setdefault(x, 1)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b, similarity in sorted(pairs, key=lambda p: (-p[2], str(p[0]), str(p[1]))):
        ra, rb = root(a), root(b)
        if ra == rb or size[ra] + size[rb] > MAX_CLUSTER:
            continue
        parent[rb] = ra
        size[ra] += size[rb]
        weakest[ra] = min(similarity, weakest.get(ra, 1.0), weakest.get(rb, 1.0))
    groups: dict[UUID, list[UUID]] = {}
    for x in list(parent):
        groups.setdefault(root(x), []).append(x)
    found = [
        (sorted(members, key=str), weakest[r]) for r, members in groups.items() if len(members) > 1
    ]
    return sorted(found, key=lambda c: str(c[0][0]))


def _key(line: str) -> str:
    return " ".join(line.lower().split())


def offline_text(memories: Sequence[Memory]) -> dict[str, Any]:
    """Every distinct line of the memories (oldest first), and the longest summary."""
    ordered = sorted(
        memories, key=lambda m: (m.time_start or m.created_at, m.created_at, str(m.pk))
    )
    seen: set[str] = set()
    lines = []
    for memory in ordered:
        for line in memory.content.splitlines():
            key = _key(line)
            if key and key not in seen:
                seen.add(key)
                lines.append(line.rstrip())
    summary = max((m.summary for m in ordered), key=len, default="")
    return {"content": "\n".join(lines), "summary": summary}


def keeps_numbers(sources: Sequence[Memory], text: str) -> bool:
    wanted = {n for m in sources for n in _NUMBER.findall(m.content)}
    return wanted <= set(_NUMBER.findall(text))


def consolidated_text(memories: Sequence[Memory], spirit_id) -> tuple[dict[str, Any], str]:
    """(content and summary, method) for merging `memories`: by the model when one is
    configured and its answer keeps the sources' numbers, else offline."""
    model = language_model()
    if model is None:
        return offline_text(memories), "offline"
    sources = "\n\n".join(f"[{i + 1}] {m.content}" for i, m in enumerate(memories))
    try:
        answer = model.complete_json(
            system=CONSOLIDATION_PROMPT,
            user=sources,
            schema=CONSOLIDATION_SCHEMA,
            purpose="dream",
            spirit_id=spirit_id,
        )
    except PermanentLanguageModelError as exc:
        logger.warning("consolidation by %s failed, merged offline: %s", model.model, exc)
        return offline_text(memories), "offline"
    if not keeps_numbers(memories, answer["content"]):
        logger.warning("consolidation by %s dropped numbers, merged offline", model.model)
        return offline_text(memories), "offline"
    return answer, model.model


def plan_merges(spirit_id, *, threshold: float) -> list[MergePlan]:
    """The merges a dream of the spirit would make now (reads only; may call the model)."""
    plans = []
    for ids, similarity in clusters(near_duplicate_pairs(spirit_id, threshold=threshold)):
        members = list(Memory.objects.filter(pk__in=ids))
        data, method = consolidated_text(members, spirit_id)
        plans.append(MergePlan(tuple(ids), similarity, data, method))
    return plans
