from __future__ import annotations

from django.db import models

from elephantasm.models import SoftDeleteModel
from elephantasm.validators import validate_json_object, validate_no_nul
from teams.models import Team

from .config import effective_config, validate_config


class SpiritStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ARCHIVED = "archived", "Archived"


class Spirit(SoftDeleteModel):
    """An agent whose memory Elephantasm keeps."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="spirits")
    name = models.CharField(max_length=255, validators=[validate_no_nul])
    description = models.TextField(blank=True, validators=[validate_no_nul])
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
