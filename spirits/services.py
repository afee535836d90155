"""Every write to a spirit. The API, the admin and commands all come through here.

Soft delete cascades to the spirit's events with the spirit's own `deleted_at` (announced through
spirits.hooks; the events app does it), so restoring the spirit restores exactly the events its
deletion took down (an event deleted earlier on its own
has another timestamp and stays deleted).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from teams.models import Team

from .hooks import spirit_restored, spirit_soft_deleted
from .locks import lock_spirit_row
from .models import Spirit, SpiritStatus

EDITABLE_FIELDS = frozenset({"name", "description", "metadata", "status", "config"})


@transaction.atomic
def spirit_create(
    *,
    team: Team,
    name: str,
    description: str = "",
    metadata: dict[str, Any] | None = None,
    status: str = SpiritStatus.ACTIVE,
    config: dict[str, Any] | None = None,
) -> Spirit:
    spirit = Spirit(
        team=team,
        name=name,
        description=description,
        metadata=metadata if metadata is not None else {},
        status=status,
        config=config if config is not None else {},
    )
    spirit.full_clean()
    spirit.save()
    return spirit


@transaction.atomic
def spirit_update(*, spirit: Spirit, **fields: Any) -> Spirit:
    """Change any of name, description, metadata, status and config (others are refused)."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"spirit_update() cannot change {', '.join(sorted(unknown))}.")
    for field, value in fields.items():
        setattr(spirit, field, value)
    spirit.full_clean()
    if fields:
        spirit.save(update_fields=[*fields, "updated_at"])
    return spirit


@transaction.atomic
def spirit_soft_delete(*, spirit: Spirit, deleted_at: datetime | None = None) -> Spirit:
    """Mark the spirit and its live events deleted at one instant. A second call changes nothing."""
    locked = lock_spirit_row(spirit.pk)
    if locked.deleted_at is None:
        locked.deleted_at = deleted_at or timezone.now()
        locked.save(update_fields=["deleted_at", "updated_at"])
        spirit_soft_deleted.send(sender=Spirit, spirit=locked, deleted_at=locked.deleted_at)
    spirit.deleted_at, spirit.updated_at = locked.deleted_at, locked.updated_at
    return spirit


@transaction.atomic
def spirit_restore(*, spirit: Spirit) -> Spirit:
    """Bring the spirit back with the events its deletion cascaded to; a live one is unchanged."""
    locked = lock_spirit_row(spirit.pk)
    if locked.deleted_at is not None:
        spirit_restored.send(sender=Spirit, spirit=locked, deleted_at=locked.deleted_at)
        locked.deleted_at = None
        locked.save(update_fields=["deleted_at", "updated_at"])
    spirit.deleted_at, spirit.updated_at = locked.deleted_at, locked.updated_at
    return spirit


@transaction.atomic
def spirit_patch(*, spirit: Spirit, is_deleted: bool | None = None, **fields: Any) -> Spirit:
    """A change of the spirit's fields and, with `is_deleted`, a soft delete (True) or a restore
    (False), all in one transaction and through the same services as on their own (their hooks
    cascade to the events): a restore first, `spirit_update`, a soft delete last."""
    if is_deleted is False:
        spirit = spirit_restore(spirit=spirit)
    spirit = spirit_update(spirit=spirit, **fields)
    if is_deleted is True:
        spirit = spirit_soft_delete(spirit=spirit)
    return spirit
