"""Thin Celery tasks of webhooks (found by Celery through teams.tasks)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from elephantasm.tasks import SAFE_DELIVERY

from . import services


@shared_task(bind=True, name=services.DELIVER_TASK, **SAFE_DELIVERY)
def deliver_webhook(self, delivery_id: str, cycle: int, number: int) -> str:
    """Attempt `number` of the delivery; on a network error, 5xx, 408 or 429 schedule the next
    with exponential backoff until WEBHOOK_MAX_ATTEMPTS, then the delivery is "failed"."""
    outcome = services.webhook_attempt(delivery_id=delivery_id, cycle=cycle, number=number)
    if outcome.state == "retry":
        raise self.retry(
            args=(delivery_id, cycle, number + 1),
            countdown=outcome.wait,
            max_retries=settings.WEBHOOK_MAX_ATTEMPTS + SAFE_DELIVERY["max_retries"],
        )
    return outcome.state


@shared_task(bind=True, name="teams.webhooks.sweep", **SAFE_DELIVERY)
def webhooks_sweep(self) -> int:
    """Re-enqueue pending deliveries whose task was lost, and delete deliveries older than
    WEBHOOK_DELIVERY_RETENTION_DAYS. Returns how many were re-enqueued."""
    due = services.webhooks_due()
    for delivery_id, cycle, number in due:
        deliver_webhook.delay(delivery_id, cycle, number)
    services.webhooks_prune()
    return len(due)
