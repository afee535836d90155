"""Reads of memories, knowledge, lessons, identity and the audit log: querysets ready to render.

Every queryset here is unscoped by team; the API's TeamScopedViewSet adds the team filter, and
the helpers that take `team_ids` apply it themselves. "Live" means not soft-deleted and of a
spirit that is not soft-deleted either: a deleted spirit's memories are hidden with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from django.db.models import F, Prefetch, Q, QuerySet

from elephantasm.api.errors import NotFound, ValidationFailed
from events.models import ARRIVAL_ORDER, Event
from spirits.models import Spirit

from . import audit
from .models import AuditEntry, Identity, Knowledge, Lesson, Memory, MemoryTag


def _live_or_all(model, *, include_deleted: bool) -> QuerySet:
    if include_deleted:
        return model.all_objects.all()
    return model.objects.filter(spirit__deleted_at__isnull=True)


def _with_memory_relations(queryset: QuerySet[Memory]) -> QuerySet[Memory]:
    """Tags (by name) and the ids of contradicting memories, fetched once for the whole page."""
    return queryset.prefetch_related(
        Prefetch("tags", queryset=MemoryTag.objects.order_by("name")),
        Prefetch("contradicts", queryset=Memory.all_objects.only("id")),
    )


def memory_queryset(*, include_deleted: bool = False) -> QuerySet[Memory]:
    """Memories, newest first, with tags and contradictions prefetched."""
    queryset = _live_or_all(Memory, include_deleted=include_deleted)
    return _with_memory_relations(queryset).order_by("-created_at", "-id")


def knowledge_queryset(*, include_deleted: bool = False) -> QuerySet[Knowledge]:
    return _live_or_all(Knowledge, include_deleted=include_deleted).order_by("-created_at", "-id")


def lesson_queryset(*, include_deleted: bool = False) -> QuerySet[Lesson]:
    return _live_or_all(Lesson, include_deleted=include_deleted).order_by("-created_at", "-id")


# --- provenance ----------------------------------------------------------------------------------


def memory_source_events(*, memory: Memory) -> QuerySet[Event]:
    """The live events a memory was made from, oldest first, each with its `link_strength`."""
    return (
        Event.objects.filter(memory_links__memory=memory)
        .annotate(link_strength=F("memory_links__link_strength"))
        .order_by(*ARRIVAL_ORDER)
    )


def event_memories(*, event: Event) -> QuerySet[Memory]:
    """The live memories made from an event, newest first, each with its `link_strength`."""
    queryset = Memory.objects.filter(event_links__event=event).annotate(
        link_strength=F("event_links__link_strength")
    )
    return _with_memory_relations(queryset).order_by("-created_at", "-id")


def knowledge_source_memories(*, knowledge: Knowledge) -> QuerySet[Memory]:
    queryset = Memory.objects.filter(knowledge_links__knowledge=knowledge)
    return _with_memory_relations(queryset).order_by("-created_at", "-id")


def lesson_source_memories(*, lesson: Lesson) -> QuerySet[Memory]:
    queryset = Memory.objects.filter(lesson_links__lesson=lesson)
    return _with_memory_relations(queryset).order_by("-created_at", "-id")


# --- lookups by id for request bodies ------------------------------------------------------------


def spirit_for_write(*, spirit_id: UUID, team_ids: Iterable) -> Spirit:
    """A live spirit of the caller's teams; any other id (foreign, deleted, unknown) is a 404."""
    spirit = Spirit.objects.filter(pk=spirit_id, team_id__in=list(team_ids)).first()
    if spirit is None:
        raise NotFound("No such spirit among your teams.", details={"spirit_id": str(spirit_id)})
    return spirit


def memories_by_ids(*, ids: Sequence[UUID], team_ids: Iterable, field: str) -> list[Memory]:
    """Live memories of the caller's teams, in the order asked.

    An id that is unknown, deleted or another team's is a 400 naming `field` (the body's key):
    the request is malformed, not the URL.
    """
    wanted = list(dict.fromkeys(ids))
    found = {
        m.pk: m
        for m in Memory.objects.filter(
            pk__in=wanted, spirit__team_id__in=list(team_ids), spirit__deleted_at__isnull=True
        )
    }
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        raise ValidationFailed(
            f"Invalid input: {field}.",
            details={field: [f"No such memory among yours: {i}." for i in missing]},
        )
    return [found[i] for i in ids]


def knowledge_by_id(*, knowledge_id: UUID, team_ids: Iterable, field: str) -> Knowledge:
    """A live knowledge item of the caller's teams; otherwise a 400 naming `field`."""
    found = Knowledge.objects.filter(
        pk=knowledge_id, spirit__team_id__in=list(team_ids), spirit__deleted_at__isnull=True
    ).first()
    if found is None:
        raise ValidationFailed(
            f"Invalid input: {field}.",
            details={field: [f"No such knowledge item among yours: {knowledge_id}."]},
        )
    return found


# --- identity and the audit log ------------------------------------------------------------------


def identity_of(*, spirit: Spirit) -> Identity | None:
    return Identity.objects.filter(spirit=spirit).first()


def object_history(*, object_type: str, object_id) -> QuerySet[AuditEntry]:
    """Every audit entry that changed the object, oldest first (see audit.history)."""
    return audit.history(object_type, object_id)


def entry_before(*, entries: QuerySet[AuditEntry], entry: AuditEntry) -> AuditEntry | None:
    """The entry just before `entry` in `entries` (ordered by created_at, id)."""
    return (
        entries.filter(
            Q(created_at__lt=entry.created_at) | Q(created_at=entry.created_at, id__lt=entry.id)
        )
        .order_by("created_at", "id")
        .last()
    )


def history_rows(
    *, entries: Sequence[AuditEntry], object_id, previous: AuditEntry | None
) -> list[dict[str, Any]]:
    """Entries as the object lived them: `before`/`after` are *this* object's states.

    An entry recorded on another object (a merge naming this memory, a split naming this part)
    carries this object's state after it in `related_after`; its state before is the state after
    the previous entry (`previous` is the entry preceding `entries`, for the first one).
    """
    key = str(object_id)
    prior = audit.state_in(previous, key) if previous is not None else None
    rows = []
    for entry in entries:
        own = str(entry.object_id) == key
        after = audit.state_in(entry, key)
        rows.append(
            {
                "id": entry.id,
                "action": entry.action,
                "object_type": entry.object_type,
                "object_id": entry.object_id,
                "actor_type": entry.actor_type,
                "actor_id": entry.actor_id,
                "actor_label": entry.actor_label,
                "reason": entry.reason,
                "related_ids": entry.related_ids,
                "before": entry.before if own else prior,
                "after": after,
                "created_at": entry.created_at,
            }
        )
        prior = after
    return rows
