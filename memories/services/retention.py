"""Retention: a team's `retention_days` removes what is older, and what only that supported.

For each spirit of the team (soft-deleted ones too), in one transaction per spirit:
- events with `occurred_at` before now - retention_days are hard-deleted with their vectors
  and provenance links; sessions are recounted, and a session left with no event is deleted;
- a memory is removed when it has provenance and *every* event it came from is removed, unless
  it is pinned. A memory with no events at all (explicit, or made by a curator) is kept: it
  is not supported by old events, it stands on its own. A pinned memory stays (without the
  links to the removed events);
- knowledge and lessons are removed by the same rule one level up: when they have source
  memories and every one of them is removed (items with no source memory are kept);
- context packs older than the cutoff are removed (they hold copies of texts).
The removed memories, knowledge and lessons keep content-free PURGE entries in the audit log
(reason "retention: older than N days"), and their earlier entries are scrubbed to ids,
actions and times. A log line gives the counts; a "purge.completed" webhook (scope
"retention") reports them once per team run that removed anything.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from events.models import Event, Session
from events.services._spirit import spirit_lock
from events.services.sessions import sessions_recompute
from spirits.models import Spirit
from teams.actors import Actor
from teams.models import Team

from .. import audit, webhooks
from ..models import (
    AuditAction,
    AuditEntry,
    ContextPack,
    Knowledge,
    KnowledgeMemory,
    Lesson,
    LessonMemory,
    Memory,
    MemoryEvent,
)
from .purge import bulk_delete, delete_events, delete_knowledge, delete_lessons, delete_memories

logger = logging.getLogger(__name__)

RETENTION = Actor.system("retention")


def teams_with_retention() -> list:
    return list(Team.objects.filter(retention_days__isnull=False).values_list("pk", flat=True))


def retention_apply(*, team: Team, now: datetime | None = None) -> dict[str, int]:
    """Apply the team's retention (see the module docstring). Returns the counts removed."""
    if not team.retention_days:
        return {}
    now = now or timezone.now()
    cutoff = now - timedelta(days=team.retention_days)
    reason = f"retention: older than {team.retention_days} days"
    old = Event.all_objects.filter(spirit=OuterRef("pk"), occurred_at__lt=cutoff)
    old_packs = ContextPack.objects.filter(spirit=OuterRef("pk"), created_at__lt=cutoff)
    spirits = (
        Spirit.all_objects.filter(team=team)
        .filter(Exists(old) | Exists(old_packs))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    totals: Counter = Counter()
    for spirit_id in spirits:
        totals.update(_apply_spirit(spirit_id, team.pk, cutoff, reason))
    counts = {label: n for label, n in sorted(totals.items()) if n}
    logger.info(
        "retention of team %s (%d days, before %s): %s",
        team.slug,
        team.retention_days,
        cutoff.isoformat(),
        counts or "nothing to remove",
    )
    if counts:
        with transaction.atomic():
            webhooks.emit_purge_completed(
                team_id=team.pk,
                spirit_id=None,
                scope="retention",
                counts=counts,
                retention_days=team.retention_days,
                cutoff=cutoff.isoformat(),
            )
    return counts


def _only_supported_by(model, link, field: str, spirit_id, memory_ids: list) -> list:
    """Items of `model` with source memories, all of which are among `memory_ids`."""
    if not memory_ids:
        return []
    removed = link.objects.filter(**{field: OuterRef("pk")}, memory_id__in=memory_ids)
    kept = link.objects.filter(**{field: OuterRef("pk")}).exclude(memory_id__in=memory_ids)
    rows = model.all_objects.filter(spirit_id=spirit_id).filter(Exists(removed))
    return list(rows.exclude(Exists(kept)).values_list("pk", flat=True))


@transaction.atomic
def _apply_spirit(spirit_id, team_id, cutoff: datetime, reason: str) -> Counter:
    from ..dreamer.run import lock_spirit  # the dreamer builds on the services

    spirit_lock(spirit_id=spirit_id)  # ingest, soft delete, restore wait (events lock order)
    lock_spirit(spirit_id)  # and a dream or rollback
    events = Event.all_objects.filter(spirit_id=spirit_id, occurred_at__lt=cutoff)
    old_link = MemoryEvent.objects.filter(memory=OuterRef("pk"), event__occurred_at__lt=cutoff)
    new_link = MemoryEvent.objects.filter(memory=OuterRef("pk"), event__occurred_at__gte=cutoff)
    memory_ids = list(
        Memory.all_objects.filter(spirit_id=spirit_id, pinned=False)
        .filter(Exists(old_link))
        .exclude(Exists(new_link))
        .values_list("pk", flat=True)
    )
    knowledge_ids = _only_supported_by(
        Knowledge, KnowledgeMemory, "knowledge", spirit_id, memory_ids
    )
    lesson_ids = _only_supported_by(Lesson, LessonMemory, "lesson", spirit_id, memory_ids)
    session_ids = set(events.exclude(session_id="").values_list("session_id", flat=True))

    counts: Counter = Counter()
    delete_lessons(lesson_ids, counts)
    delete_knowledge(knowledge_ids, counts)
    delete_memories(memory_ids, counts)
    delete_events(events, counts)
    counts[ContextPack._meta.label] += bulk_delete(
        ContextPack.objects.filter(spirit_id=spirit_id, created_at__lt=cutoff)
    )
    if session_ids:
        sessions_recompute(spirit_id=spirit_id, session_ids=session_ids)
        empty = Session.objects.filter(spirit_id=spirit_id, session_id__in=session_ids).exclude(
            Exists(Event.all_objects.filter(spirit_id=spirit_id, session_id=OuterRef("session_id")))
        )
        counts[Session._meta.label] += bulk_delete(empty)

    for object_type, ids in (
        ("memory", memory_ids),
        ("knowledge", knowledge_ids),
        ("lesson", lesson_ids),
    ):
        if not ids:
            continue
        audit.scrub(AuditEntry.objects.filter(object_type=object_type, object_id__in=ids))
        audit.record_bare(
            object_type=object_type,
            object_ids=ids,
            spirit_id=spirit_id,
            team_id=team_id,
            action=AuditAction.PURGE,
            actor=RETENTION,
            reason=reason,
        )
    return counts
