"""Query parameters of the list endpoints: parsed and validated here, so a bad value is a 400."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from elephantasm.api.fields import QueryAwareDateTimeField, StrictCharField
from events.models import SessionStatus

from .fields import EventTypeField, MetadataQueryField


class IncludeDeletedParamsSerializer(serializers.Serializer):
    include_deleted = serializers.BooleanField(
        required=False, default=False, help_text="Also show soft-deleted rows (true/false)."
    )


class EventListParamsSerializer(IncludeDeletedParamsSerializer):
    spirit_id = serializers.UUIDField(
        required=False, help_text="One spirit's events (404 if not yours); else all your spirits'."
    )
    event_type = EventTypeField(required=False, help_text="Events of this type (known or custom).")
    metadata = MetadataQueryField(
        required=False,
        help_text='Events whose metadata contains this JSON object, e.g. {"channel":"email"} '
        "(JSON containment: every key given, with the same value; nested objects likewise).",
    )
    session_id = StrictCharField(
        max_length=255,
        required=False,
        help_text="One session's events, oldest first (otherwise newest first).",
    )
    min_importance = serializers.FloatField(min_value=0.0, max_value=1.0, required=False)
    occurred_after = QueryAwareDateTimeField(
        required=False, help_text="Strictly after this time (ISO 8601 with a time zone)."
    )
    occurred_before = QueryAwareDateTimeField(
        required=False, help_text="Strictly before this time (ISO 8601 with a time zone)."
    )


class SessionListParamsSerializer(serializers.Serializer):
    spirit_id = serializers.UUIDField(required=False, help_text="One spirit's sessions.")
    status = serializers.ChoiceField(choices=SessionStatus.choices, required=False)


def validated_query(view, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
    """The view's query parameters validated by `serializer_class` (a 400 on a bad value),
    parsed once per request. An empty value (`?spirit_id=`) is a bad value too: read from a
    QueryDict, DRF would take it for a parameter left out (a repeated one is refused earlier:
    TeamScopedViewSet.initial)."""
    cache = view.__dict__.setdefault("_validated_query", {})
    if serializer_class not in cache:
        serializer = serializer_class(data=view.request.query_params.dict())
        serializer.is_valid(raise_exception=True)
        cache[serializer_class] = serializer.validated_data
    return cache[serializer_class]
