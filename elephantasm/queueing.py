"""Send Celery tasks by name: the queue of each name is in settings.CELERY_TASK_ROUTES.

Senders never import a tasks module (only the Celery worker does), so no service depends on the
tasks that call it. `send_after_commit` is the house rule for work caused by a write: the task is
sent once the current transaction commits (at once outside one), and a broker failure is logged,
not raised (`robust`): the data is committed and a beat sweep finds the work later.
"""

from __future__ import annotations

from typing import Any

from celery.result import AsyncResult
from django.db import transaction

from .celery import app


def send(name: str, *args: Any, countdown: float | None = None) -> AsyncResult:
    """Send the task `name` with `args` now (routed by CELERY_TASK_ROUTES)."""
    return app.send_task(name, args=list(args), countdown=countdown)


def send_after_commit(name: str, *args: Any, countdown: float | None = None) -> None:
    """Send the task `name` with `args` once the current transaction commits."""
    transaction.on_commit(lambda: send(name, *args, countdown=countdown), robust=True)
