from __future__ import annotations

from django.db import models
from django.utils import timezone


class LlmCallStatus(models.TextChoices):
    OK = "ok", "OK"
    INVALID_OUTPUT = "invalid_output", "Invalid output"
    HTTP_ERROR = "http_error", "HTTP error"
    TIMEOUT = "timeout", "Timeout"


class LlmCall(models.Model):
    """One HTTP request to the language model, failed attempts included: tokens, latency, outcome.

    No foreign key to the spirit: the usage record outlives it.
    """

    id = models.BigAutoField(primary_key=True)
    model = models.CharField(max_length=255)
    purpose = models.CharField(max_length=64)  # "synthesis", "extraction", "dream", ...
    spirit_id = models.UUIDField(null=True, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    total_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=LlmCallStatus.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["spirit_id", "created_at"], name="llmcall_spirit_created"),
            models.Index(fields=["purpose", "created_at"], name="llmcall_purpose_created"),
            models.Index(fields=["created_at"], name="llmcall_created"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} · {self.model} · {self.status} · {self.total_tokens} tokens"
