"""Thin Celery tasks of the memories app (pack use, retention). Only Celery imports this module;
task names are wire names, their queues are in settings.CELERY_TASK_ROUTES."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task

from elephantasm.tasks import SAFE_DELIVERY
from pipeline import flow
from teams.models import Team

from .packs import access as pack_access
from .services.retention import retention_apply, teams_with_retention


@shared_task(bind=True, name=flow.RECORD_PACK_USE, **SAFE_DELIVERY)
def record_pack_use(self, spirit_id: str, memory_ids: list[str], at: str) -> int:
    """A pack used these memories at `at` (ISO time): count it, and bound the pack history."""
    return pack_access.record_pack_use(
        spirit_id=spirit_id, memory_ids=memory_ids, at=datetime.fromisoformat(at)
    )


@shared_task(bind=True, name="memories.tasks.retention_sweep", **SAFE_DELIVERY)
def retention_sweep(self) -> int:
    """Beat (RETENTION_SWEEP_SECONDS): one retention task per team with retention_days."""
    ids = teams_with_retention()
    for team_id in ids:
        flow.enqueue_retention(team_id)
    return len(ids)


@shared_task(bind=True, name=flow.APPLY_RETENTION, **SAFE_DELIVERY)
def apply_retention(self, team_id: str) -> dict[str, int]:
    """Remove the team's events older than its retention_days, and what only they supported."""
    team = Team.objects.filter(pk=team_id).first()
    return {} if team is None else retention_apply(team=team)
