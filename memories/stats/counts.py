"""Live memories, knowledge and lessons of a spirit by type, tier and status: three GROUP BYs."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from ..models import (
    Knowledge,
    KnowledgeType,
    Lesson,
    LessonStatus,
    Memory,
    MemoryStatus,
    MemoryTier,
    MemoryType,
)

# Knowledge has no status field: a fact that stopped being true is closed (valid_to set).
KNOWLEDGE_STATUSES = ("current", "closed")


def memory_counts(spirit_id) -> dict[str, Any]:
    """{total, pinned, by_type, by_tier, by_status}: every known value, zero included."""
    by_type = dict.fromkeys(MemoryType.values, 0)
    by_tier = dict.fromkeys(MemoryTier.values, 0)
    by_status = dict.fromkeys(MemoryStatus.values, 0)
    total = pinned = 0
    rows = (
        Memory.objects.filter(spirit_id=spirit_id)
        .order_by()
        .values_list("memory_type", "tier", "status")
        .annotate(n=Count("id"), pinned=Count("id", filter=Q(pinned=True)))
    )
    for memory_type, tier, status, n, pinned_n in rows:
        by_type[memory_type] = by_type.get(memory_type, 0) + n
        by_tier[tier] = by_tier.get(tier, 0) + n
        by_status[status] = by_status.get(status, 0) + n
        total += n
        pinned += pinned_n
    return {
        "total": total,
        "pinned": pinned,
        "by_type": by_type,
        "by_tier": by_tier,
        "by_status": by_status,
    }


def knowledge_counts(spirit_id) -> dict[str, Any]:
    """{total, by_type, by_status}: status is current (valid_to empty) or closed."""
    by_type = dict.fromkeys(KnowledgeType.values, 0)
    by_status = dict.fromkeys(KNOWLEDGE_STATUSES, 0)
    rows = (
        Knowledge.objects.filter(spirit_id=spirit_id)
        .order_by()
        .values_list("knowledge_type")
        .annotate(
            current=Count("id", filter=Q(valid_to__isnull=True)),
            closed=Count("id", filter=Q(valid_to__isnull=False)),
        )
    )
    for knowledge_type, current, closed in rows:
        by_type[knowledge_type] = by_type.get(knowledge_type, 0) + current + closed
        by_status["current"] += current
        by_status["closed"] += closed
    return {"total": sum(by_status.values()), "by_type": by_type, "by_status": by_status}


def lesson_counts(spirit_id) -> dict[str, Any]:
    """{total, by_status}."""
    by_status = dict.fromkeys(LessonStatus.values, 0)
    rows = (
        Lesson.objects.filter(spirit_id=spirit_id)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    for status, n in rows:
        by_status[status] = by_status.get(status, 0) + n
    return {"total": sum(by_status.values()), "by_status": by_status}


def curated_counts(spirit_id) -> dict[str, Any]:
    return {
        "memories": memory_counts(spirit_id),
        "knowledge": knowledge_counts(spirit_id),
        "lessons": lesson_counts(spirit_id),
    }
