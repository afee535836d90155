"""Purge: hard-delete a spirit and everything of it. The only hard deletion of a spirit.

Everything of the spirit is deleted in one transaction, table by table (bulk DELETEs: foreign
keys are checked at commit, so the order is free): events with their vectors, sessions,
memories (vectors are columns of their rows) with tags, provenance and links, knowledge and
lessons with their links, identity, dream sessions and actions, pipeline failures, context
packs, language-model call records, webhook deliveries; then the spirit row itself through
Django's collector, which also takes whatever else points at it. The audit log keeps its
entries of the spirit with ids, actions and times only (`audit.scrub`), plus one content-free
PURGE entry of the spirit. A "purge.completed" webhook reports the counts.
"""

from __future__ import annotations

import logging
from collections import Counter

from django.db import models, transaction

from elephantasm.api.errors import ValidationFailed
from events.models import Event, EventEmbedding, Session
from spirits.locks import lock_spirit_curation, lock_spirit_row
from spirits.models import Spirit
from teams.actors import Actor
from teams.webhooks.models import WebhookAttempt, WebhookDelivery

from .. import audit, webhooks
from ..models import (
    AuditAction,
    AuditEntry,
    ContextPack,
    DreamAction,
    DreamSession,
    Identity,
    Knowledge,
    KnowledgeMemory,
    Lesson,
    LessonMemory,
    LlmCall,
    Memory,
    MemoryEvent,
    MemoryTag,
    PipelineFailure,
)

logger = logging.getLogger(__name__)

MEMORY_LINKS = (Memory.contradicts.through, Memory.related_to.through)


def bulk_delete(queryset: models.QuerySet) -> int:
    """DELETE ... WHERE, in one statement, without loading rows or cascading in Python (the
    callers delete every dependent table themselves). Returns the number of rows."""
    return queryset.order_by()._raw_delete(queryset.db)


def delete_memories(ids, counts: Counter) -> None:
    """Memories with their tags, provenance links, links to one another and to knowledge and
    lessons; a kept memory or item that pointed at one (superseded_by) no longer does."""
    if not ids:
        return
    for through in MEMORY_LINKS:
        rows = through.objects.filter(
            models.Q(from_memory_id__in=ids) | models.Q(to_memory_id__in=ids)
        )
        counts[through._meta.label] += bulk_delete(rows)
    for model in (MemoryTag, MemoryEvent, KnowledgeMemory, LessonMemory):
        counts[model._meta.label] += bulk_delete(model.objects.filter(memory_id__in=ids))
    Memory.all_objects.filter(superseded_by_id__in=ids).exclude(pk__in=ids).update(
        superseded_by=None
    )
    counts[Memory._meta.label] += bulk_delete(Memory.all_objects.filter(pk__in=ids))


def delete_knowledge(ids, counts: Counter) -> None:
    if not ids:
        return
    counts[KnowledgeMemory._meta.label] += bulk_delete(
        KnowledgeMemory.objects.filter(knowledge_id__in=ids)
    )
    Knowledge.all_objects.filter(superseded_by_id__in=ids).exclude(pk__in=ids).update(
        superseded_by=None
    )
    counts[Knowledge._meta.label] += bulk_delete(Knowledge.all_objects.filter(pk__in=ids))


def delete_lessons(ids, counts: Counter) -> None:
    if not ids:
        return
    counts[LessonMemory._meta.label] += bulk_delete(LessonMemory.objects.filter(lesson_id__in=ids))
    counts[Lesson._meta.label] += bulk_delete(Lesson.all_objects.filter(pk__in=ids))


def delete_events(events: models.QuerySet, counts: Counter) -> None:
    """Events with their vectors and the provenance links to them."""
    ids = events.values("pk")
    counts[EventEmbedding._meta.label] += bulk_delete(
        EventEmbedding.objects.filter(event_id__in=ids)
    )
    counts[MemoryEvent._meta.label] += bulk_delete(MemoryEvent.objects.filter(event_id__in=ids))
    counts[Event._meta.label] += bulk_delete(events)


def _check_confirm(spirit: Spirit, confirm) -> None:
    if not isinstance(confirm, str) or confirm.strip() not in (spirit.name, str(spirit.pk)):
        raise ValidationFailed(
            "Confirm the purge with the spirit's name or id.",
            details={"confirm": ["Must be the spirit's name or id."]},
        )


@transaction.atomic
def spirit_purge(*, spirit: Spirit, actor: Actor, confirm: str) -> dict:
    """Hard-delete the spirit (live or soft-deleted) and everything of it; `confirm` must be
    its name or id. Returns {"spirit_id", "deleted": {model label: rows}, "audit_scrubbed"}."""
    _check_confirm(spirit, confirm)
    # FOR UPDATE waits for an ingest in flight (it holds FOR NO KEY UPDATE) and blocks new ones.
    spirit = lock_spirit_row(spirit.pk)
    lock_spirit_curation(spirit.pk)  # and for a dream or rollback of it
    sid, team_id = spirit.pk, spirit.team_id
    counts: Counter = Counter()

    delete_memories(
        list(Memory.all_objects.filter(spirit_id=sid).values_list("pk", flat=True)), counts
    )
    delete_knowledge(
        list(Knowledge.all_objects.filter(spirit_id=sid).values_list("pk", flat=True)), counts
    )
    delete_lessons(
        list(Lesson.all_objects.filter(spirit_id=sid).values_list("pk", flat=True)), counts
    )
    delete_events(Event.all_objects.filter(spirit_id=sid), counts)
    for model, rows in (
        (Session, Session.objects.filter(spirit_id=sid)),
        (Identity, Identity.objects.filter(spirit_id=sid)),
        (DreamAction, DreamAction.objects.filter(session__spirit_id=sid)),
        (DreamSession, DreamSession.objects.filter(spirit_id=sid)),
        (PipelineFailure, PipelineFailure.objects.filter(spirit_id=sid)),
        (ContextPack, ContextPack.objects.filter(spirit_id=sid)),
        (LlmCall, LlmCall.objects.filter(spirit_id=sid)),
        (WebhookAttempt, WebhookAttempt.objects.filter(delivery__spirit_id=sid)),
        (WebhookDelivery, WebhookDelivery.objects.filter(spirit_id=sid)),
    ):
        counts[model._meta.label] += bulk_delete(rows)
    _, rest = Spirit.all_objects.filter(pk=sid).delete()  # the row, and anything newer
    counts.update(rest)

    scrubbed = audit.scrub(AuditEntry.objects.filter(spirit_id=sid))
    audit.record_bare(
        object_type="spirit",
        object_ids=[sid],
        spirit_id=sid,
        team_id=team_id,
        action=AuditAction.PURGE,
        actor=actor,
    )
    deleted = {label: n for label, n in sorted(counts.items()) if n}
    logger.info(
        "spirit %s purged by %s:%s: %s; %d audit entries scrubbed",
        sid,
        actor.type,
        actor.id,
        deleted,
        scrubbed,
    )
    webhooks.emit_purge_completed(team_id=team_id, spirit_id=sid, scope="spirit", counts=deleted)
    return {"spirit_id": str(sid), "deleted": deleted, "audit_scrubbed": scrubbed}
