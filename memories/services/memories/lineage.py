"""Memory services across memories: supersede, merge, split, and marking stale."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction

from elephantasm.api.errors import ValidationFailed
from spirits.models import Spirit
from teams.actors import Actor

from ... import audit
from ...models import AuditAction, Memory, MemoryEvent, MemorySource, MemoryStatus, MemoryTag
from .. import common
from ..common import apply_fields, validate
from .writes import (
    CREATE_FIELDS,
    EDITABLE_FIELDS,
    _link_events,
    _refuse_frozen,
    _set_tags,
    _span_from_events,
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
