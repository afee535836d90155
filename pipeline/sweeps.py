"""What the beat sweeps look for: work whose message was lost, or that waited while its spirit
was paused (the tasks in pipeline.tasks enqueue it through pipeline.flow)."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from django.db.models import Exists, OuterRef
from django.utils import timezone

from memories.models import Knowledge, Lesson, Memory
from spirits.models import CURATED_STATUSES, Spirit

from .evolution import identity_due


def memories_pending_extraction(*, limit: int, older_than_seconds: int) -> list[UUID]:
    """Ids of live memories not yet extracted, created over `older_than_seconds` ago, of curated
    spirits with extraction enabled, oldest first (for the sweep: their message was lost, or
    their spirit was paused)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    pending = Memory.objects.filter(
        extracted_at__isnull=True,
        created_at__lt=cutoff,
        spirit__deleted_at__isnull=True,
        spirit__status__in=CURATED_STATUSES,
    )
    disabled = [
        spirit.pk
        for spirit in Spirit.objects.filter(pk__in=pending.values("spirit_id").distinct())
        if not spirit.effective_config["extraction"]["enabled"]
    ]
    rows = pending.exclude(spirit_id__in=disabled).order_by("created_at", "id")
    return list(rows.values_list("id", flat=True)[:limit])


def spirits_due_for_evolution(limit: int = 500) -> list[UUID]:
    """Ids of curated spirits whose identity is due (for the sweep: a lost message, or a spirit
    that was paused)."""
    candidates = (
        Spirit.objects.filter(status__in=CURATED_STATUSES)
        .filter(
            Exists(Knowledge.objects.filter(spirit=OuterRef("pk")))
            | Exists(Lesson.objects.filter(spirit=OuterRef("pk")))
        )
        .order_by("id")
    )
    due = []
    for spirit in candidates.iterator():
        if spirit.effective_config["identity"]["enabled"] and identity_due(spirit)[0]:
            due.append(spirit.pk)
            if len(due) >= limit:
                break
    return due
