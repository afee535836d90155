from __future__ import annotations

from django.core.validators import MaxLengthValidator
from django.db import models

from elephantasm.models import SoftDeleteModel
from elephantasm.validators import TEXT_MAX_CHARS, validate_json_object, validate_no_nul
from teams.models import Team

from .config import effective_config, validate_config


class SpiritStatus(models.TextChoices):
    """What a spirit's status means:

    - draft, active: events are recorded and the pipeline curates them (synthesis, extraction,
      identity evolution, dreams);
    - paused: events are still accepted and stored (and enriched), but nothing is synthesized,
      extracted, evolved or dreamed until the spirit is active again; then it catches up (the
      sweeps find what waited);
    - archived: read-only. Every write to it or its data answers 409 `spirit_archived`, except
      changing the spirit itself (its status back to active), deleting and purging it.
    """

    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ARCHIVED = "archived", "Archived"


# The statuses under which the background pipeline curates a spirit's memory.
CURATED_STATUSES = (SpiritStatus.DRAFT, SpiritStatus.ACTIVE)


class Spirit(SoftDeleteModel):
    """An agent whose memory Elephantasm keeps."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="spirits")
    name = models.CharField(max_length=255, validators=[validate_no_nul])
    description = models.TextField(
        blank=True, validators=[validate_no_nul, MaxLengthValidator(TEXT_MAX_CHARS)]
    )
    metadata = models.JSONField(
        default=dict, blank=True, validators=[validate_json_object, validate_no_nul]
    )
    status = models.CharField(
        max_length=16, choices=SpiritStatus.choices, default=SpiritStatus.ACTIVE
    )
    config = models.JSONField(default=dict, blank=True, validators=[validate_config])
    last_activity_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["team", "-created_at"], name="spirit_team_created_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_config(self) -> dict:
        return effective_config(self.config)

    @property
    def is_curated(self) -> bool:
        """Whether the background pipeline curates this spirit now (see SpiritStatus)."""
        return self.status in CURATED_STATUSES
