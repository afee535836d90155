"""Thin Celery tasks of the events app. Only Celery imports this module; task names are wire
names, their queues are in settings.CELERY_TASK_ROUTES. (The Cortex's tasks are the pipeline's.)"""

from __future__ import annotations

from celery import shared_task

from elephantasm.tasks import SAFE_DELIVERY
from events.services import sessions_mark_idle


@shared_task(bind=True, name="events.tasks.mark_idle_sessions", **SAFE_DELIVERY)
def mark_idle_sessions(self) -> int:
    """Sweep: active sessions without an event for SESSION_IDLE_MINUTES become idle (idempotent).

    Returns how many sessions changed. Scheduled by CELERY_BEAT_SCHEDULE["sessions-mark-idle"].
    """
    return sessions_mark_idle()
