"""The score of a knowledge item, lesson or memory in a pack.

    score = (w_importance · importance + w_confidence · confidence + w_recency · recency
             + w_decay · (1 - decay) + w_similarity · similarity) / (sum of the weights)

each term in [0, 1], so the score is too:
- importance: the memory's importance (knowledge and lessons: DEFAULT_IMPORTANCE);
- confidence: the item's confidence;
- recency = 0.5 ^ (age in days / RECENCY_HALF_LIFE_DAYS), the age counted from the item's
  latest time (a memory's time_end, else its creation; knowledge's valid_from, else creation);
- decay: the Dreamer's decay of a memory (knowledge and lessons: 0);
- similarity: with a query, the item's fused retrieval score divided by the best fused score
  of its layer (1 for the best match, 0 when retrieval did not find it); without a query, 0
  (and the weight of similarity is dropped from the sum).

Default weights per preset are in `presets.PRESETS` (conversational: importance 0.2,
confidence 0.1, recency 0.35, decay 0.15, similarity 0.2; focused: 0.15, 0.15, 0.1, 0.1, 0.5).
"""

from __future__ import annotations

from datetime import datetime

RECENCY_HALF_LIFE_DAYS = 14.0
DEFAULT_IMPORTANCE = 0.5


def recency(moment: datetime | None, now: datetime) -> float:
    if moment is None:
        return 0.0
    age_days = max(0.0, (now - moment).total_seconds() / 86_400.0)
    return 0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS)


def score(terms: dict[str, float], weights: dict[str, float], *, with_query: bool) -> float:
    """The weighted mean of `terms` (importance, confidence, recency, decay as 1 - decay
    already, similarity); similarity is left out without a query."""
    return weighted(terms, usable_weights(weights, with_query=with_query))


def usable_weights(weights: dict[str, float], *, with_query: bool) -> dict[str, float]:
    """The weights `score` uses (those > 0; not similarity without a query), once per pack."""
    return {k: w for k, w in weights.items() if w > 0 and (with_query or k != "similarity")}


def weighted(terms: dict[str, float], used: dict[str, float]) -> float:
    """`score` with `used` from `usable_weights`."""
    total = sum(used.values())
    if total == 0:
        return 0.0
    return sum(w * terms[k] for k, w in used.items()) / total
