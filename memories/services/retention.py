"""Retention: a team's `retention_days` removes what is older, and what only that supported.

For each spirit of the team (soft-deleted ones too), in transactions of at most BATCH_SIZE rows
of a kind (memories first, then events, then context packs, until none is left):
- events with `occurred_at` before now - retention_days are hard-deleted with their vectors
  and provenance links; sessions are recounted, and a session left with no event is deleted;
- a memory is removed when it has provenance and *every* event it came from is removed, unless
  it is pinned. A memory with no events at all (explicit, or made by a curator) is kept: it
  is not supported by old events, it stands on its own. A pinned memory stays (without the
  links to the removed events);
- knowledge and lessons are removed by the same rule one level up: when they have source
  memories and every one of them is removed (items with no source memory are kept);
- context packs are removed when they are older than the cutoff, or when they quote (in their
  items and text) a removed event, memory, knowledge item or lesson: a pack is a copy of texts,
  so keeping it would keep what was removed. Packs are compiled on demand and only a short
  history is kept, so removing one loses no data;
- webhook deliveries are removed (with their attempts) when their payload holds the state of a
  removed memory or knowledge item, as the object that changed or as a related one: the
  delivery record would otherwise keep the removed content (a pending one is not sent).
The removed memories, knowledge and lessons keep content-free PURGE entries in the audit log
(reason "retention: older than N days"), and their earlier entries are scrubbed to ids,
actions and times. A log line gives the counts; a "purge.completed" webhook (scope
"retention") reports them once per team run that removed anything.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from events.models import Event, Session
from events.services.sessions import sessions_recompute
from spirits.locks import lock_spirit_curation, lock_spirit_events
from spirits.models import Spirit
from teams.actors import Actor
from teams.models import Team
from teams.webhooks.models import WebhookAttempt, WebhookDelivery

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
from .purge import (
    delete_events,
    delete_knowledge,
    delete_lessons,
    delete_memories,
    delete_rows,
    delete_where,
)

logger = logging.getLogger(__name__)

RETENTION = Actor.system("retention")
# Rows of one kind (memories, events, context packs) deleted per transaction: a large spirit is
# worked through in many short transactions, not one that holds its locks for minutes.
BATCH_SIZE = 1000


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


QUOTED_KINDS = ("event", "memory", "knowledge", "lesson")  # ContextPack.items kinds with an id
_PACK_QUOTES_SQL = f"""
    SELECT pack.id, item ->> 'kind', item ->> 'id'
    FROM {ContextPack._meta.db_table} AS pack,
        jsonb_array_elements(
            CASE jsonb_typeof(pack.items) WHEN 'array' THEN pack.items ELSE '[]'::jsonb END
        ) AS item
    WHERE pack.spirit_id = %s AND item ->> 'kind' = ANY(%s)
"""  # noqa: S608 - the table name is the model's, not input


def _packs_quoting(spirit_id, removed: dict[str, list]) -> set:
    """Ids of the spirit's context packs with an item that is one of the removed rows
    (`removed`: {kind: ids})."""
    kinds = [kind for kind in QUOTED_KINDS if removed.get(kind)]
    if not kinds:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(_PACK_QUOTES_SQL, [spirit_id, kinds])
        quotes = cursor.fetchall()
    gone = {kind: {str(i) for i in ids} for kind, ids in removed.items()}
    return {pack_id for pack_id, kind, item_id in quotes if _as_id(item_id) in gone[kind]}


def _as_id(text) -> str | None:
    try:
        return str(uuid.UUID(text))
    except (TypeError, ValueError, AttributeError):
        return None  # not an id: quotes nothing retention removes


def _deliveries_carrying(spirit_id, ids: list) -> list:
    """Ids of the spirit's webhook deliveries whose payload holds the state of one of `ids`:
    as the object that changed (`data.object_id`) or a related one (`data.related_states`)."""
    if not ids:
        return []
    keys = [str(i) for i in ids]
    carrying = Q(payload__data__object_id__in=keys) | Q(
        payload__data__related_states__has_any_keys=keys
    )
    rows = WebhookDelivery.objects.filter(spirit_id=spirit_id).filter(carrying)
    return list(rows.values_list("pk", flat=True))


def _apply_spirit(spirit_id, team_id, cutoff: datetime, reason: str) -> Counter:
    """Retention of one spirit, in transactions of at most BATCH_SIZE rows of a kind: first the
    memories only old events support, then the old events, then the old context packs, each
    batch after batch until none is left."""
    counts: Counter = Counter()
    for step in (_memory_batch, _event_batch, _pack_batch):
        while (batch := step(spirit_id, team_id, cutoff, reason)) is not None:
            counts.update(batch)
    return counts


def _lock(spirit_id) -> None:
    lock_spirit_events(spirit_id)  # ingest, soft delete, restore wait
    lock_spirit_curation(spirit_id)  # and a dream or rollback


def _removable_memories(spirit_id, cutoff: datetime) -> QuerySet:
    """The spirit's memories with provenance, all of it older than the cutoff, not pinned."""
    old_link = MemoryEvent.objects.filter(memory=OuterRef("pk"), event__occurred_at__lt=cutoff)
    new_link = MemoryEvent.objects.filter(memory=OuterRef("pk"), event__occurred_at__gte=cutoff)
    return (
        Memory.all_objects.filter(spirit_id=spirit_id, pinned=False)
        .filter(Exists(old_link))
        .exclude(Exists(new_link))
        .order_by()
        .values_list("pk", flat=True)
    )


@transaction.atomic
def _memory_batch(spirit_id, team_id, cutoff: datetime, reason: str) -> Counter | None:
    """Up to BATCH_SIZE removable memories, with what only they support. They go before their
    events: without its events a memory has no provenance left, and would stay."""
    _lock(spirit_id)
    memory_ids = list(_removable_memories(spirit_id, cutoff)[:BATCH_SIZE])
    if not memory_ids:
        return None
    return _remove_memories(spirit_id, team_id, memory_ids, reason)


@transaction.atomic
def _event_batch(spirit_id, team_id, cutoff: datetime, reason: str) -> Counter | None:
    """Up to BATCH_SIZE old events, with their vectors and provenance links; their sessions are
    recounted, emptied ones deleted. A memory made from them since the memory batches (synthesis
    runs between two transactions) goes first, as those did."""
    _lock(spirit_id)
    events = Event.all_objects.filter(spirit_id=spirit_id, occurred_at__lt=cutoff)
    event_ids = list(events.order_by().values_list("pk", flat=True)[:BATCH_SIZE])
    if not event_ids:
        return None
    counts: Counter = Counter()
    late = list(_removable_memories(spirit_id, cutoff).filter(event_links__event_id__in=event_ids))
    if late:
        counts.update(_remove_memories(spirit_id, team_id, list(set(late)), reason))
    session_ids = set(
        Event.all_objects.filter(pk__in=event_ids)
        .exclude(session_id="")
        .values_list("session_id", flat=True)
    )
    pack_ids = _packs_quoting(spirit_id, {"event": event_ids})  # before the events go
    delete_events("id", event_ids, counts)
    if pack_ids:
        delete_rows(ContextPack.objects.filter(pk__in=pack_ids), counts)
    if session_ids:
        sessions_recompute(spirit_id=spirit_id, session_ids=session_ids)
        empty = Session.objects.filter(spirit_id=spirit_id, session_id__in=session_ids).exclude(
            Exists(Event.all_objects.filter(spirit_id=spirit_id, session_id=OuterRef("session_id")))
        )
        delete_rows(empty, counts)
    return counts


@transaction.atomic
def _pack_batch(spirit_id, team_id, cutoff: datetime, reason: str) -> Counter | None:
    """Up to BATCH_SIZE context packs older than the cutoff."""
    _lock(spirit_id)
    old = ContextPack.objects.filter(spirit_id=spirit_id, created_at__lt=cutoff)
    pack_ids = list(old.order_by().values_list("pk", flat=True)[:BATCH_SIZE])
    if not pack_ids:
        return None
    counts: Counter = Counter()
    delete_rows(ContextPack.objects.filter(pk__in=pack_ids), counts)
    return counts


def _remove_memories(spirit_id, team_id, memory_ids: list, reason: str) -> Counter:
    """Delete the memories, the knowledge and lessons only they support, the context packs
    quoting any of them and the webhook deliveries holding their states; leave one purge entry
    per memory, item and lesson, and scrub their earlier ones."""
    knowledge_ids = _only_supported_by(
        Knowledge, KnowledgeMemory, "knowledge", spirit_id, memory_ids
    )
    lesson_ids = _only_supported_by(Lesson, LessonMemory, "lesson", spirit_id, memory_ids)
    removed = {"memory": memory_ids, "knowledge": knowledge_ids, "lesson": lesson_ids}
    pack_ids = _packs_quoting(spirit_id, removed)
    delivery_ids = _deliveries_carrying(spirit_id, [*memory_ids, *knowledge_ids, *lesson_ids])

    counts: Counter = Counter()
    delete_lessons(lesson_ids, counts)
    delete_knowledge(knowledge_ids, counts)
    delete_memories(memory_ids, counts)
    if pack_ids:
        delete_rows(ContextPack.objects.filter(pk__in=pack_ids), counts)
    if delivery_ids:
        delete_rows(WebhookAttempt.objects.filter(delivery_id__in=delivery_ids), counts)
        delete_where(WebhookDelivery, "id", delivery_ids, counts)
    for object_type, ids in removed.items():
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
