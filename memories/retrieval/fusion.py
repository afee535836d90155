"""Weighted reciprocal rank fusion of a vector list and a text list.

    score(item) = vector_weight / (rrf_k + vector_rank) + text_weight / (rrf_k + text_rank)

a term counting only when the item is in that list (ranks start at 1). Ranks are across kinds:
the vector candidates of every kind are one list by cosine similarity (one model, one space), the
text candidates one list by text score, so a poor match of one kind never ties a good match of
another.

With `depth`, each list counts only its `depth` best. Every kind brings `depth` candidates to
each list, so a kind with few rows (17 facts beside 300 turns) brings all of them to both lists;
RRF rewards being in both lists so much (two ranks of 40: 2/100; rank 1 of one list: 1/61) that
weak matches of small kinds would take the places of the best turns. Cut to one depth, the lists
hold only what ranks well across kinds (`make eval`: recall_all@10 0.523 -> 0.551).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from .query import KINDS


@dataclass(slots=True)
class Reasons:
    """Why an item matched: its place and measure in each list (None: not in that list)."""

    vector_rank: int | None = None
    vector_similarity: float | None = None
    text_rank: int | None = None
    text_score: float | None = None

    def as_dict(self) -> dict:
        return {
            "vector_rank": self.vector_rank,
            "vector_similarity": self.vector_similarity,
            "text_rank": self.text_rank,
            "text_score": self.text_score,
        }


@dataclass(frozen=True, slots=True)
class Weights:
    vector: float
    text: float
    rrf_k: int


@dataclass(slots=True)
class Fused:
    kind: str
    id: UUID
    score: float
    reasons: Reasons


def fuse(
    vector: dict[str, list[tuple[UUID, float]]],
    text: dict[str, list[tuple[UUID, float]]],
    weights: Weights,
    depth: int | None = None,
) -> list[Fused]:
    """All candidates, best first. `vector` holds (id, cosine distance) per kind, `text` holds
    (id, text score: BM25, or ts_rank_cd for web-search syntax) per kind; the candidates of all
    kinds are ranked together here, ties broken by id. `depth`: how many of each list count
    (None: all).

    Ties in score go to the better single rank, then the closer vector, then kind order."""
    reasons: dict[tuple[str, UUID], Reasons] = {}
    nearest = sorted(
        ((kind, item_id, distance) for kind, rows in vector.items() for item_id, distance in rows),
        key=lambda r: (r[2], str(r[1])),
    )
    for rank, (kind, item_id, distance) in enumerate(nearest[:depth]):
        found = reasons.setdefault((kind, item_id), Reasons())
        found.vector_rank = rank + 1
        found.vector_similarity = round(1.0 - float(distance), 6)
    best_text = sorted(
        ((kind, item_id, score) for kind, rows in text.items() for item_id, score in rows),
        key=lambda r: (-r[2], str(r[1])),
    )
    for rank, (kind, item_id, score) in enumerate(best_text[:depth]):
        found = reasons.setdefault((kind, item_id), Reasons())
        found.text_rank = rank + 1
        found.text_score = round(float(score), 6)

    fused = []
    for (kind, item_id), why in reasons.items():
        score = 0.0
        if why.vector_rank is not None:
            score += weights.vector / (weights.rrf_k + why.vector_rank)
        if why.text_rank is not None:
            score += weights.text / (weights.rrf_k + why.text_rank)
        fused.append(Fused(kind, item_id, score, why))

    def order(item: Fused):
        ranks = [r for r in (item.reasons.vector_rank, item.reasons.text_rank) if r is not None]
        similarity = item.reasons.vector_similarity
        return (
            -item.score,
            min(ranks),
            -(similarity if similarity is not None else -2.0),
            KINDS.index(item.kind),
            str(item.id),
        )

    return sorted(fused, key=order)
