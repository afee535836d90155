"""Validators for text that PostgreSQL refuses: NUL characters and unpaired UTF-16 surrogates
(which JSON's \\ud800-style escapes can smuggle in), in plain text and anywhere inside JSON."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _printable(key: str) -> str:
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", key)


def find_nul(value: Any, path: str = "") -> str | None:
    """Return the JSON path of the first string (or key) PostgreSQL cannot store, or None."""
    if isinstance(value, str):
        return (path or "$") if _UNSTORABLE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            key_path = f"{path}.{_printable(str(key))}" if path else _printable(str(key))
            if isinstance(key, str) and _UNSTORABLE.search(key):
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
            "Null characters (\\u0000) and unpaired surrogates are not allowed (at %(where)s).",
            code="null_characters_not_allowed",
            params={"where": where},
        )


def validate_json_object(value: Any) -> None:
    if not isinstance(value, dict):
        raise ValidationError("Must be a JSON object.", code="not_an_object")
