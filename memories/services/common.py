from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from elephantasm.api.errors import ValidationFailed

TEXT_FIELDS = ("content", "summary", "subject", "topic", "statement", "rationale")


def apply_fields(obj: models.Model, data: dict[str, Any], allowed: Iterable[str]) -> set[str]:
    """Set the allowed fields present in `data`; refuse unknown ones. Returns the changed names."""
    allowed = set(allowed)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationFailed(
            "Unknown or read-only fields: " + ", ".join(unknown) + ".",
            details={name: ["This field cannot be set here."] for name in unknown},
        )
    changed = set()
    for name, value in data.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.add(name)
    return changed


def validate(obj: models.Model, exclude: Iterable[str] = ()) -> None:
    """full_clean, raised as the API's 400 with field details."""
    try:
        obj.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        raise ValidationFailed(
            "Invalid input: " + ", ".join(sorted(exc.message_dict)) + ".",
            details=exc.message_dict,
        ) from exc


def texts_changed(changed: set[str]) -> bool:
    return bool(changed & set(TEXT_FIELDS))
