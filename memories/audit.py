"""The audit log: snapshots of curated objects, entries, and point-in-time reconstruction."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.db.models import Q
from django.utils import timezone

from teams.actors import Actor

from . import hooks, webhooks
from .models import AuditEntry, Identity, Knowledge, Lesson, Memory

# Fields never snapshotted: derived by the database or the pipeline (which changes them without
# audit entries), large, or not content.
_SKIPPED = {
    "embedding",
    "search_vector",
    "embedding_stale",
    "embedding_model",
    "extracted_at",
    "decay",
}


def object_type_of(obj: models.Model) -> str:
    return {Memory: "memory", Knowledge: "knowledge", Lesson: "lesson", Identity: "identity"}[
        type(obj)
    ]


def snapshot(obj: models.Model) -> dict[str, Any]:
    """A JSON-ready copy of the object's own fields (foreign keys as ids), tags and links."""
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.name in _SKIPPED:
            continue
        data[field.attname] = getattr(obj, field.attname)
    if isinstance(obj, Memory):
        data["tags"] = sorted(obj.tags.values_list("name", flat=True))
        data["contradicts"] = sorted(str(i) for i in obj.contradicts.values_list("id", flat=True))
        data["related_to"] = sorted(str(i) for i in obj.related_to.values_list("id", flat=True))
        data["event_ids"] = sorted(
            str(i) for i in obj.event_links.values_list("event_id", flat=True)
        )
    elif isinstance(obj, Knowledge | Lesson):
        data["memory_ids"] = sorted(
            str(i) for i in obj.memory_links.values_list("memory_id", flat=True)
        )
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def record(
    *,
    obj: models.Model,
    action: str,
    actor: Actor,
    before: dict | None,
    after: dict | None,
    reason: str = "",
    related_ids: Iterable = (),
    related: Iterable[models.Model] = (),
) -> AuditEntry:
    """Log one operation on `obj`; `related` objects it also changed are named with their state.
    A person's write of a memory, knowledge or a lesson is announced to the pipeline (hooks)."""
    related = list(related)
    related_ids = [*related_ids, *(r.pk for r in related)]
    spirit = obj.spirit
    # Stamped with the object's own instants, so `as_of=<its created_at or updated_at>` sees the
    # change: the entry that brings it into being at created_at, later ones at updated_at.
    stamp = getattr(obj, "created_at" if before is None else "updated_at", None)
    entry = AuditEntry.objects.create(
        created_at=stamp or timezone.now(),
        object_type=object_type_of(obj),
        object_id=obj.pk,
        spirit_id=spirit.pk,
        team_id=spirit.team_id,
        action=action,
        before=before,
        after=after,
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label,
        reason=reason,
        related_ids=[str(i) for i in related_ids],
        related_after={str(r.pk): snapshot(r) for r in related} or None,
    )
    webhooks.emit_for_audit(entry)
    if isinstance(obj, Memory | Knowledge | Lesson) and obj.deleted_at is None:
        hooks.announce_written(type(obj), [obj.pk], actor)  # a person's write joins the pipeline
    return entry


def record_bare(
    *,
    object_type: str,
    object_ids: Iterable,
    spirit_id,
    team_id,
    action: str,
    actor: Actor,
    reason: str = "",
) -> int:
    """One content-free entry per id (no before/after): what purge and retention leave behind.
    Sends no webhook (the run sends one "purge.completed"). Returns how many."""
    now = timezone.now()
    entries = [
        AuditEntry(
            created_at=now,
            object_type=object_type,
            object_id=object_id,
            spirit_id=spirit_id,
            team_id=team_id,
            action=action,
            actor_type=actor.type,
            actor_id=actor.id,
            actor_label=actor.label,
            reason=reason,
        )
        for object_id in object_ids
    ]
    AuditEntry.objects.bulk_create(entries, batch_size=1000)
    return len(entries)


def scrub(entries: models.QuerySet[AuditEntry]) -> int:
    """Clear the content of these entries (states, reason, actor label), keeping ids, actions
    and times. The append-only trigger allows exactly this, and only while the transaction has
    `elephantasm.audit_scrub` on (migration 0008); it is set for this statement alone."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL elephantasm.audit_scrub = 'on'")
        count = (
            entries.exclude(
                before__isnull=True,
                after__isnull=True,
                related_after__isnull=True,
                reason="",
                actor_label="",
            )
            .order_by()
            .update(before=None, after=None, related_after=None, reason="", actor_label="")
        )
        # (A failed UPDATE aborts the transaction, and its rollback undoes the SET LOCAL too.)
        cursor.execute("SET LOCAL elephantasm.audit_scrub = 'off'")
    return count


def history(object_type: str, object_id) -> models.QuerySet[AuditEntry]:
    """Every entry that changed the object: its own, and operations naming it with its state."""
    key = str(object_id)
    return AuditEntry.objects.filter(
        Q(object_type=object_type, object_id=object_id) | Q(related_after__has_key=key)
    ).order_by("created_at", "id")


def state_in(entry: AuditEntry, object_id) -> dict[str, Any] | None:
    """The object's state after `entry`."""
    if str(entry.object_id) == str(object_id):
        return entry.after
    return (entry.related_after or {}).get(str(object_id))


def state_as_of(object_type: str, object_id, moment: datetime) -> dict[str, Any] | None:
    """The object as it was at `moment`, rebuilt from the log; None if it did not exist yet."""
    entry = history(object_type, object_id).filter(created_at__lte=moment).last()
    return None if entry is None else state_in(entry, object_id)


def record_spirit(
    *, spirit, action: str, actor: Actor, after: dict | None = None, reason: str = ""
) -> AuditEntry:
    """One entry about a spirit itself (object_type "spirit"), such as its import. No webhook:
    the spirit is not a curated object."""
    return AuditEntry.objects.create(
        object_type="spirit",
        object_id=spirit.pk,
        spirit_id=spirit.pk,
        team_id=spirit.team_id,
        action=action,
        before=None,
        after=after,
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label,
        reason=reason,
    )
