"""Memory services, one memory at a time: create, edit, delete/restore, pin, archive, dispute."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from elephantasm.api.errors import ValidationFailed
from events.models import Event
from spirits.models import Spirit
from teams.actors import Actor

from ... import audit
from ...models import AuditAction, Memory, MemoryEvent, MemorySource, MemoryStatus, MemoryTag
from .. import common
from ..common import apply_fields, transition, validate

EDITABLE_FIELDS = (
    "memory_type",
    "content",
    "summary",
    "subject",
    "importance",
    "confidence",
    "tier",
    "status",
    "pinned",
    "extraction_model",
    "time_start",
    "time_end",
    "expires_at",
    "metadata",
)
CREATE_FIELDS = (*EDITABLE_FIELDS, "source_type")

logger = logging.getLogger(__name__)


def _set_tags(memory: Memory, tags: Iterable[str]) -> None:
    names = sorted({t.strip() for t in tags if t and t.strip()})
    for name in names:
        if len(name) > 64 or "\x00" in name:
            raise ValidationFailed(
                "Invalid tag.", details={"tags": [f"Tag {name[:64]!r} is too long or invalid."]}
            )
    memory.tags.exclude(name__in=names).delete()
    MemoryTag.objects.bulk_create(
        [MemoryTag(memory=memory, name=n) for n in names], ignore_conflicts=True
    )


def _link_events(memory: Memory, links: dict, *, replace: bool = False) -> None:
    """Link events (id -> strength) of the memory's own spirit; foreign ids are a 400."""
    ids = list(links)
    found = set(
        Event.all_objects.filter(spirit_id=memory.spirit_id, id__in=ids).values_list(
            "id", flat=True
        )
    )
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise ValidationFailed("Unknown events for this spirit.", details={"event_ids": missing})
    if replace:
        memory.event_links.exclude(event_id__in=ids).delete()
    MemoryEvent.objects.bulk_create(
        [MemoryEvent(memory=memory, event_id=i, link_strength=s) for i, s in links.items()],
        update_conflicts=True,
        unique_fields=["memory", "event"],
        update_fields=["link_strength"],
    )


def _span_from_events(memory: Memory) -> None:
    times = list(
        Event.all_objects.filter(memory_links__memory=memory).values_list("occurred_at", flat=True)
    )
    if times:
        memory.time_start, memory.time_end = min(times), max(times)


@transaction.atomic
def memory_create(
    *,
    spirit: Spirit,
    data: dict[str, Any],
    actor: Actor,
    tags: Iterable[str] = (),
    event_ids: Iterable = (),
    related_ids: Iterable = (),
    reason: str = "",
) -> Memory:
    data = {"source_type": MemorySource.EXPLICIT, **data}
    if data.get("status", MemoryStatus.ACTIVE) not in (MemoryStatus.ACTIVE, MemoryStatus.DECAYING):
        raise ValidationFailed(
            "Invalid input: status.", details={"status": ["A new memory is active or decaying."]}
        )
    memory = Memory(spirit=spirit)
    apply_fields(memory, data, CREATE_FIELDS)
    validate(memory)
    memory.save()
    _set_tags(memory, tags)
    if related_ids:
        _set_related(memory, related_ids)
    links = {i: 1.0 for i in event_ids} if not isinstance(event_ids, dict) else event_ids
    if links:
        _link_events(memory, links)
        if "time_start" not in data and "time_end" not in data:
            _span_from_events(memory)
            memory.save(update_fields=["time_start", "time_end", "updated_at"])
    common.log_created(memory, actor, reason)
    return memory


@transaction.atomic
def memory_update(
    *,
    memory: Memory,
    data: dict[str, Any],
    actor: Actor,
    tags: Iterable[str] | None = None,
    related_ids: Iterable | None = None,
    reason: str = "",
) -> Memory:
    """Change fields, tags or related memories. Superseded memories are history and refuse
    changes; `status` may be set to active, decaying or archived (not while pinned)."""

    touched: list[Memory] = []

    def also(locked: Memory) -> None:
        if tags is not None:
            _set_tags(locked, tags)
        if related_ids is not None:
            touched.extend(_set_related(locked, related_ids))

    def check(before: dict, locked: Memory, changed: set[str]) -> None:
        _check_update(before, locked, changed)
        if "content" in changed:
            locked.extracted_at = None  # what it says changed: extraction reads it again

    return common.update(
        memory,
        data,
        EDITABLE_FIELDS,
        actor,
        reason,
        also=also,
        check=check,
        related=lambda: touched,
    )


def _set_related(memory: Memory, related_ids: Iterable) -> list[Memory]:
    """Replace the memories this one is related to (live memories of the same spirit)."""
    ids = list(dict.fromkeys(related_ids))
    found = set(
        Memory.objects.filter(spirit_id=memory.spirit_id, id__in=ids)
        .exclude(pk=memory.pk)
        .values_list("id", flat=True)
    )
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise ValidationFailed(
            "Unknown related memories for this spirit.", details={"related_ids": missing}
        )
    before = set(memory.related_to.values_list("id", flat=True))
    memory.related_to.set(ids)
    # The relation goes both ways: the memories added or removed changed too.
    return list(Memory.all_objects.filter(pk__in=before ^ set(ids)))


@transaction.atomic
def memory_soft_delete(*, memory: Memory, actor: Actor, reason: str = "") -> Memory:
    return common.soft_delete(memory, actor, reason)


@transaction.atomic
def memory_restore(*, memory: Memory, actor: Actor, reason: str = "") -> Memory:
    return common.restore(memory, actor, reason)


@transaction.atomic
def memory_pin(*, memory: Memory, actor: Actor, pinned: bool = True, reason: str = "") -> Memory:
    action = AuditAction.PIN if pinned else AuditAction.UNPIN
    return transition(memory, action, actor, reason, check=_refuse_frozen, pinned=pinned)


@transaction.atomic
def memory_archive(*, memory: Memory, actor: Actor, reason: str = "") -> Memory:
    def check(locked: Memory) -> None:
        _refuse_frozen(locked)
        if locked.pinned:
            raise ValidationFailed("A pinned memory cannot be archived; unpin it first.")

    return transition(
        memory, AuditAction.ARCHIVE, actor, reason, check=check, status=MemoryStatus.ARCHIVED
    )


@transaction.atomic
def memory_mark_disputed(
    *, memory: Memory, conflicting: Memory, actor: Actor, reason: str = ""
) -> Memory:
    if conflicting.spirit_id != memory.spirit_id or conflicting.pk == memory.pk:
        raise ValidationFailed(
            "The conflicting memory must be another memory of the same spirit.",
            details={"conflicting_id": ["Not a memory of this spirit."]},
        )
    _refuse_frozen(conflicting, field="conflicting_id")
    locked = common.locked(memory)
    _refuse_frozen(locked)
    already = locked.contradicts.filter(pk=conflicting.pk).exists()
    if already and locked.status == MemoryStatus.DISPUTED:
        return locked
    before = audit.snapshot(locked)
    locked.contradicts.add(conflicting)
    locked.status = MemoryStatus.DISPUTED
    locked.save()
    audit.record(
        obj=locked,
        action=AuditAction.DISPUTE,
        actor=actor,
        before=before,
        after=audit.snapshot(locked),
        reason=reason,
        related=[conflicting],
    )
    return locked


# Statuses a caller may set with memory_update; the others come with their operations (archive
# checks pins, dispute needs the conflicting memory, superseded needs a successor).
SETTABLE_STATUSES = (MemoryStatus.ACTIVE, MemoryStatus.DECAYING, MemoryStatus.ARCHIVED)


def _is_superseded(status: str, superseded_by_id) -> bool:
    return status == MemoryStatus.SUPERSEDED or superseded_by_id is not None


def _refuse_frozen(memory: Memory, field: str = "memory") -> None:
    """Operations act on live memories that are not superseded (those are history)."""
    if memory.deleted_at is not None:
        raise ValidationFailed(
            "This memory is deleted; restore it first.",
            details={field: [f"Memory {memory.pk} is deleted."]},
        )
    if _is_superseded(memory.status, memory.superseded_by_id):
        raise ValidationFailed(
            "This memory is superseded: it is history. Change its successor instead.",
            details={field: [f"Memory {memory.pk} is superseded by {memory.superseded_by_id}."]},
        )


def _check_update(before: dict, memory: Memory, changed: set[str]) -> None:
    if not changed:
        return
    if _is_superseded(before["status"], before["superseded_by_id"]):
        raise ValidationFailed(
            "This memory is superseded: it is history. Change its successor instead.",
            details={"memory": [f"Memory {memory.pk} is superseded."]},
        )
    if "status" in changed:
        if memory.status not in SETTABLE_STATUSES:
            raise ValidationFailed(
                "Invalid input: status.",
                details={
                    "status": [
                        "Set to active, decaying or archived here; dispute, supersede, merge and "
                        "split have their own operations."
                    ]
                },
            )
        if memory.status == MemoryStatus.ARCHIVED and memory.pinned:
            raise ValidationFailed(
                "A pinned memory cannot be archived; unpin it first.",
                details={"status": ["A pinned memory cannot be archived."]},
            )
