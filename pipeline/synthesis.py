"""Synthesis: a spirit's pending events become episodic memories, with provenance.

An event is *pending* while it is live and `synthesized_at` is NULL. A per-spirit gate
(`synthesis_due`) decides when enough has accumulated; `synthesize_spirit` then groups the pending
events into episodes, writes the memories of each episode (linked to their events, with their
time span) and marks exactly those events synthesized. An event is never synthesized twice, even
with two workers racing on one spirit, and a crash in the middle leaves everything pending.

Offline (no language model, the default): in one transaction, lock the pending events (skipping
rows another worker holds), group what was locked, and write each episode as memories about one
subject each, told in the third person (`pipeline.episodes`;
`metadata["synthesis"]["method"] == "offline"`).

With a language model (`pipeline.llm_calls.language_model()`), in two phases, because the
model is never called inside a transaction:
1. outside any transaction: read the pending events (oldest first, at most `limit`), check the
   gate, group the episodes and ask the model for each episode's memory (content, summary,
   subject, importance, memory type: episodic, semantic or procedural; `pipeline.prompts`);
2. in one transaction: lock those events (`SKIP LOCKED`) and write a memory only for the episodes
   whose events are *all* still pending and locked by this run; any other episode is left whole
   for the next run, never half-written.
Such a memory has `extraction_model` = the model's name and method "llm". When the model's
answers stay invalid or it refuses the request (`PermanentLanguageModelError`), that episode gets
the offline memories (method "offline", the error in `metadata["synthesis"]["llm_error"]`). When
retries run out on a passing failure (`TransientLanguageModelError`: 429, 5xx, timeouts) the error
is raised before anything is written: the events stay pending and the Celery task retries later.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import Count, Max, Min, Sum
from django.utils import timezone

from elephantasm.ai.llm import (
    ChatModel,
    PermanentLanguageModelError,
    TransientLanguageModelError,  # noqa: F401 - raised through; the tasks retry on it
)
from elephantasm.api.errors import SpiritPaused
from events.models import ARRIVAL_ORDER, Event
from memories.models import Knowledge, Memory, MemorySource, MemoryType
from memories.services.memories import memory_create
from spirits.models import CURATED_STATUSES, Spirit, SpiritStatus
from teams.actors import Actor

from .episodes import episode_memories
from .flow import enqueue_extraction, enqueue_synthesis_now
from .llm_calls import language_model
from .prompts import SYNTHESIS_SCHEMA, SYNTHESIS_SYSTEM, clean, episode_prompt

logger = logging.getLogger(__name__)
ACTOR = Actor.system("synthesis")
SUMMARY_MAX_CHARS = 200
CONFIDENCE = 0.7


@dataclass(frozen=True, slots=True)
class GateResult:
    due: bool
    score: float
    reasons: dict[str, float]
    # Which conditions hold now ("idle", "events", "tokens", "wait", "score"); any one is enough.
    triggers: tuple[str, ...] = ()
    # When the gate will be due by time alone ("idle" or "wait") if nothing else happens.
    due_at: datetime | None = None


def pending_events(spirit_id: UUID | str):
    """The spirit's live events not yet synthesized (the partial index event_pending_synth_idx)."""
    return Event.objects.filter(spirit_id=spirit_id, synthesized_at__isnull=True)


def _score(
    cfg: dict[str, Any],
    *,
    count: int,
    tokens: int,
    oldest: datetime | None,
    newest: datetime | None,
    now: datetime,
) -> GateResult:
    if not cfg["enabled"] or count == 0:
        return GateResult(False, 0.0, {"time": 0.0, "events": 0.0, "tokens": 0.0})
    waited = max(0.0, (now - oldest).total_seconds() / 60) if oldest else 0.0
    quiet = max(0.0, (now - newest).total_seconds() / 60) if newest else 0.0
    reasons = {
        "time": cfg["time_weight"] * min(1.0, waited / cfg["max_idle_minutes"]),
        "events": cfg["event_weight"] * min(1.0, count / cfg["max_pending_events"]),
        "tokens": cfg["token_weight"] * min(1.0, tokens / cfg["max_pending_tokens"]),
    }
    score = sum(reasons.values())
    holds = {
        "idle": quiet >= cfg["idle_minutes"],
        "events": count >= cfg["max_pending_events"],
        "tokens": tokens >= cfg["max_pending_tokens"],
        "wait": waited >= cfg["max_wait_minutes"],
        "score": score >= cfg["threshold"],
    }
    triggers = tuple(name for name, held in holds.items() if held)
    due_at = None
    if newest is not None and oldest is not None:
        due_at = min(
            newest + timedelta(minutes=cfg["idle_minutes"]),
            oldest + timedelta(minutes=cfg["max_wait_minutes"]),
        )
    return GateResult(bool(triggers), score, reasons, triggers, due_at)


def synthesis_due(spirit: Spirit, now: datetime | None = None) -> GateResult:
    """Whether `spirit`'s pending events should be synthesized now.

    Due when any one of these holds (the spirit's `synthesis` config, spirits.config):

    - "idle": the newest pending event is `idle_minutes` old (the conversation went quiet);
    - "events": `max_pending_events` events are pending;
    - "tokens": `max_pending_tokens` tokens are pending;
    - "wait": the oldest pending event is `max_wait_minutes` old;
    - "score": the weighted score reaches `threshold`::

        score = time_weight  * min(1, minutes since the oldest pending event / max_idle_minutes)
              + event_weight * min(1, pending events / max_pending_events)
              + token_weight * min(1, pending tokens / max_pending_tokens)

    Never due when `enabled` is false, the spirit is not active, or nothing is pending.
    `reasons` holds each weighted term, `triggers` the conditions that hold, `due_at` when time
    alone will make it due.
    """
    now = now or timezone.now()
    if not spirit.is_curated:
        return GateResult(False, 0.0, {"time": 0.0, "events": 0.0, "tokens": 0.0})
    agg = pending_events(spirit.pk).aggregate(
        count=Count("id"),
        tokens=Sum("token_count"),
        oldest=Min("occurred_at"),
        newest=Max("occurred_at"),
    )
    return _score(
        spirit.effective_config["synthesis"],
        count=agg["count"],
        tokens=agg["tokens"] or 0,
        oldest=agg["oldest"],
        newest=agg["newest"],
        now=now,
    )


def synthesis_request(*, spirit: Spirit) -> int:
    """Queue a synthesis of the spirit now, whatever its gate says (a person asked: the API's
    POST /spirits/{id}/synthesize/, the admin's action). Returns how many events are pending.
    SpiritPaused (409) for a paused spirit (an archived one is refused before, as any write)."""
    if spirit.status == SpiritStatus.PAUSED:
        raise SpiritPaused(spirit.pk)
    pending = pending_events(spirit.pk).count()
    enqueue_synthesis_now(spirit.pk, force=True)
    return pending


def due_at(*, spirit_id: UUID | str) -> datetime | None:
    """When the spirit's gate will be due by time alone, if it is not due now and something is
    pending (None otherwise: nothing to wait for, or due already, or the spirit is not active)."""
    spirit = Spirit.objects.filter(pk=spirit_id).first()
    if spirit is None:
        return None
    gate = synthesis_due(spirit)
    return None if gate.due else gate.due_at


def group_episodes(events: Sequence[Event], gap_minutes: int) -> list[list[Event]]:
    """Episodes: events of one session_id (no session is a group of its own), in time order,
    split wherever consecutive events are more than `gap_minutes` apart. Ordered by start."""
    gap = timedelta(minutes=gap_minutes)
    by_session: dict[str, list[Event]] = {}
    for event in sorted(events, key=lambda e: (e.occurred_at, e.arrival)):
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
    return sorted(episodes, key=lambda ep: (ep[0].occurred_at, ep[0].arrival))


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def known_name(spirit_id) -> str | None:
    """The user's name as the spirit knows it (its current "name" fact), if any."""
    fact = (
        Knowledge.objects.filter(spirit_id=spirit_id, topic="name", valid_to__isnull=True)
        .order_by("-created_at")
        .values_list("content", flat=True)
        .first()
    )
    match = re.match(r"^The user's name is (?P<name>.+?)\.?$", fact or "")
    return match["name"] if match else None


def model_memory_drafts(
    model: ChatModel, spirit_id, episode: Sequence[Event], name: str | None = None
) -> list[tuple[list[Event], dict[str, Any]]]:
    """The memory of one episode written by the language model; the offline memories
    (pipeline.episodes) when the model's answers stay invalid or it refuses
    (`PermanentLanguageModelError`). A `TransientLanguageModelError` is raised."""
    try:
        answer = model.complete_json(
            system=SYNTHESIS_SYSTEM,
            user=episode_prompt(episode),
            schema=SYNTHESIS_SCHEMA,
            purpose="synthesis",
            spirit_id=spirit_id,
        )
        content = clean(answer["content"])
        if not content:
            raise PermanentLanguageModelError("the memory's content was empty once cleaned")
    except PermanentLanguageModelError as exc:
        logger.warning(
            "synthesis of spirit %s: %s gave no usable memory for an episode of %d events (%s); "
            "using the offline digest",
            spirit_id,
            model.model,
            len(episode),
            exc,
        )
        drafts = episode_memories(episode, name)
        for _, data in drafts:
            data["metadata"]["synthesis"]["llm_error"] = str(exc)[:300]
        return drafts
    session_id = episode[0].session_id
    return [
        (
            list(episode),
            {
                "memory_type": answer.get("memory_type", MemoryType.EPISODIC),
                "source_type": MemorySource.EXTRACTION,
                "content": content,
                "summary": _clip(clean(answer["summary"]), SUMMARY_MAX_CHARS),
                "subject": clean(answer["subject"])[:255],
                "importance": float(answer["importance"]),
                "confidence": CONFIDENCE,
                "extraction_model": model.model[:255],
                "metadata": {
                    "synthesis": {
                        "event_count": len(episode),
                        "session_id": session_id,
                        "method": "llm",
                    }
                },
            },
        )
    ]


def synthesize_spirit(
    *, spirit_id: UUID | str, now: datetime | None = None, force: bool = False, limit: int = 1000
) -> list[Memory]:
    """Turn the spirit's pending events (at most `limit`, oldest first) into episodic memories.

    Takes only the pending events it can lock (`SKIP LOCKED`: a concurrent run keeps the others),
    checks the gate on them (unless `force`), writes one memory per episode and marks the events
    synthesized. Returns the new memories (none when the spirit is gone, disabled, or the gate
    says not yet). Idempotent: a second call finds nothing pending. With a language model, the
    model is asked outside any transaction and the writes follow (see the module docstring).
    """
    now = now or timezone.now()
    model = language_model()
    if model is None:
        return _synthesize_offline(spirit_id=spirit_id, now=now, force=force, limit=limit)
    spirit, cfg = _enabled_spirit(spirit_id)
    if spirit is None:
        return []
    events = list(pending_events(spirit.pk).order_by(*ARRIVAL_ORDER)[:limit])
    if not events or not (force or _gate(cfg, events, now).due):
        return []
    name = known_name(spirit.pk)
    drafts = [
        draft
        for episode in group_episodes(events, cfg["episode_gap_minutes"])
        for draft in model_memory_drafts(model, spirit.pk, episode, name)
    ]
    return _write_whole_episodes(spirit_id=spirit.pk, drafts=drafts, now=now)


def _enabled_spirit(spirit_id) -> tuple[Spirit | None, dict[str, Any]]:
    """The live spirit and its synthesis config; (None, {}) when it is gone, disabled, paused or
    archived."""
    spirit = Spirit.objects.filter(pk=spirit_id, status__in=CURATED_STATUSES).first()
    if spirit is None:
        return None, {}
    cfg = spirit.effective_config["synthesis"]
    return (spirit, cfg) if cfg["enabled"] else (None, {})


def _gate(cfg: dict[str, Any], events: Sequence[Event], now: datetime) -> GateResult:
    return _score(
        cfg,
        count=len(events),
        tokens=sum(e.token_count for e in events),
        oldest=min(e.occurred_at for e in events),
        newest=max(e.occurred_at for e in events),
        now=now,
    )


@transaction.atomic
def _synthesize_offline(
    *, spirit_id: UUID | str, now: datetime, force: bool, limit: int
) -> list[Memory]:
    spirit, cfg = _enabled_spirit(spirit_id)
    if spirit is None:
        return []
    events = list(
        pending_events(spirit.pk)
        .select_for_update(skip_locked=True, of=("self",))
        .order_by(*ARRIVAL_ORDER)[:limit]
    )
    if not events or not (force or _gate(cfg, events, now).due):
        return []
    name = known_name(spirit.pk)
    drafts = [
        draft
        for episode in group_episodes(events, cfg["episode_gap_minutes"])
        for draft in episode_memories(episode, name)
    ]
    return _write(spirit, drafts, now)


@transaction.atomic
def _write_whole_episodes(
    *, spirit_id: UUID | str, drafts: list[tuple[list[Event], dict[str, Any]]], now: datetime
) -> list[Memory]:
    """Write the drafts whose events are all still pending and now locked by this run."""
    spirit = Spirit.objects.filter(pk=spirit_id).first()
    if spirit is None:
        return []
    locked = set(
        pending_events(spirit_id)
        .filter(pk__in=[e.pk for episode, _ in drafts for e in episode])
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("pk", flat=True)
    )
    whole = [(ep, data) for ep, data in drafts if all(e.pk in locked for e in ep)]
    if len(whole) < len(drafts):
        logger.info(
            "synthesis of spirit %s: %d of %d episodes changed or are held by another run; "
            "left for the next run",
            spirit_id,
            len(drafts) - len(whole),
            len(drafts),
        )
    return _write(spirit, whole, now)


def _write(
    spirit: Spirit, drafts: list[tuple[list[Event], dict[str, Any]]], now: datetime
) -> list[Memory]:
    """One memory per draft, linked to its events, which are marked synthesized."""
    memories = [
        memory_create(
            spirit=spirit,
            data=data,
            actor=ACTOR,
            event_ids=[e.pk for e in episode],
            reason=f"synthesis of {len(episode)} events",
        )
        for episode, data in drafts
    ]
    Event.all_objects.filter(pk__in=[e.pk for episode, _ in drafts for e in episode]).update(
        synthesized_at=now
    )
    enqueue_extraction(m.pk for m in memories)
    return memories


def spirits_with_pending_events(limit: int | None = None) -> list[UUID]:
    """Ids of live, curated spirits that have pending events (for the sweep)."""
    ids = (
        Event.objects.filter(
            synthesized_at__isnull=True,
            spirit__deleted_at__isnull=True,
            spirit__status__in=CURATED_STATUSES,
        )
        .values_list("spirit_id", flat=True)
        .distinct()
        .order_by("spirit_id")
    )
    return list(ids[:limit] if limit else ids)
