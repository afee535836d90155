from __future__ import annotations

from django.db import models

from elephantasm.models import BaseModel


class ContextPack(BaseModel):
    """A compiled context pack, kept so agents and curators can see what was injected.

    The newest PACK_HISTORY_PER_SPIRIT per spirit are kept (pruned off the request path).
    """

    spirit = models.ForeignKey("spirits.Spirit", on_delete=models.CASCADE, related_name="packs")
    preset = models.CharField(max_length=32)
    query = models.TextField(blank=True)
    session_id = models.CharField(max_length=255, blank=True)
    max_tokens = models.PositiveIntegerField()
    token_count = models.PositiveIntegerField()
    # The request's effective limits and weights, the budget per layer, the items, the text.
    settings = models.JSONField(default=dict)
    budget = models.JSONField(default=dict)
    items = models.JSONField(default=list)
    text = models.TextField(blank=True)
    actor_type = models.CharField(max_length=16, blank=True)
    actor_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["spirit", "-created_at"], name="pack_spirit_created_idx")]

    def __str__(self) -> str:
        return f"pack {self.pk} of {self.spirit_id} ({self.token_count}/{self.max_tokens} tokens)"
