"""A spirit's activity per day over the last days (UTC), zero-filled: four GROUP BY queries.

- events and tokens: live events by the day they occurred;
- memories created: by the day the row was made (soft-deleted ones included: it is history);
- memories archived: audit entries that left a memory archived (a dream's expiry or fading,
  a curator's archive or edit), by their day;
- dreams and their actions: dream sessions by the day they were requested.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from events.models import Event

from ..models import AuditAction, AuditEntry, DreamSession, Memory, MemoryStatus

SERIES = ("events", "tokens", "memories_created", "memories_archived", "dreams", "dream_actions")
MAX_DAYS = 366

ARCHIVED = Q(action=AuditAction.ARCHIVE) | (
    Q(after__status=MemoryStatus.ARCHIVED) & ~Q(before__status=MemoryStatus.ARCHIVED)
)


def _per_day(queryset, field: str, **aggregates) -> dict[date, dict[str, int]]:
    rows = queryset.annotate(day=TruncDate(field)).order_by().values("day").annotate(**aggregates)
    return {row.pop("day"): row for row in rows}


def daily_series(spirit_id, *, days: int, now: datetime) -> list[dict[str, Any]]:
    """[{day, events, tokens, memories_created, memories_archived, dreams, dream_actions}], one
    per day from `days - 1` days ago to today, oldest first."""
    days = max(1, min(days, MAX_DAYS))
    today = now.date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=now.tzinfo)
    events = _per_day(
        Event.objects.filter(spirit_id=spirit_id, occurred_at__gte=since),
        "occurred_at",
        events=Count("id"),
        tokens=Sum("token_count"),
    )
    created = _per_day(
        Memory.all_objects.filter(spirit_id=spirit_id, created_at__gte=since),
        "created_at",
        memories_created=Count("id"),
    )
    archived = _per_day(
        AuditEntry.objects.filter(
            ARCHIVED, spirit_id=spirit_id, object_type="memory", created_at__gte=since
        ),
        "created_at",
        memories_archived=Count("id"),
    )
    dreams = _per_day(
        DreamSession.objects.filter(spirit_id=spirit_id, created_at__gte=since),
        "created_at",
        dreams=Count("id", distinct=True),
        dream_actions=Count("actions"),
    )
    series = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row: dict[str, Any] = {"day": day, **dict.fromkeys(SERIES, 0)}
        for source in (events, created, archived, dreams):
            row.update({k: v or 0 for k, v in source.get(day, {}).items()})
        series.append(row)
    return series
