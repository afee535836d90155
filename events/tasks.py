"""Thin Celery tasks of the events app: each calls one service."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from events.services import sessions_mark_idle

# Transient: the database went away or is restarting. Anything else is a bug and is not retried.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


@shared_task(
    bind=True,
    name="events.tasks.mark_idle_sessions",
    queue="maintenance",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def mark_idle_sessions(self) -> int:
    """Sweep: active sessions without an event for SESSION_IDLE_MINUTES become idle (idempotent).

    Returns how many sessions changed. Scheduled by CELERY_BEAT_SCHEDULE["sessions-mark-idle"].
    """
    return sessions_mark_idle()
