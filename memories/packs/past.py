"""The past layer of a pack: the spirit's events most relevant to the query, dated.

Retrieval (layers.Retrieval) finds the events with the other kinds, across all sessions and
times; here they become lines an agent can answer from, "[8 May 2023] Caroline: ...", best match
first (the compiler renders the chosen ones in time order), relative dates resolved ("yesterday
[7 May 2023]": `dates`). An event found by its vector alone counts from a similarity of
PAST_MIN_SIMILARITY. A hit that does not stand alone brings its neighbouring turn of the same
session:
- a short one (a reply: "yes, a beagle!") the turn before it;
- a question the turn after it (the answer).
An event shown once is not shown again, as a hit or as a neighbour. The short form of an item
(taken when the budget has no room for the whole) is the hit alone, or its summary.
"""

from __future__ import annotations

from typing import Any

from events.models import Event
from events.selectors import neighbouring_turns
from spirits.models import Spirit

from ..retrieval.fusion import Fused
from . import dates
from .layers import Item, _clip, _short, day, speaker
from .reads import EVENT_LINE_FIELDS

# A hit of at most this many words is a reply that needs the turn before it.
SHORT_REPLY_WORDS = 12
# An event found only by its vector is relevant from this cosine similarity on (all-MiniLM-L6-v2:
# a question and the turn that answers it are ~0.3-0.7 apart, unrelated chat under ~0.15).
PAST_MIN_SIMILARITY = 0.2


def _relevant(hit: Fused) -> bool:
    """A text match, or a vector at least PAST_MIN_SIMILARITY near: what is only the least far
    of a few unrelated events is no relevant past."""
    reasons = hit.reasons
    return reasons.text_rank is not None or (reasons.vector_similarity or 0) >= PAST_MIN_SIMILARITY


def line(event: Event) -> str:
    content = dates.resolve(_clip(event.content), event.occurred_at)
    return f"[{day(event.occurred_at)}] {speaker(event)}: {content}"


def _summary_line(event: Event) -> str:
    summary = dates.resolve(_clip(event.meta_summary or event.content), event.occurred_at)
    return f"[{day(event.occurred_at)}] {speaker(event)}: {summary}"


def _wants(event: Event) -> tuple[bool, bool]:
    """(the turn before, the turn after): whether the hit needs them to be understood."""
    if not event.session_id:
        return False, False
    text = event.content.strip()
    return len(text.split()) <= SHORT_REPLY_WORDS, text.endswith("?")


def past_items(
    spirit: Spirit, candidates: dict[Any, tuple[Fused, tuple | None]], limit: int
) -> list[Item]:
    """The past layer's items, best first: at most `limit` hits among `candidates` (event id
    -> (fused hit, its row or None when gone)), each with the neighbours it needs."""
    ranked = [
        (pk, hit) for pk, (hit, row) in candidates.items() if row is not None and _relevant(hit)
    ]
    ranked.sort(key=lambda pair: -pair[1].score)
    ranked = ranked[:limit]
    if not ranked:
        return []
    events = {
        e.pk: e
        for e in Event.objects.filter(spirit=spirit, pk__in=[pk for pk, _ in ranked]).only(
            *EVENT_LINE_FIELDS
        )
    }
    wants = {pk: _wants(event) for pk, event in events.items()}
    near = {
        key: near_id
        for key, (near_id, _) in neighbouring_turns(
            before=[pk for pk, (before, _) in wants.items() if before],
            after=[pk for pk, (_, after) in wants.items() if after],
        ).items()
    }
    near_events = {
        e.pk: e
        for e in Event.objects.filter(pk__in=set(near.values()) - set(events)).only(
            *EVENT_LINE_FIELDS
        )
    }
    near_events.update(events)
    best = ranked[0][1].score or 1.0
    shown: set = set()
    items = []
    for pk, hit in ranked:
        event = events.get(pk)
        if event is None or pk in shown:
            continue
        context = [
            near_events[near[pk, side]]
            for side in ("before", "after")
            if (pk, side) in near and near[pk, side] not in shown and near[pk, side] in near_events
        ]
        group = sorted([event, *context], key=lambda e: (e.occurred_at, e.arrival))
        shown.update(e.pk for e in group)
        full = "\n".join(line(e) for e in group)
        short = line(event) if context else _summary_line(event)
        reasons = {k: v for k, v in hit.reasons.as_dict().items() if v is not None}
        reasons.update(
            {
                "similarity": round(hit.score / best, 4),
                "session_id": event.session_id,
                "occurred_at": event.occurred_at.isoformat(),
            }
        )
        if context:
            reasons["context"] = [str(e.pk) for e in context]
        items.append(
            Item(
                layer="past",
                kind="event",
                id=str(pk),
                line=full,
                short=_short(full, short),
                score=round(hit.score / best, 6),
                reasons=reasons,
                at=event.occurred_at,
            )
        )
    return items
