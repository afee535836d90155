from __future__ import annotations

from django.db import models
from django.utils import timezone

from elephantasm.models import BaseModel


class DreamTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    API = "api", "API"
    ADMIN = "admin", "Admin"


class DreamStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    ROLLED_BACK = "rolled_back", "Rolled back"


class DreamSession(BaseModel):
    """One run of the Dreamer over a spirit's memories; its actions say what it changed.

    At most one session per spirit is queued at a time (a partial unique constraint).
    """

    spirit = models.ForeignKey("spirits.Spirit", on_delete=models.CASCADE, related_name="dreams")
    trigger = models.CharField(max_length=16, choices=DreamTrigger.choices)
    status = models.CharField(
        max_length=16, choices=DreamStatus.choices, default=DreamStatus.QUEUED
    )
    # Who asked for it (a user, an API key, or the scheduler), as in audit entries.
    actor_type = models.CharField(max_length=16)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=255, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Counts of what the run considered and changed (pipeline.dreamer.run).
    stats = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    rolled_back_at = models.DateTimeField(null=True, blank=True)
    rolled_back_by = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["spirit"],
                condition=models.Q(status="queued"),
                name="dream_one_queued_per_spirit",
            )
        ]
        indexes = [
            models.Index(fields=["spirit", "-created_at"], name="dream_spirit_created_idx"),
            models.Index(fields=["status", "created_at"], name="dream_status_created_idx"),
        ]

    def __str__(self) -> str:
        return f"dream {self.pk} of {self.spirit_id} ({self.status})"


class DreamActionKind(models.TextChoices):
    FADE = "fade", "Fade (decay, tier, status)"
    EXPIRE = "expire", "Expire"
    MERGE = "merge", "Merge near-duplicates"


class DreamAction(models.Model):
    """One change a dream made: the memory's tracked state before and after, and why.

    `memory_id` has no foreign key: a merged memory a rollback removed is still named here.
    For a merge, `memory_id` is the new memory; `before`/`after` hold the sources' states under
    "sources" (and `after["memory"]` the merged memory's), `related_ids` the sources' ids.
    """

    id = models.BigAutoField(primary_key=True)
    session = models.ForeignKey(DreamSession, on_delete=models.CASCADE, related_name="actions")
    memory_id = models.UUIDField()
    kind = models.CharField(max_length=16, choices=DreamActionKind.choices)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    reasoning = models.TextField(blank=True)
    related_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["memory_id"], name="dream_action_memory_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.memory_id}"
