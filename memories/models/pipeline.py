from __future__ import annotations

from django.db import models
from django.utils import timezone


class PipelineFailure(models.Model):
    """A background task of a spirit's pipeline that raised: retried (`final` false) or given up.

    Written by the Celery signal handlers in pipeline.status; the newest KEEP_PER_STEP per
    spirit and step are kept.
    """

    id = models.BigAutoField(primary_key=True)
    spirit = models.ForeignKey(
        "spirits.Spirit", on_delete=models.CASCADE, related_name="pipeline_failures"
    )
    step = models.CharField(max_length=32)
    task_name = models.CharField(max_length=255)
    task_id = models.CharField(max_length=255, blank=True)
    error = models.CharField(max_length=1000)
    final = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["spirit", "step", "-created_at"], name="pipeline_failure_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.step} failed for {self.spirit_id}: {self.error[:60]}"
