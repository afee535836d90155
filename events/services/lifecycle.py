"""Changes to recorded events: curation fields, soft delete and restore (one, or a spirit's)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from elephantasm.api.errors import ValidationFailed
from elephantasm.validators import metadata_problem, text_problem
from events.models import Event
from spirits.locks import lock_spirit_events
from spirits.models import Spirit

from .sessions import sessions_recompute

UPDATABLE_FIELDS = ("meta_summary", "importance_score", "metadata")


@transaction.atomic
def event_update(*, event: Event, data: Mapping[str, Any]) -> Event:
    """Change an event's curation fields (meta_summary, importance_score, metadata) only.

    What happened (content, type, time, session...) is never rewritten. Raises ValidationError
    naming any other field, or an invalid value.
    """
    others = sorted(set(data) - set(UPDATABLE_FIELDS))
    if others:
        raise ValidationError({name: ["This field cannot be updated."] for name in others})
    if not data:
        return event
    for name, value in data.items():
        setattr(event, name, value)
    if "metadata" in data and event.metadata is None:
        event.metadata = {}
    if "meta_summary" in data and event.meta_summary is None:
        event.meta_summary = ""
    errors: dict[str, list[str]] = {}
    try:
        event.clean_fields(exclude=[f.name for f in Event._meta.fields if f.name not in data])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if "metadata" in data and "metadata" not in errors:
        problem = metadata_problem(event.metadata)
        if problem:
            errors["metadata"] = [problem]
    if "meta_summary" in data and "meta_summary" not in errors:
        problem = text_problem(event.meta_summary)
        if problem:
            errors["meta_summary"] = [problem]
    if errors:
        raise ValidationError(errors)
    event.save(update_fields=[*data, "updated_at"])
    return event


@transaction.atomic
def event_patch(*, event: Event, data: Mapping[str, Any], is_deleted: bool | None = None) -> Event:
    """A change of the curation fields and, with `is_deleted`, a soft delete (True) or a restore
    (False), all in one transaction and through the same services as on their own: a restore
    first (the fields then change on a live event), `event_update`, a soft delete last.
    """
    if is_deleted is False:
        event = event_restore(event=event)
    event = event_update(event=event, data=data)
    if is_deleted is True:
        event = event_soft_delete(event=event)
    return event


def _set_deleted_at(*, event: Event, deleted_at: datetime | None) -> Event:
    """Soft-delete (a time) or restore (None) one event; recompute its session if it changed."""
    lock_spirit_events(event.spirit_id)
    now = timezone.now()
    changed = Event.all_objects.filter(
        pk=event.pk, deleted_at__isnull=deleted_at is not None
    ).update(deleted_at=deleted_at, updated_at=now)
    if not changed:  # already in that state: report the stored row as it is
        event.refresh_from_db(fields=["deleted_at", "updated_at"])
        return event
    event.deleted_at, event.updated_at = deleted_at, now
    sessions_recompute(spirit_id=event.spirit_id, session_ids=[event.session_id], now=now)
    return event


@transaction.atomic
def event_soft_delete(*, event: Event) -> Event:
    """Hide the event (sets deleted_at); its session's counters drop it. Idempotent."""
    return _set_deleted_at(event=event, deleted_at=timezone.now())


@transaction.atomic
def event_restore(*, event: Event) -> Event:
    """Bring a soft-deleted event back; its session's counters count it again. Idempotent.
    An event of a deleted spirit comes back only with its spirit (restore the spirit)."""
    if Spirit.all_objects.filter(pk=event.spirit_id, deleted_at__isnull=False).exists():
        raise ValidationFailed(
            "This event's spirit is deleted; restore the spirit, which restores its events.",
            details={"spirit_id": [f"Spirit {event.spirit_id} is deleted."]},
        )
    return _set_deleted_at(event=event, deleted_at=None)


@transaction.atomic
def events_soft_delete_for_spirit(*, spirit: Spirit, deleted_at: datetime) -> int:
    """Soft-delete all of the spirit's live events with exactly `deleted_at` (the spirit's own
    deletion time, so `events_restore_for_spirit` can undo just this cascade). Returns how many."""
    lock_spirit_events(spirit.pk)
    count = Event.objects.filter(spirit=spirit).update(
        deleted_at=deleted_at, updated_at=timezone.now()
    )
    if count:
        sessions_recompute(spirit_id=spirit.pk)
    return count


@transaction.atomic
def events_restore_for_spirit(*, spirit: Spirit, deleted_at: datetime) -> int:
    """Restore the spirit's events whose deleted_at is exactly `deleted_at` (those its deletion
    cascaded to; events deleted on their own before stay deleted). Returns how many."""
    lock_spirit_events(spirit.pk)
    count = Event.all_objects.filter(spirit=spirit, deleted_at=deleted_at).update(
        deleted_at=None, updated_at=timezone.now()
    )
    if count:
        sessions_recompute(spirit_id=spirit.pk)
    return count


def on_spirit_soft_deleted(sender, *, spirit: Spirit, deleted_at: datetime, **kwargs) -> None:
    """Receiver of spirits.hooks.spirit_soft_deleted: the spirit's live events go with it."""
    events_soft_delete_for_spirit(spirit=spirit, deleted_at=deleted_at)


def on_spirit_restored(sender, *, spirit: Spirit, deleted_at: datetime, **kwargs) -> None:
    """Receiver of spirits.hooks.spirit_restored: the events its deletion took come back."""
    events_restore_for_spirit(spirit=spirit, deleted_at=deleted_at)
