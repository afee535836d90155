"""Limit/offset pagination with strict bounds: limit 1-200 (default 50), offset >= 0."""

from __future__ import annotations

import re

from rest_framework import pagination
from rest_framework.exceptions import ValidationError

_INTEGER = re.compile(r"-?[0-9]+")


def _bounded_int(raw: str | None, *, name: str, default: int, low: int, high: int | None) -> int:
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw):  # int() would take " 5", "5_0" and other scripts' digits
        raise ValidationError({name: [f"{name} must be an integer."]})
    try:
        value = int(raw)
    except ValueError:  # past sys.get_int_max_str_digits()
        raise ValidationError({name: [f"{name} is too large."]}) from None
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValidationError({name: [f"{name} must be {bounds}."]})
    return value


LIMIT_DEFAULT = 50
LIMIT_MAX = 200
LIMIT_SCHEMA = {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX, "default": LIMIT_DEFAULT}
OFFSET_SCHEMA = {"type": "integer", "minimum": 0, "default": 0}
LIMIT_HELP = f"Items per page: 1-{LIMIT_MAX} (default {LIMIT_DEFAULT}); out of range is a 400."
OFFSET_HELP = "Items to skip: 0 or more (default 0); a negative one is a 400."


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    default_limit = LIMIT_DEFAULT
    max_limit = LIMIT_MAX

    def get_schema_operation_parameters(self, view) -> list[dict]:
        """The bounds the server checks, declared (a 400 outside them)."""
        return [
            {
                "name": "limit",
                "required": False,
                "in": "query",
                "description": LIMIT_HELP,
                "schema": dict(LIMIT_SCHEMA),
            },
            {
                "name": "offset",
                "required": False,
                "in": "query",
                "description": OFFSET_HELP,
                "schema": dict(OFFSET_SCHEMA),
            },
        ]

    def get_limit(self, request) -> int:
        return _bounded_int(
            request.query_params.get(self.limit_query_param),
            name=self.limit_query_param,
            default=self.default_limit,
            low=1,
            high=self.max_limit,
        )

    def get_offset(self, request) -> int:
        return _bounded_int(
            request.query_params.get(self.offset_query_param),
            name=self.offset_query_param,
            default=0,
            low=0,
            high=None,
        )
