"""Where Celery sends a task (settings.CELERY_TASK_ROUTES, as the app's router reads them)."""

from __future__ import annotations

from elephantasm import celery_app


def queue_of(task_name: str) -> str:
    """The queue a send of `task_name` goes to."""
    return celery_app.amqp.router.route({}, task_name)["queue"].name
