"""Webhook deliveries and their attempts (imported by teams.models, so Django registers them)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from elephantasm.models import BaseModel


class WebhookStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (gave up)"


class WebhookDelivery(BaseModel):
    """One event for a team's webhook. `id` is the delivery id receivers de-duplicate on.

    `spirit_id` has no foreign key (a purge of the spirit removes its deliveries explicitly, and
    the purge's own delivery outlives it). `cycle` counts "send again" rounds; `attempt_count`
    counts the attempts of the current cycle, `next_attempt_at` says when the next one is due
    (while a request is in flight it is a lease: the sweep re-enqueues once it has passed).
    """

    team = models.ForeignKey(
        "teams.Team", on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    spirit_id = models.UUIDField(null=True, blank=True)
    event_type = models.CharField(max_length=64)
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=WebhookStatus.choices, default=WebhookStatus.PENDING
    )
    cycle = models.PositiveIntegerField(default=1)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["team", "-created_at"], name="webhook_team_created_idx"),
            models.Index(fields=["spirit_id"], name="webhook_spirit_idx"),
            # Pruning (webhooks_prune): settled deliveries by age, so the sweep reads only the
            # old ones instead of the whole table.
            models.Index(
                fields=["created_at"],
                condition=~models.Q(status="pending"),
                name="webhook_settled_created_idx",
            ),
            # The sweep: pending deliveries by due time.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="webhook_pending_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.team_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery."""

    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    cycle = models.PositiveIntegerField(default=1)
    number = models.PositiveIntegerField()
    succeeded = models.BooleanField(default=False)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        outcome = "ok" if self.succeeded else (self.error or f"HTTP {self.http_status}")
        return f"attempt {self.cycle}.{self.number}: {outcome}"
