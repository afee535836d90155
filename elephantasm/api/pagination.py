"""Limit/offset pagination with strict bounds: limit 1-200 (default 50), offset >= 0."""

from __future__ import annotations

from rest_framework import pagination
from rest_framework.exceptions import ValidationError


def _bounded_int(raw: str | None, *, name: str, default: int, low: int, high: int | None) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValidationError({name: [f"{name} must be an integer."]}) from None
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValidationError({name: [f"{name} must be {bounds}."]})
    return value


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    default_limit = 50
    max_limit = 200

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
