from __future__ import annotations

from django.db import models

from elephantasm.models import BaseModel
from elephantasm.validators import validate_no_nul

from ..identity_schema import EMPTY_IDENTITY, validate_identity


def empty_identity() -> dict:
    return {**EMPTY_IDENTITY}


class Identity(BaseModel):
    """A spirit's self-model (one per spirit); every revision bumps `version` and is audited."""

    spirit = models.OneToOneField(
        "spirits.Spirit", on_delete=models.CASCADE, related_name="identity"
    )
    document = models.JSONField(
        default=empty_identity, validators=[validate_identity, validate_no_nul]
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name_plural = "identities"

    def __str__(self) -> str:
        return f"identity of {self.spirit_id} v{self.version}"
