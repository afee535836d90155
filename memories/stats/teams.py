"""The admin index's first part: teams, and in each its spirits with counts and pipeline health.

Two queries whatever the number of teams and spirits: the teams with their live spirit counts,
then the SPIRITS_PER_TEAM most recently active live spirits of each (a window), each with its
counts and pipeline figures as correlated subqueries (no join fan-out).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, F, OuterRef, Q, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from events.models import Event
from spirits.models import Spirit
from teams.models import Team

from ..models import DreamSession, Knowledge, Lesson, Memory, PipelineFailure
from .health import FAILING_WINDOW, health_of

SPIRITS_PER_TEAM = 20
TEAMS_SHOWN = 50


def _count(queryset) -> Coalesce:
    """COUNT(*) of `queryset` (filtered on OuterRef("pk")) as a correlated subquery."""
    counted = queryset.order_by().values("spirit_id").annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted), 0)


def _of_spirit(model, manager: str = "objects", **filters):
    return _count(getattr(model, manager).filter(spirit_id=OuterRef("pk"), **filters))


def _spirit_rows(team_ids: list, now: datetime) -> list[Spirit]:
    last_dream = DreamSession.objects.filter(spirit_id=OuterRef("pk")).order_by("-created_at")
    ranked = Spirit.objects.filter(team_id__in=team_ids).annotate(
        rank=Window(
            RowNumber(),
            partition_by=[F("team_id")],
            order_by=[F("last_activity_at").desc(nulls_last=True), F("name").asc()],
        ),
        n_events=_of_spirit(Event),
        pending_enrichment=_of_spirit(Event, enriched_at__isnull=True),
        pending_synthesis=_of_spirit(Event, synthesized_at__isnull=True),
        n_memories=_of_spirit(Memory),
        pending_extraction=_of_spirit(Memory, extracted_at__isnull=True),
        n_knowledge=_of_spirit(Knowledge, valid_to__isnull=True),
        n_lessons=_of_spirit(Lesson),
        final_failures=_count(
            PipelineFailure.objects.filter(
                spirit_id=OuterRef("pk"), final=True, created_at__gte=now - FAILING_WINDOW
            )
        ),
        last_dream_status=Subquery(last_dream.values("status")[:1]),
        last_dream_at=Subquery(last_dream.values("created_at")[:1]),
    )
    return list(ranked.filter(rank__lte=SPIRITS_PER_TEAM).order_by("team_id", "rank"))


def teams_overview(team_ids: list | None, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """[{team, spirit_count, spirits: [{spirit, events, memories, ..., health}]}], teams by name.

    `team_ids`: the teams to show (None: every team, for a superuser; at most TEAMS_SHOWN)."""
    now = now or timezone.now()
    teams = Team.objects.order_by("name")
    if team_ids is not None:
        teams = teams.filter(pk__in=team_ids)
    teams = list(
        teams.annotate(spirit_count=Count("spirits", filter=Q(spirits__deleted_at__isnull=True)))[
            :TEAMS_SHOWN
        ]
    )
    by_team: dict[Any, list[dict[str, Any]]] = {team.pk: [] for team in teams}
    for spirit in _spirit_rows(list(by_team), now) if teams else []:
        extracting = spirit.effective_config["extraction"]["enabled"]
        pending_extraction = spirit.pending_extraction if extracting else 0
        by_team[spirit.team_id].append(
            {
                "spirit": spirit,
                "events": spirit.n_events,
                "memories": spirit.n_memories,
                "knowledge": spirit.n_knowledge,
                "lessons": spirit.n_lessons,
                "pending": {
                    "enrichment": spirit.pending_enrichment,
                    "synthesis": spirit.pending_synthesis,
                    "extraction": pending_extraction,
                },
                "final_failures": spirit.final_failures,
                "last_dream_status": spirit.last_dream_status,
                "last_dream_at": spirit.last_dream_at,
                "health": health_of(
                    status=spirit.status,
                    deleted=False,
                    final_failures=spirit.final_failures,
                    pending=spirit.pending_enrichment
                    + spirit.pending_synthesis
                    + pending_extraction,
                ),
            }
        )
    return [
        {"team": team, "spirit_count": team.spirit_count, "spirits": by_team[team.pk]}
        for team in teams
    ]
