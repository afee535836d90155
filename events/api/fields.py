"""Fields of the events API's bodies and query strings: the event type, a metadata query."""

from __future__ import annotations

import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from elephantasm.api.fields import StrictCharField
from elephantasm.validators import metadata_problem
from events.models import EVENT_TYPE_MAX_CHARS, EVENT_TYPE_RULE, event_type_problem


@extend_schema_field(
    {
        "type": "string",
        "maxLength": EVENT_TYPE_MAX_CHARS,
        "pattern": r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$",
        "description": f"The event's type: {EVENT_TYPE_RULE}.",
        "example": "message.in",
    }
)
class EventTypeField(StrictCharField):
    """A known event type or a custom one (events.models.EVENT_TYPE_RULE)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", f"The event's type: {EVENT_TYPE_RULE}.")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        problem = event_type_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


@extend_schema_field(OpenApiTypes.STR)
class MetadataQueryField(serializers.Field):
    """A JSON object given as a query-string value (`?metadata={"channel":"email"}`)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("A JSON object, URL-encoded.")
        try:
            value = json.loads(data)
        except ValueError as exc:
            raise serializers.ValidationError(f"Not valid JSON: {exc.msg}.") from exc
        problem = metadata_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def to_representation(self, value):
        return json.dumps(value)
