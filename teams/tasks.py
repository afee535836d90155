"""Celery finds the teams app's tasks here (autodiscovery looks for `<app>.tasks`)."""

from .webhooks.tasks import deliver_webhook, webhooks_sweep

__all__ = ["deliver_webhook", "webhooks_sweep"]
