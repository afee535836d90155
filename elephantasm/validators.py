"""Validators for text that PostgreSQL refuses: NUL characters, in plain text and inside JSON."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError


def find_nul(value: Any, path: str = "") -> str | None:
    """Return the JSON path of the first string (or key) holding a NUL character, or None."""
    if isinstance(value, str):
        return path or "$" if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            key_path = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and "\x00" in key:
                return key_path
            found = find_nul(item, key_path)
            if found:
                return found
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = find_nul(item, f"{path}[{index}]")
            if found:
                return found
    return None


def validate_no_nul(value: Any) -> None:
    where = find_nul(value)
    if where is not None:
        raise ValidationError(
            "Null characters (\\u0000) are not allowed (at %(where)s).",
            code="null_characters_not_allowed",
            params={"where": where},
        )


def validate_json_object(value: Any) -> None:
    if not isinstance(value, dict):
        raise ValidationError("Must be a JSON object.", code="not_an_object")
