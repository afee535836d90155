"""Ingest's lock on the spirit: every write to a spirit's events takes one first (the lock order
is in spirits.locks), so a spirit cannot be soft-deleted while an ingest into it is in flight
(the ingest waits, then sees the spirit is gone).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.db.models import Value
from django.db.models.functions import Greatest

from elephantasm.api.errors import NotFound, SpiritArchived
from spirits.models import Spirit, SpiritStatus


def spirit_touch_for_ingest(*, spirit_id: UUID, activity_at: datetime) -> None:
    """Lock a live spirit and raise its last_activity_at to `activity_at` (never lowers it).

    One UPDATE: it takes the row lock and checks the spirit is still live in the same statement.
    Raises NotFound if the spirit is unknown or soft-deleted, SpiritArchived if it is archived.
    """
    updated = (
        Spirit.all_objects.filter(pk=spirit_id, deleted_at__isnull=True)
        .exclude(status=SpiritStatus.ARCHIVED)
        .update(last_activity_at=Greatest("last_activity_at", Value(activity_at)))
    )
    if not updated:
        live = Spirit.objects.filter(pk=spirit_id).exists()
        if live:  # it is there, archived: read-only
            raise SpiritArchived(spirit_id)
        raise NotFound("Spirit not found.", details={"spirit_id": str(spirit_id)})
