"""Pack presets: the weights of the score, the item limits and the token shares of each layer.

Layers, in the order they are filled and rendered: identity, session (the current session's
recent events), pending (events not yet synthesized), knowledge (currently valid), lessons,
memories (long-term).

Budget rules: each layer is allotted floor(share · max_tokens) tokens, plus whatever the layers
before it left unused (unused tokens flow down the order, so a pack without a session gives its
session share to the pending events, and so on). A layer takes its items in its own order
(identity: document order; session and pending: newest first, rendered oldest first; the
others: by score) while they fit; an item that does not fit is skipped, a shorter later one may
still fit. Every rendered token counts: the layer headings and the items' lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LAYERS = ("identity", "session", "pending", "knowledge", "lessons", "memories")
WEIGHT_NAMES = ("importance", "confidence", "recency", "decay", "similarity")
LIMIT_MAX = 200


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    weights: dict[str, float]
    limits: dict[str, int]
    shares: dict[str, float] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    "conversational": Preset(
        name="conversational",
        description="For the next turn of a conversation: the session and what is recent weigh "
        "most; relevance to the query still counts.",
        weights={
            "importance": 0.2,
            "confidence": 0.1,
            "recency": 0.35,
            "decay": 0.15,
            "similarity": 0.2,
        },
        limits={
            "identity": 7,
            "session": 20,
            "pending": 20,
            "knowledge": 10,
            "lessons": 5,
            "memories": 10,
        },
        shares={
            "identity": 0.10,
            "session": 0.35,
            "pending": 0.15,
            "knowledge": 0.15,
            "lessons": 0.05,
            "memories": 0.20,
        },
    ),
    "focused": Preset(
        name="focused",
        description="For answering a query: relevance weighs most, long-term knowledge and "
        "memories get most of the budget.",
        weights={
            "importance": 0.15,
            "confidence": 0.15,
            "recency": 0.1,
            "decay": 0.1,
            "similarity": 0.5,
        },
        limits={
            "identity": 7,
            "session": 6,
            "pending": 6,
            "knowledge": 15,
            "lessons": 5,
            "memories": 20,
        },
        shares={
            "identity": 0.10,
            "session": 0.10,
            "pending": 0.05,
            "knowledge": 0.25,
            "lessons": 0.10,
            "memories": 0.40,
        },
    ),
}
DEFAULT_PRESET = "conversational"
