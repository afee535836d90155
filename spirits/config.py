"""The schema of a spirit's memory settings (`Spirit.config`), with defaults.

Callers store only what they change; `effective_config()` merges the defaults underneath.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
from django.core.exceptions import ValidationError

_unit = {"type": "number", "minimum": 0, "maximum": 1}
_positive_int = {"type": "integer", "minimum": 1}
# Durations become timedeltas added to now: without a bound, 10**12 hours was a 500 (Python's
# dates end in 9999). A year is the most any of them may be.
MINUTES_MAX = 365 * 24 * 60
HOURS_MAX = 365 * 24
_minutes = {"type": "integer", "minimum": 1, "maximum": MINUTES_MAX}
_hours = {"type": "integer", "minimum": 1, "maximum": HOURS_MAX}

CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "synthesis": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "enabled": {"type": "boolean"},
                "time_weight": _unit,
                "event_weight": _unit,
                "token_weight": _unit,
                "threshold": {"type": "number", "exclusiveMinimum": 0},
                "max_pending_events": _positive_int,
                "max_pending_tokens": _positive_int,
                "max_idle_minutes": _minutes,
                "idle_minutes": _minutes,
                "max_wait_minutes": _minutes,
                "episode_gap_minutes": _minutes,
            },
        },
        "extraction": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "enabled": {"type": "boolean"},
                "min_confidence": _unit,
            },
        },
        "dreamer": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "enabled": {"type": "boolean"},
                "decay_half_life_days": {"type": "number", "exclusiveMinimum": 0},
                "hot_above": _unit,
                "warm_above": _unit,
                "decaying_below": _unit,
                "archive_below": _unit,
                "merge": {"type": "boolean"},
                "merge_similarity": _unit,
                "schedule_hours": _hours,
                "idle_minutes": {"type": "integer", "minimum": 0, "maximum": MINUTES_MAX},
                "max_interval_hours": _hours,
            },
        },
        "identity": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "enabled": {"type": "boolean"},
                "revise_after": _positive_int,
            },
        },
        "retrieval": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "pack_max_tokens": {"type": "integer", "minimum": 64, "maximum": 200_000},
                "vector_weight": _unit,
                "text_weight": _unit,
            },
        },
    },
}

DEFAULT_CONFIG: dict[str, Any] = {
    # Synthesis is due when any one of these holds (pipeline.synthesis.synthesis_due): the
    # spirit has been quiet for idle_minutes (a conversation ended), max_pending_events or
    # max_pending_tokens are pending, the oldest pending event waited max_wait_minutes, or the
    # weighted score (time, events, tokens) reaches threshold.
    "synthesis": {
        "enabled": True,
        "idle_minutes": 10,
        "max_pending_events": 20,
        "max_pending_tokens": 2000,
        "max_wait_minutes": 60,
        "time_weight": 0.3,
        "event_weight": 0.4,
        "token_weight": 0.3,
        "threshold": 1.0,
        "max_idle_minutes": 30,
        "episode_gap_minutes": 30,
    },
    "extraction": {"enabled": True, "min_confidence": 0.5},
    "dreamer": {
        "enabled": True,
        "decay_half_life_days": 30,
        "hot_above": 0.6,
        "warm_above": 0.25,
        "decaying_below": 0.25,
        "archive_below": 0.1,
        "merge": True,
        "merge_similarity": 0.92,
        "schedule_hours": 24,
        "idle_minutes": 15,
        # A spirit that is never idle for idle_minutes still dreams this long after its last
        # dream (or its first memory).
        "max_interval_hours": 72,
    },
    "identity": {"enabled": True, "revise_after": 5},
    "retrieval": {"pack_max_tokens": 4000, "vector_weight": 0.5, "text_weight": 0.5},
}

_validator = jsonschema.Draft202012Validator(CONFIG_SCHEMA)


def validate_config(value: Any) -> None:
    errors = sorted(_validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    if errors:
        messages = []
        for error in errors:
            where = ".".join(str(p) for p in error.absolute_path) or "config"
            messages.append(f"{where}: {error.message}")
        raise ValidationError(messages, code="invalid_config")


def effective_config(config: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(DEFAULT_CONFIG)
    for section, values in (config or {}).items():
        merged.setdefault(section, {}).update(values)
    return merged
