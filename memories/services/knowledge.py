"""Knowledge services. A fact that stops being true is closed (valid_to), never erased.

`valid_to` is set only by `knowledge_close` (logged as CLOSE); a closed item is not reopened:
what becomes true again is a new item."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from elephantasm.api.errors import ValidationFailed
from spirits.models import Spirit
from teams.actors import Actor

from ..models import AuditAction, Knowledge, KnowledgeMemory, Memory
from . import common

EDITABLE_FIELDS = (
    "knowledge_type",
    "topic",
    "content",
    "summary",
    "confidence",
    "source_type",
    "valid_from",
)


def link_memories(obj, memory_ids: Iterable, link_model, field: str) -> None:
    """Provenance to memories of the same spirit; unknown ids are a 400."""
    ids = list(dict.fromkeys(memory_ids))
    if not ids:
        return
    found = set(
        Memory.all_objects.filter(spirit_id=obj.spirit_id, id__in=ids).values_list("id", flat=True)
    )
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise ValidationFailed("Unknown memories for this spirit.", details={"memory_ids": missing})
    link_model.objects.bulk_create(
        [link_model(**{field: obj}, memory_id=i) for i in ids], ignore_conflicts=True
    )


@transaction.atomic
def knowledge_create(
    *,
    spirit: Spirit,
    data: dict[str, Any],
    actor: Actor,
    memory_ids: Iterable = (),
    reason: str = "",
) -> Knowledge:
    knowledge = common.create(Knowledge(spirit=spirit), data, EDITABLE_FIELDS, actor, reason)
    link_memories(knowledge, memory_ids, KnowledgeMemory, "knowledge")
    common.log_created(knowledge, actor, reason)
    return knowledge


@transaction.atomic
def knowledge_update(
    *, knowledge: Knowledge, data: dict[str, Any], actor: Actor, reason: str = ""
) -> Knowledge:
    return common.update(knowledge, data, EDITABLE_FIELDS, actor, reason)


@transaction.atomic
def knowledge_close(
    *,
    knowledge: Knowledge,
    actor: Actor,
    superseded_by: Knowledge | None = None,
    valid_to: datetime | None = None,
    reason: str = "",
) -> Knowledge:
    """Mark the item no longer valid from `valid_to` (default now), optionally replaced by a
    current item of the same spirit."""
    if superseded_by is not None and (
        superseded_by.spirit_id != knowledge.spirit_id
        or superseded_by.pk == knowledge.pk
        or not superseded_by.is_current
    ):
        raise ValidationFailed(
            "The replacement must be another current knowledge item of the same spirit.",
            details={"superseded_by": ["Not a current knowledge item of this spirit."]},
        )
    valid_to = valid_to or timezone.now()

    def check(locked: Knowledge) -> None:
        if locked.deleted_at is not None:
            raise ValidationFailed("This knowledge item is deleted; restore it first.")
        if locked.valid_to is not None:
            raise ValidationFailed("This knowledge item is already closed.")
        if locked.valid_from and valid_to < locked.valid_from:
            raise ValidationFailed(
                "valid_to is before valid_from.", details={"valid_to": ["Before valid_from."]}
            )

    related = [superseded_by] if superseded_by is not None else []
    return common.transition(
        knowledge,
        AuditAction.CLOSE,
        actor,
        reason,
        related=related,
        check=check,
        valid_to=valid_to,
        superseded_by=superseded_by,
    )


@transaction.atomic
def knowledge_mark_stale(*, items, actor: Actor, reason: str = "") -> int:
    """Ask the pipeline to re-embed these knowledge items."""
    return common.mark_stale(Knowledge, items, actor, reason)


@transaction.atomic
def knowledge_soft_delete(*, knowledge: Knowledge, actor: Actor, reason: str = "") -> Knowledge:
    return common.soft_delete(knowledge, actor, reason)


@transaction.atomic
def knowledge_restore(*, knowledge: Knowledge, actor: Actor, reason: str = "") -> Knowledge:
    return common.restore(knowledge, actor, reason)
