"""Purge: hard-delete a spirit and everything of it. The only hard deletion of a spirit.

Everything of the spirit is deleted in one transaction, table by table, dependents first, each
with one DELETE statement that loads no row: memories (vectors are columns of their rows) with
tags, provenance and links, knowledge and lessons with their links, events with their vectors,
sessions, identity, dream actions and sessions, pipeline failures, context packs,
language-model call records, webhook attempts and deliveries; then the spirit row itself with
`QuerySet.delete()`, which also takes whatever else points at it. Only public Django APIs:
`QuerySet.delete()` for the tables nothing points at (Django deletes those without loading
them), and a plain `DELETE ... WHERE column = ANY(...)` on the connection's cursor for the
tables others point at, once their dependents are gone (`delete_where`). The audit log keeps its
entries of the spirit with ids, actions and times only (`audit.scrub`), plus one content-free
PURGE entry of the spirit. A "purge.completed" webhook reports the counts.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable

from django.db import connection, models, transaction

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


def delete_rows(queryset: models.QuerySet, counts: Counter) -> None:
    """`QuerySet.delete()`, its rows per model added to `counts`. For the tables nothing points
    at (tags, links, vectors, attempts, packs, …) Django sends one DELETE ... WHERE and loads no
    row; were one to gain a dependent table, Django would cascade to it (slower, still right)."""
    _, per_model = queryset.delete()
    counts.update(per_model)


def delete_where(model: type[models.Model], field: str, values: Iterable, counts: Counter) -> None:
    """DELETE FROM the model's table WHERE `field` = ANY(`values`): one statement, no row
    loaded, nothing cascaded. For the tables others point at (events, memories, knowledge,
    lessons, dream sessions, webhook deliveries), whose callers delete every dependent table
    first: `QuerySet.delete()` would load each row to cascade in Python and send its DELETEs
    100 ids at a time. Raw SQL through the connection's cursor, built only from the model's
    table and column names (foreign keys are checked at commit)."""
    values = list(values)
    if not values:
        return
    table, column = model._meta.db_table, model._meta.get_field(field).column
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {_quoted(table)} WHERE {_quoted(column)} = ANY(%s)",  # noqa: S608
            [values],
        )
        counts[model._meta.label] += cursor.rowcount


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def delete_memories(ids, counts: Counter) -> None:
    """Memories with their tags, provenance links, links to one another and to knowledge and
    lessons; a kept memory or item that pointed at one (superseded_by) no longer does."""
    if not ids:
        return
    for through in MEMORY_LINKS:
        delete_rows(
            through.objects.filter(
                models.Q(from_memory_id__in=ids) | models.Q(to_memory_id__in=ids)
            ),
            counts,
        )
    for model in (MemoryTag, MemoryEvent, KnowledgeMemory, LessonMemory):
        delete_rows(model.objects.filter(memory_id__in=ids), counts)
    Memory.all_objects.filter(superseded_by_id__in=ids).exclude(pk__in=ids).update(
        superseded_by=None
    )
    delete_where(Memory, "id", ids, counts)


def delete_knowledge(ids, counts: Counter) -> None:
    if not ids:
        return
    delete_rows(KnowledgeMemory.objects.filter(knowledge_id__in=ids), counts)
    Knowledge.all_objects.filter(superseded_by_id__in=ids).exclude(pk__in=ids).update(
        superseded_by=None
    )
    delete_where(Knowledge, "id", ids, counts)


def delete_lessons(ids, counts: Counter) -> None:
    if not ids:
        return
    delete_rows(LessonMemory.objects.filter(lesson_id__in=ids), counts)
    delete_where(Lesson, "id", ids, counts)


def delete_events(field: str, values: list, counts: Counter) -> None:
    """The events whose `field` is one of `values` (a spirit, or ids), with their vectors and
    the provenance links to them."""
    events = Event.all_objects.filter(**{f"{field}__in": values}).values("pk")
    delete_rows(EventEmbedding.objects.filter(event_id__in=events), counts)
    delete_rows(MemoryEvent.objects.filter(event_id__in=events), counts)
    delete_where(Event, field, values, counts)


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
    delete_events("spirit", [sid], counts)
    for rows in (
        Session.objects.filter(spirit_id=sid),
        Identity.objects.filter(spirit_id=sid),
        DreamAction.objects.filter(session__spirit_id=sid),
        PipelineFailure.objects.filter(spirit_id=sid),
        ContextPack.objects.filter(spirit_id=sid),
        LlmCall.objects.filter(spirit_id=sid),
        WebhookAttempt.objects.filter(delivery__spirit_id=sid),
    ):
        delete_rows(rows, counts)
    delete_where(DreamSession, "spirit", [sid], counts)
    delete_where(WebhookDelivery, "spirit_id", [sid], counts)
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
