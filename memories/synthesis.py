"""Synthesis: a spirit's pending events become episodic memories, with provenance.

An event is *pending* while it is live and `synthesized_at` is NULL. A per-spirit gate
(`synthesis_due`) decides when enough has accumulated; `synthesize_spirit` then locks the pending
events (skipping rows another worker holds), groups them into episodes, writes one memory per
episode (linked to its events, so the time span follows) and marks exactly those events
synthesized — all in one transaction, so an event is never synthesized twice, even with two
workers racing on one spirit, and a crash in the middle leaves everything pending.

Offline and deterministic: the memory is an extractive digest of its events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import Count, Min, Sum
from django.utils import timezone

from events.models import Event
from spirits.models import Spirit
from teams.actors import Actor

from .models import Memory, MemorySource, MemoryType
from .services.memories import memory_create

ACTOR = Actor.system("synthesis")
LINE_MAX_CHARS = 500
CONTENT_MAX_CHARS = 20_000
SUMMARY_MAX_CHARS = 200
DEFAULT_IMPORTANCE = 0.5
CONFIDENCE = 0.7


@dataclass(frozen=True, slots=True)
class GateResult:
    due: bool
    score: float
    reasons: dict[str, float]


def pending_events(spirit_id: UUID | str):
    """The spirit's live events not yet synthesized (the partial index event_pending_synth_idx)."""
    return Event.objects.filter(spirit_id=spirit_id, synthesized_at__isnull=True)


def _score(
    cfg: dict[str, Any], *, count: int, tokens: int, oldest: datetime | None, now: datetime
) -> GateResult:
    if not cfg["enabled"] or count == 0:
        return GateResult(False, 0.0, {"time": 0.0, "events": 0.0, "tokens": 0.0})
    idle_minutes = max(0.0, (now - oldest).total_seconds() / 60) if oldest else 0.0
    reasons = {
        "time": cfg["time_weight"] * min(1.0, idle_minutes / cfg["max_idle_minutes"]),
        "events": cfg["event_weight"] * min(1.0, count / cfg["max_pending_events"]),
        "tokens": cfg["token_weight"] * min(1.0, tokens / cfg["max_pending_tokens"]),
    }
    score = sum(reasons.values())
    return GateResult(score >= cfg["threshold"], score, reasons)


def synthesis_due(spirit: Spirit, now: datetime | None = None) -> GateResult:
    """Whether `spirit` has accumulated enough pending events to synthesize them.

    With the spirit's `synthesis` config (spirits.config)::

        score = time_weight  * min(1, minutes since the oldest pending event / max_idle_minutes)
              + event_weight * min(1, pending events / max_pending_events)
              + token_weight * min(1, pending tokens / max_pending_tokens)

    Due when score >= threshold. Never due when `enabled` is false or nothing is pending.
    `reasons` holds each weighted term ("time", "events", "tokens").
    """
    now = now or timezone.now()
    agg = pending_events(spirit.pk).aggregate(
        count=Count("id"), tokens=Sum("token_count"), oldest=Min("occurred_at")
    )
    return _score(
        spirit.effective_config["synthesis"],
        count=agg["count"],
        tokens=agg["tokens"] or 0,
        oldest=agg["oldest"],
        now=now,
    )


def group_episodes(events: Sequence[Event], gap_minutes: int) -> list[list[Event]]:
    """Episodes: events of one session_id (no session is a group of its own), in time order,
    split wherever consecutive events are more than `gap_minutes` apart. Ordered by start."""
    gap = timedelta(minutes=gap_minutes)
    by_session: dict[str, list[Event]] = {}
    for event in sorted(events, key=lambda e: (e.occurred_at, str(e.pk))):
        by_session.setdefault(event.session_id, []).append(event)
    episodes: list[list[Event]] = []
    for session_events in by_session.values():
        current = [session_events[0]]
        for event in session_events[1:]:
            if event.occurred_at - current[-1].occurred_at > gap:
                episodes.append(current)
                current = []
            current.append(event)
        episodes.append(current)
    return sorted(episodes, key=lambda ep: (ep[0].occurred_at, str(ep[0].pk)))


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _line(event: Event) -> str:
    who = event.role or event.event_type
    return f"{who}: {_clip(event.meta_summary or event.content, LINE_MAX_CHARS)}"


def episode_memory_data(episode: Sequence[Event]) -> dict[str, Any]:
    """The fields of the memory of one episode: an extractive digest, one line per event."""
    lines: list[str] = []
    used = 0
    for index, event in enumerate(episode):
        line = _line(event)
        if used + len(line) + 1 > CONTENT_MAX_CHARS:
            lines.append(f"… ({len(episode) - index} more events)")
            break
        lines.append(line)
        used += len(line) + 1
    scores = [e.importance_score for e in episode if e.importance_score is not None]
    session_id = episode[0].session_id
    return {
        "memory_type": MemoryType.EPISODIC,
        "source_type": MemorySource.EXTRACTION,
        "content": "\n".join(lines),
        "summary": _clip(" ".join(lines), SUMMARY_MAX_CHARS),
        "subject": session_id[:255],
        "importance": max(scores) if scores else DEFAULT_IMPORTANCE,
        "confidence": CONFIDENCE,
        "metadata": {"synthesis": {"event_count": len(episode), "session_id": session_id}},
    }


@transaction.atomic
def synthesize_spirit(
    *, spirit_id: UUID | str, now: datetime | None = None, force: bool = False, limit: int = 1000
) -> list[Memory]:
    """Turn the spirit's pending events (at most `limit`, oldest first) into episodic memories.

    Locks the pending events it can get (`SKIP LOCKED`: a concurrent run keeps the others),
    re-checks the gate on those (unless `force`), writes one memory per episode and marks the
    events synthesized. Returns the new memories (none when the spirit is gone, disabled, or
    the gate says not yet). Idempotent: a second call finds nothing pending.
    """
    now = now or timezone.now()
    spirit = Spirit.objects.filter(pk=spirit_id).first()
    if spirit is None:
        return []
    cfg = spirit.effective_config["synthesis"]
    if not cfg["enabled"]:
        return []
    events = list(
        pending_events(spirit.pk)
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("occurred_at", "id")[:limit]
    )
    if not events:
        return []
    if not force:
        gate = _score(
            cfg,
            count=len(events),
            tokens=sum(e.token_count for e in events),
            oldest=events[0].occurred_at,
            now=now,
        )
        if not gate.due:
            return []
    memories = []
    for episode in group_episodes(events, cfg["episode_gap_minutes"]):
        memories.append(
            memory_create(
                spirit=spirit,
                data=episode_memory_data(episode),
                actor=ACTOR,
                event_ids=[e.pk for e in episode],
                reason=f"synthesis of {len(episode)} events",
            )
        )
    Event.all_objects.filter(pk__in=[e.pk for e in events]).update(synthesized_at=now)
    from .tasks import enqueue_extraction  # tasks imports this module

    enqueue_extraction(m.pk for m in memories)
    return memories


def spirits_with_pending_events(limit: int | None = None) -> list[UUID]:
    """Ids of live spirits that have pending events (for the sweep)."""
    ids = (
        Event.objects.filter(synthesized_at__isnull=True, spirit__deleted_at__isnull=True)
        .values_list("spirit_id", flat=True)
        .distinct()
        .order_by("spirit_id")
    )
    return list(ids[:limit] if limit else ids)
