"""The spirit dashboard: what a spirit holds, how its pipeline is doing, what its dreams did.

Everything comes from one selector (`memories.stats.spirit_overview`, a fixed number of queries);
this module turns it into rows, links and SVG charts (console.charts) for
templates/admin/spirits/dashboard.html. `?days=` picks the charts' window (7 to 365, default 30).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.urls import reverse

from pipeline.status import STEPS

from ...models import (
    DreamSession,
    DreamStatus,
    KnowledgeType,
    LessonStatus,
    MemoryStatus,
    MemoryTier,
    MemoryType,
)
from ...stats import spirit_overview
from ..display import when
from .charts import PALETTE, Series, bar_chart, share_bar
from .links import console_links, filtered

DEFAULT_DAYS, MIN_DAYS, MAX_DAYS = 30, 7, 365
DREAMS_SHOWN = 5
DAY_CHOICES = (7, 30, 90, 365)


def _days(request) -> int | None:
    raw = request.GET.get("days", "")
    if raw == "":
        return DEFAULT_DAYS
    if not raw.isdigit() or not MIN_DAYS <= int(raw) <= MAX_DAYS:
        return None
    return int(raw)


def _charts(series: list[dict[str, Any]]) -> list:
    days = [row["day"] for row in series]

    def values(key):
        return [row[key] for row in series]

    return [
        bar_chart(
            title="Events per day",
            days=days,
            series=[Series("events", "Events", values("events"), PALETTE[0])],
        ),
        bar_chart(
            title="Tokens per day",
            days=days,
            series=[Series("tokens", "Tokens", values("tokens"), PALETTE[1])],
        ),
        bar_chart(
            title="Memories created and archived per day",
            days=days,
            series=[
                Series("created", "Created", values("memories_created"), PALETTE[2]),
                Series("archived", "Archived", values("memories_archived"), PALETTE[5]),
            ],
        ),
        bar_chart(
            title="Dreams per day",
            days=days,
            series=[Series("dreams", "Dreams", values("dreams"), PALETTE[3])],
        ),
        bar_chart(
            title="Dream actions per day (fades, expiries, merges)",
            days=days,
            series=[Series("actions", "Actions", values("dream_actions"), PALETTE[6])],
        ),
    ]


def _count_rows(counts: dict[str, int], choices, spirit, changelist: str, param: str) -> list:
    """(label, count, link to the filtered changelist) for every value, zero included."""
    return [
        (label, counts.get(value, 0), filtered(changelist, spirit, **{param: value}))
        for value, label in choices
    ]


def _pipeline_rows(status: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name in STEPS:
        step = status["steps"][name]
        pending = step.get("pending")
        if isinstance(pending, dict):
            pending = ", ".join(f"{n} {kind}" for kind, n in pending.items() if n) or 0
        rows.append(
            {
                "step": name,
                "enabled": step.get("enabled", True),
                "pending": pending if pending is not None else "—",
                "last_run_at": when(step["last_run_at"]),
                "last_failure_at": when(step["last_failure_at"]),
                "failed": step["last_failure_at"] is not None,
            }
        )
    return rows


def _dreams(request, dreams: list[dict[str, Any]]) -> tuple[list, bool]:
    dream_admin = admin.site.get_model_admin(DreamSession)
    may_roll_back = dream_admin.has_rollback_permission(request)
    for dream in dreams:
        session = dream["session"]
        dream["url"] = reverse("admin:memories_dreamsession_change", args=[session.pk])
        dream["can_roll_back"] = (
            may_roll_back
            and session.status == DreamStatus.COMPLETED
            and dream_admin.role_allows(request, "rollback", session)
        )
        for action in dream["actions"]:
            action.memory_url = (
                reverse("admin:memories_memory_change", args=[action.memory_id])
                if action.memory_exists
                else None
            )
    return dreams, may_roll_back


def dashboard_view(request, object_id):
    spirit = request.console_spirit
    days = _days(request)
    if days is None:
        return HttpResponseBadRequest(
            f"days must be a whole number from {MIN_DAYS} to {MAX_DAYS}.".encode()
        )
    overview = spirit_overview(spirit, days=days, dreams=DREAMS_SHOWN)
    status = overview["pipeline_status"]
    memories, knowledge = overview["memories"], overview["knowledge"]
    memory_list = "admin:memories_memory_changelist"
    dreams, may_roll_back = _dreams(request, overview["dreams"])
    context = {
        **admin.site.each_context(request),
        "title": f"{spirit.name}: dashboard",
        "subtitle": None,
        "opts": spirit._meta,
        "spirit": spirit,
        "overview": overview,
        "links": console_links(spirit),
        "days": days,
        "day_choices": DAY_CHOICES,
        "charts": _charts(overview["series"]),
        "events_by_type": [(t, n) for t, n in overview["events_by_type"].items() if n],
        "memory_types": _count_rows(
            memories["by_type"], MemoryType.choices, spirit, memory_list, "memory_type__exact"
        ),
        "memory_tiers": _count_rows(
            memories["by_tier"], MemoryTier.choices, spirit, memory_list, "tier__exact"
        ),
        "memory_statuses": _count_rows(
            memories["by_status"], MemoryStatus.choices, spirit, memory_list, "status__exact"
        ),
        "tier_bar": share_bar(
            title="Memories by tier",
            parts=[(label, memories["by_tier"][v]) for v, label in MemoryTier.choices],
        ),
        "status_bar": share_bar(
            title="Memories by status",
            parts=[(label, memories["by_status"][v]) for v, label in MemoryStatus.choices],
        ),
        "knowledge_types": _count_rows(
            knowledge["by_type"],
            KnowledgeType.choices,
            spirit,
            "admin:memories_knowledge_changelist",
            "knowledge_type__exact",
        ),
        "lesson_statuses": _count_rows(
            overview["lessons"]["by_status"],
            LessonStatus.choices,
            spirit,
            "admin:memories_lesson_changelist",
            "status__exact",
        ),
        "pipeline_rows": _pipeline_rows(status),
        "gate": status["steps"]["synthesis"]["gate"],
        "threshold": spirit.effective_config["synthesis"]["threshold"],
        "dreamer": status["steps"]["dreamer"],
        "language_model": status["language_model"],
        "failures": status["failures"],
        "dreams": dreams,
        "may_roll_back": may_roll_back,
        "dream_list": filtered("admin:memories_dreamsession_changelist", spirit),
    }
    request.current_app = admin.site.name
    return TemplateResponse(request, "admin/spirits/dashboard.html", context)
