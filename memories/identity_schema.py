"""The schema of a spirit's identity: its structured self-model."""

from __future__ import annotations

from typing import Any

import jsonschema
from django.core.exceptions import ValidationError

_text = {"type": "string", "maxLength": 4000}
_short = {"type": "string", "maxLength": 255}

IDENTITY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "essence": _text,
        "purpose": _text,
        "principles": {"type": "array", "items": _text, "maxItems": 50},
        "values": {
            "type": "array",
            "maxItems": 50,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {
                    "name": _short,
                    "description": _text,
                    "weight": {"type": "number", "minimum": 0, "maximum": 1},
                },
            },
        },
        "communication_style": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "tone": _short,
                "verbosity": {"enum": ["terse", "balanced", "detailed"]},
                "formality": {"enum": ["casual", "neutral", "formal"]},
                "notes": _text,
            },
        },
        "relationships": {
            "type": "array",
            "maxItems": 200,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {"name": _short, "kind": _short, "notes": _text},
            },
        },
        "current_arc": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"title": _short, "description": _text, "since": _short},
        },
    },
}

EMPTY_IDENTITY: dict[str, Any] = {
    "essence": "",
    "purpose": "",
    "principles": [],
    "values": [],
    "communication_style": {},
    "relationships": [],
    "current_arc": {},
}

_validator = jsonschema.Draft202012Validator(IDENTITY_SCHEMA)


def validate_identity(value: Any) -> None:
    errors = sorted(_validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    if errors:
        raise ValidationError(
            [f"{'.'.join(map(str, e.absolute_path)) or 'identity'}: {e.message}" for e in errors],
            code="invalid_identity",
        )
