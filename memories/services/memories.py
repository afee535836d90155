"""Memory services: create, edit, delete/restore, pin, archive, dispute, supersede, merge, split."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction

from elephantasm.api.errors import ValidationFailed
from events.models import Event
from spirits.models import Spirit
from teams.actors import Actor

from .. import audit
from ..models import AuditAction, Memory, MemoryEvent, MemorySource, MemoryStatus, MemoryTag
from . import common
from .common import apply_fields, transition, validate

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

    return common.update(
        memory,
        data,
        EDITABLE_FIELDS,
        actor,
        reason,
        also=also,
        check=_check_update,
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


def _same_spirit(memories: Sequence[Memory]) -> Spirit:
    spirits = {m.spirit_id for m in memories}
    if len(spirits) != 1:
        raise ValidationFailed("All memories must belong to one spirit.")
    return memories[0].spirit


def _retire(sources: Sequence[Memory], successor: Memory) -> list[Memory]:
    retired = []
    for source in Memory.all_objects.select_for_update().filter(pk__in=[s.pk for s in sources]):
        source.status = MemoryStatus.SUPERSEDED
        source.superseded_by = successor
        source.save(update_fields=["status", "superseded_by", "updated_at"])
        retired.append(source)
    return retired


@transaction.atomic
def memory_supersede(
    *, memory: Memory, data: dict[str, Any], actor: Actor, reason: str = ""
) -> Memory:
    """A new version of the memory; the old one becomes `superseded` and points to it."""
    old = Memory.all_objects.select_for_update().get(pk=memory.pk)
    _refuse_frozen(old)
    fields = {name: getattr(old, name) for name in EDITABLE_FIELDS if name != "status"}
    fields.update(data)
    new = Memory(spirit=old.spirit, version=old.version + 1, source_type=old.source_type)
    apply_fields(new, fields, EDITABLE_FIELDS)
    validate(new)
    new.save()
    _set_tags(new, old.tags.values_list("name", flat=True))
    _copy_links([old], new)
    retired = _retire([old], new)
    audit.record(
        obj=new,
        action=AuditAction.SUPERSEDE,
        actor=actor,
        before=None,
        after=audit.snapshot(new),
        reason=reason,
        related=retired,
    )
    return new


def _copy_links(sources: Sequence[Memory], target: Memory) -> None:
    strengths: dict = {}
    for link in MemoryEvent.objects.filter(memory__in=sources):
        strengths[link.event_id] = max(strengths.get(link.event_id, 0.0), link.link_strength)
    if strengths:
        _link_events(target, strengths)


@transaction.atomic
def memory_merge(
    *,
    memories: Sequence[Memory],
    actor: Actor,
    data: dict[str, Any] | None = None,
    reason: str = "",
) -> Memory:
    """Merge memories into a new one: union of provenance and tags; the sources are superseded.

    Without `data`, the merged text is the sources' contents joined, importance and confidence
    their maximum, the span their union. One audit entry names all of them.
    """
    memories = list(memories)
    if len(memories) < 2 or len({m.pk for m in memories}) != len(memories):
        raise ValidationFailed("Merging needs at least two distinct memories.")
    # Lock the sources (in one order, against deadlocks) and re-read them, so a concurrent merge
    # or supersede of the same memories is seen here and refused below rather than forked.
    memories = list(
        Memory.all_objects.select_for_update()
        .filter(pk__in=[m.pk for m in memories])
        .order_by("pk")
    )
    spirit = _same_spirit(memories)
    for source in memories:
        _refuse_frozen(source, field="memory_ids")
    ordered = sorted(memories, key=lambda m: (m.time_start or m.created_at, m.created_at))
    starts = [m.time_start for m in ordered if m.time_start]
    ends = [m.time_end for m in ordered if m.time_end]
    fields: dict[str, Any] = {
        "memory_type": ordered[0].memory_type,
        "content": "\n\n".join(dict.fromkeys(m.content for m in ordered)),
        "summary": " ".join(dict.fromkeys(m.summary for m in ordered if m.summary)),
        "subject": ordered[0].subject,
        "importance": max(m.importance for m in ordered),
        "confidence": max(m.confidence for m in ordered),
        "pinned": any(m.pinned for m in ordered),
        "time_start": min(starts) if starts else None,
        "time_end": max(ends) if ends else None,
        "source_type": MemorySource.CONSOLIDATION,
    }
    fields.update(data or {})
    merged = Memory(spirit=spirit)
    apply_fields(merged, fields, CREATE_FIELDS)
    validate(merged)
    merged.save()
    _set_tags(merged, MemoryTag.objects.filter(memory__in=ordered).values_list("name", flat=True))
    _copy_links(ordered, merged)
    retired = _retire(ordered, merged)
    audit.record(
        obj=merged,
        action=AuditAction.MERGE,
        actor=actor,
        before=None,
        after=audit.snapshot(merged),
        reason=reason,
        related=retired,
    )
    return merged


@transaction.atomic
def memory_split(
    *, memory: Memory, parts: Sequence[dict[str, Any]], actor: Actor, reason: str = ""
) -> list[Memory]:
    """Split a memory into parts (each a dict of fields, at least `content`; optional
    `event_ids` to narrow its provenance, else it keeps all of it). The original is superseded
    by the first part. One audit entry, on the original, names the parts."""
    if len(parts) < 2:
        raise ValidationFailed("Splitting needs at least two parts.")
    original = Memory.all_objects.select_for_update().get(pk=memory.pk)
    _refuse_frozen(original)
    before = audit.snapshot(original)
    links = {link.event_id: link.link_strength for link in original.event_links.all()}
    tags = list(original.tags.values_list("name", flat=True))
    created = []
    for index, part in enumerate(parts):
        part = dict(part)
        event_ids = part.pop("event_ids", None)
        fields = {
            "memory_type": original.memory_type,
            "importance": original.importance,
            "confidence": original.confidence,
            "source_type": original.source_type,
            **part,
        }
        new = Memory(spirit=original.spirit)
        try:
            outside = [str(i) for i in (event_ids or ()) if i not in links]
            if outside:
                raise ValidationFailed(
                    "A part's events must come from the original's provenance.",
                    details={"event_ids": outside},
                )
            apply_fields(new, fields, CREATE_FIELDS)
            validate(new)
        except ValidationFailed as exc:
            raise ValidationFailed(exc.message, details={f"parts[{index}]": exc.details}) from exc
        new.save()
        _set_tags(new, tags)
        chosen = links if event_ids is None else {i: links[i] for i in event_ids}
        if chosen:
            _link_events(new, chosen)
            _span_from_events(new)
            new.save(update_fields=["time_start", "time_end", "updated_at"])
        created.append(new)
    original.status = MemoryStatus.SUPERSEDED
    original.superseded_by = created[0]
    original.save(update_fields=["status", "superseded_by", "updated_at"])
    audit.record(
        obj=original,
        action=AuditAction.SPLIT,
        actor=actor,
        before=before,
        after=audit.snapshot(original),
        reason=reason,
        related=created,
    )
    return created


def memory_mark_stale(*, memories: Iterable[Memory], actor: Actor, reason: str = "") -> int:
    """Ask the pipeline to re-embed these memories (sets `embedding_stale`). Returns how many."""
    return common.mark_stale(Memory, memories, actor, reason)
