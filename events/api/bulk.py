"""The bulk call's per-item plumbing: validate each item alone, shape the per-item results."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework import serializers

from elephantasm.api.errors import ErrorCode
from elephantasm.metrics import EVENTS_INGESTED
from events.services import BulkItemResult, ItemStatus


def validate_items(
    serializer: serializers.Serializer, items: list[Any]
) -> tuple[list[tuple[int, dict[str, Any]]], dict[int, Any]]:
    """Validate each item with `serializer`: (index, data) of the valid ones, errors by index."""
    valid: list[tuple[int, dict[str, Any]]] = []
    errors: dict[int, Any] = {}
    for index, item in enumerate(items):
        try:
            valid.append((index, serializer.run_validation(item)))
        except serializers.ValidationError as exc:
            errors[index] = exc.detail
    return valid, errors


def _error(index: int, details: Any) -> dict[str, Any]:
    if not isinstance(details, dict):
        details = {"non_field_errors": details}
    return {
        "index": index,
        "status": ItemStatus.ERROR.value,
        "error": {
            "code": ErrorCode.VALIDATION_ERROR.value,
            "message": "Invalid input: " + ", ".join(sorted(details)) + ".",
            "details": details,
        },
    }


def bulk_response_body(
    *, size: int, errors: dict[int, Any], outcomes: Iterable[tuple[int, BulkItemResult]]
) -> dict[str, Any]:
    """{"results": [...in input order...], "created": n, "duplicates": n, "errors": n}."""
    results: list[dict[str, Any] | None] = [None] * size
    for index, details in errors.items():
        results[index] = _error(index, details)
    for index, outcome in outcomes:
        if outcome.status is ItemStatus.ERROR:
            results[index] = _error(index, outcome.errors)
        else:
            results[index] = {"index": index, "status": outcome.status.value, "id": outcome.id}
    counts = dict.fromkeys(ItemStatus, 0)
    for result in results:
        counts[ItemStatus(result["status"])] += 1
    for item_status, count in counts.items():
        if count:
            EVENTS_INGESTED.labels(item_status.value).inc(count)
    return {
        "results": results,
        "created": counts[ItemStatus.CREATED],
        "duplicates": counts[ItemStatus.DUPLICATE],
        "errors": counts[ItemStatus.ERROR],
    }
