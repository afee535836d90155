"""Pack presets: the weights of the score, the item limits and the token shares of each layer.

Layers, in the order they are filled and rendered:
- identity: who the spirit is;
- session: the current session's latest events;
- past: with a query, the events most relevant to it from any time or session, dated
  (`past.py`), with a neighbouring turn where a hit needs it;
- knowledge: currently valid facts (closed or superseded ones never);
- lessons: not retired;
- memories: long-term memories (active or decaying), dated;
- pending: the newest events not yet synthesized (outside the session).

Budget rules: each layer is allotted floor(share · max_tokens) tokens, plus whatever the layers
before it left unused (unused tokens flow down the order: without a session its share goes to
the relevant past events; without a query the past layer is empty and its share goes to
knowledge, lessons, memories, and what is left to the pending events); the tokens left after
the last layer go back to the past layer, which takes more of its relevant events while they fit
(up to its limit). With a query, knowledge, lessons and memories come only from what the search
ranks among the first of its vector or text list across kinds: a layer is left short rather than
filled with what matches nothing, and its tokens flow on. A layer takes its items
in its own order (identity: document order; session and pending: newest first; the others: best
first) while they fit: an item whose full line does not fit is taken in its short form (the
summaries of its contents; a past event without its neighbours) if that fits; an item that does
not fit at all is skipped, a shorter later one may still fit. An event shown by a layer is not
shown again by a later one, and a knowledge item, lesson or memory that says what one shown
before says (the same words, bullet and date aside: a fact and the memory it was drawn from) is
not shown. Session, past and pending lines are rendered oldest first. Every
rendered token counts: the layer headings and the items' lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LAYERS = ("identity", "session", "past", "knowledge", "lessons", "memories", "pending")
# Layers rendered oldest first (chosen newest or best first).
TIME_ORDERED = frozenset({"session", "past", "pending"})
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
            "past": 20,
            "knowledge": 10,
            "lessons": 5,
            "memories": 10,
            "pending": 20,
        },
        shares={
            "identity": 0.10,
            "session": 0.30,
            "past": 0.35,
            "knowledge": 0.10,
            "lessons": 0.05,
            "memories": 0.05,
            "pending": 0.05,
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
            "past": 30,
            "knowledge": 15,
            "lessons": 5,
            "memories": 20,
            "pending": 6,
        },
        shares={
            "identity": 0.10,
            "session": 0.10,
            "past": 0.40,
            "knowledge": 0.20,
            "lessons": 0.05,
            "memories": 0.10,
            "pending": 0.05,
        },
    ),
}
DEFAULT_PRESET = "conversational"
