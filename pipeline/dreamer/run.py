"""Dream sessions: queue one, run it, and find the spirits due for one.

A run (`dream_run`) is one transaction under a per-spirit advisory lock, in three passes:
1. expiry — memories whose `expires_at` has passed are archived;
2. fading — every active or decaying memory gets its decay, tier and status (`decay`);
3. merging — near-duplicate clusters (`consolidate`, planned before the transaction because it
   may call a language model) are merged by `memory_merge`, after re-checking under lock that at
   least two members are still mergeable.
Pinned memories are skipped by every pass. Each change is a DreamAction with the memory's
tracked state before and after (what `rollback` needs to undo it exactly) and its reasoning;
tier, status and merge changes are also audited (actor "dreamer"); a decay-only change is not
(decay is derived, like the embedding). A crash rolls the whole run back and leaves the session
queued, so a redelivered task runs it again; a bug marks it failed.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, Min, OuterRef, Q
from django.utils import timezone

from elephantasm.api.errors import Conflict, SpiritPaused
from elephantasm.tasks import TRANSIENT_ERRORS
from events.models import Event
from memories import webhooks
from memories.models import (
    AuditAction,
    DreamAction,
    DreamActionKind,
    DreamSession,
    DreamStatus,
    DreamTrigger,
    Memory,
    MemoryStatus,
)
from memories.services.common import transition
from memories.services.memories import memory_merge
from spirits.locks import lock_spirit_curation
from spirits.models import CURATED_STATUSES, Spirit, SpiritStatus
from teams.actors import Actor

from ..flow import enqueue_dream
from . import consolidate, decay

DREAMER = Actor.system("dreamer")
FADING_STATUSES = (MemoryStatus.ACTIVE, MemoryStatus.DECAYING)
EXPIRING_STATUSES = (MemoryStatus.ACTIVE, MemoryStatus.DECAYING, MemoryStatus.DISPUTED)
CHUNK = 2000


def tracked(memory: Memory) -> dict[str, Any]:
    """The state a dream may change (and a rollback restores)."""
    return {
        "decay": memory.decay,
        "tier": memory.tier,
        "status": memory.status,
        "superseded_by_id": str(memory.superseded_by_id) if memory.superseded_by_id else None,
    }


def dream_request(*, spirit: Spirit, trigger: str, actor: Actor) -> DreamSession:
    """Queue a dream of the spirit (run by a worker after commit). Conflict (409) when one is
    already queued, with its id in details["existing_id"]; SpiritPaused when it is paused."""
    if spirit.status == SpiritStatus.PAUSED:
        raise SpiritPaused(spirit.pk)
    try:
        with transaction.atomic():
            session = DreamSession.objects.create(
                spirit=spirit,
                trigger=trigger,
                actor_type=actor.type,
                actor_id=actor.id,
                actor_label=actor.label,
            )
    except IntegrityError:
        existing = DreamSession.objects.filter(spirit=spirit, status=DreamStatus.QUEUED).first()
        raise Conflict(
            "A dream of this spirit is already queued.",
            details={"existing_id": str(existing.pk) if existing else None},
        ) from None
    enqueue_dream(session.pk)
    return session


def first_memory_at(spirit_id) -> datetime | None:
    return Memory.all_objects.filter(spirit_id=spirit_id).aggregate(at=Min("created_at"))["at"]


def last_dream_at(spirit_id) -> datetime | None:
    return DreamSession.objects.filter(spirit_id=spirit_id, status=DreamStatus.COMPLETED).aggregate(
        at=Max("finished_at")
    )["at"]


def dream_run(*, session_id, now: datetime | None = None) -> DreamSession | None:
    """Run a queued session (see the module docstring). Idempotent: a session that is no longer
    queued is returned as it is. Returns None when the session does not exist."""
    session = DreamSession.objects.filter(pk=session_id).select_related("spirit").first()
    if session is None or session.status != DreamStatus.QUEUED:
        return session
    if not session.spirit.is_curated:
        return session  # stays queued: it runs when the spirit is active again (stale_queued)
    cfg = session.spirit.effective_config["dreamer"]
    try:
        plans = (
            consolidate.plan_merges(session.spirit_id, threshold=cfg["merge_similarity"])
            if cfg["merge"]
            else []
        )
        return _run(session.pk, cfg, plans, now or timezone.now())
    except TRANSIENT_ERRORS:
        raise  # the task retries; the session stays queued
    except Exception as exc:
        DreamSession.objects.filter(pk=session.pk, status=DreamStatus.QUEUED).update(
            status=DreamStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        raise


@transaction.atomic
def _run(session_id, cfg: dict[str, Any], plans, now: datetime) -> DreamSession:
    session = DreamSession.objects.select_for_update().get(pk=session_id)
    if session.status != DreamStatus.QUEUED:
        return session
    lock_spirit_curation(session.spirit_id)
    session.started_at = timezone.now()
    stats: Counter = Counter()
    actions: list[DreamAction] = []
    _expire(session, now, actions, stats)
    _fade(session, cfg, now, actions, stats)
    for plan in plans:
        _merge(session, plan, actions, stats)
    DreamAction.objects.bulk_create(actions, batch_size=1000)
    session.status = DreamStatus.COMPLETED
    session.finished_at = timezone.now()
    session.stats = {
        key: stats[key]
        for key in (
            "considered",
            "decayed",
            "tier_moves",
            "decaying",
            "revived",
            "archived",
            "expired",
            "merges",
            "merged_memories",
        )
    }
    session.save()
    webhooks.emit_dream_completed(session)
    return session


def _live(spirit_id):
    return Memory.objects.filter(spirit_id=spirit_id, pinned=False)


def _action(session, memory_id, kind, before, after, reasoning, related_ids=()) -> DreamAction:
    return DreamAction(
        session=session,
        memory_id=memory_id,
        kind=kind,
        before=before,
        after=after,
        reasoning=reasoning,
        related_ids=[str(i) for i in related_ids],
    )


def _expire(session, now, actions, stats) -> None:
    expired = _live(session.spirit_id).filter(status__in=EXPIRING_STATUSES, expires_at__lte=now)
    for memory in expired.order_by("expires_at", "id"):
        before = tracked(memory)
        reasoning = f"expired at {memory.expires_at.isoformat()}"
        memory = transition(
            memory,
            AuditAction.ARCHIVE,
            DREAMER,
            f"dream {session.pk}: {reasoning}",
            status=MemoryStatus.ARCHIVED,
        )
        actions.append(
            _action(session, memory.pk, DreamActionKind.EXPIRE, before, tracked(memory), reasoning)
        )
        stats["expired"] += 1


def _fade(session, cfg, now, actions, stats) -> None:
    memories = _live(session.spirit_id).filter(status__in=FADING_STATUSES).order_by("id")
    decay_only: list[Memory] = []
    fields = ("created_at", "time_end", "last_accessed_at", "access_count", "importance")
    memories = memories.only(*fields, "decay", "tier", "status", "superseded_by")
    for memory in memories.iterator(chunk_size=CHUNK):
        stats["considered"] += 1
        new = decay.fade(
            now=now,
            created_at=memory.created_at,
            time_end=memory.time_end,
            last_accessed_at=memory.last_accessed_at,
            access_count=memory.access_count,
            importance=memory.importance,
            status=memory.status,
            cfg=cfg,
        )
        moved = (new.tier, new.status) != (memory.tier, memory.status)
        if not moved and abs(new.decay - memory.decay) < decay.DECAY_STEP:
            continue
        before = tracked(memory)
        reasoning = (
            f"retention {1 - new.decay:.2f} ({memory.access_count} uses, importance "
            f"{memory.importance:.2f}): decay {memory.decay:.2f} → {new.decay:.2f}"
        )
        if moved:
            reasoning += f", {memory.tier}/{memory.status} → {new.tier}/{new.status}"
            action = (
                AuditAction.ARCHIVE if new.status == MemoryStatus.ARCHIVED else AuditAction.UPDATE
            )
            memory = transition(
                Memory(pk=memory.pk),
                action,
                DREAMER,
                f"dream {session.pk}: {reasoning}",
                decay=new.decay,
                tier=new.tier,
                status=new.status,
            )
            _count_move(before, memory, stats)
        else:
            memory.decay = new.decay
            decay_only.append(memory)
        stats["decayed"] += 1
        actions.append(
            _action(session, memory.pk, DreamActionKind.FADE, before, tracked(memory), reasoning)
        )
        if len(decay_only) >= CHUNK:
            Memory.all_objects.bulk_update(decay_only, ["decay"])
            decay_only = []
    if decay_only:
        Memory.all_objects.bulk_update(decay_only, ["decay"])


def _count_move(before: dict, memory: Memory, stats: Counter) -> None:
    if before["tier"] != memory.tier:
        stats["tier_moves"] += 1
    if before["status"] != memory.status:
        stats[
            {
                MemoryStatus.DECAYING: "decaying",
                MemoryStatus.ACTIVE: "revived",
                MemoryStatus.ARCHIVED: "archived",
            }[memory.status]
        ] += 1


def _merge(session, plan: consolidate.MergePlan, actions, stats) -> None:
    members = list(
        consolidate.mergeable(session.spirit_id)
        .filter(pk__in=plan.memory_ids)
        .select_for_update()
        .order_by("pk")
    )
    if len(members) < 2:
        return
    data = plan.data
    if len(members) != len(plan.memory_ids):  # some changed since planning: their text goes
        data = consolidate.offline_text(members)
    before = {str(m.pk): tracked(m) for m in members}
    reasoning = (
        f"{len(members)} near-duplicates (cosine similarity ≥ {plan.similarity:.3f}), "
        f"consolidated {'offline' if plan.method == 'offline' else 'by ' + plan.method}"
    )
    merged = memory_merge(
        memories=members, actor=DREAMER, data=data, reason=f"dream {session.pk}: {reasoning}"
    )
    # Its facts were drawn from the sources already.
    Memory.all_objects.filter(pk=merged.pk).update(extracted_at=timezone.now())
    after_sources = {
        str(m.pk): tracked(m) for m in Memory.all_objects.filter(pk__in=[m.pk for m in members])
    }
    actions.append(
        _action(
            session,
            merged.pk,
            DreamActionKind.MERGE,
            {"sources": before},
            {
                "memory": {**tracked(merged), "updated_at": merged.updated_at.isoformat()},
                "sources": after_sources,
            },
            reasoning,
            related_ids=[m.pk for m in members],
        )
    )
    stats["merges"] += 1
    stats["merged_memories"] += len(members)


# --- Schedule ------------------------------------------------------------------------------------


def spirits_due(now: datetime | None = None, limit: int = 500) -> list[Spirit]:
    """Live spirits whose dreamer is enabled, that last dreamed `schedule_hours` ago or never,
    have been idle (no event) for `idle_minutes` — or, busy or not, last dreamed (or got their
    first memory) `max_interval_hours` ago —, have memories, and have no dream queued."""
    now = now or timezone.now()
    candidates = (
        Spirit.objects.filter(status__in=CURATED_STATUSES)
        .filter(Exists(Memory.objects.filter(spirit=OuterRef("pk"))))
        .exclude(Exists(DreamSession.objects.filter(spirit=OuterRef("pk"), status="queued")))
        .order_by("id")
    )
    due = []
    for spirit in candidates.iterator():
        cfg = spirit.effective_config["dreamer"]
        if not cfg["enabled"]:
            continue
        last = last_dream_at(spirit.pk)
        if last is not None and now - last < timedelta(hours=cfg["schedule_hours"]):
            continue
        since = last or first_memory_at(spirit.pk)
        overdue = since is not None and now - since >= timedelta(hours=cfg["max_interval_hours"])
        quiet_since = now - timedelta(minutes=cfg["idle_minutes"])
        busy = Event.objects.filter(spirit=spirit, created_at__gt=quiet_since).exists()
        if busy and not overdue:
            continue
        due.append(spirit)
        if len(due) >= limit:
            break
    return due


def stale_queued(now: datetime | None = None) -> list[DreamSession]:
    """Queued sessions older than DREAM_REQUEUE_MINUTES (their task was lost): to re-enqueue."""
    cutoff = (now or timezone.now()) - timedelta(minutes=settings.DREAM_REQUEUE_MINUTES)
    return list(
        DreamSession.objects.filter(
            Q(status=DreamStatus.QUEUED),
            created_at__lt=cutoff,
            spirit__status__in=CURATED_STATUSES,
        ).order_by("created_at")[:500]
    )


def schedule_dreams(now: datetime | None = None) -> int:
    """Queue a scheduled dream for each spirit due, re-enqueue lost ones. Returns how many."""
    count = 0
    for spirit in spirits_due(now):
        try:
            dream_request(spirit=spirit, trigger=DreamTrigger.SCHEDULE, actor=DREAMER)
            count += 1
        except Conflict:
            continue
    for session in stale_queued(now):
        enqueue_dream(session.pk)
        count += 1
    return count
