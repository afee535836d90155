"""Fields of the events API's bodies and query strings: the event type, a metadata query."""

from __future__ import annotations

import json
import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from elephantasm.api.fields import StrictCharField
from elephantasm.api.schema import JSON_OBJECT, JSON_QUERY_MARK
from elephantasm.validators import metadata_problem
from events.models import (
    CUSTOM_EVENT_TYPE,
    EVENT_TYPE_MAX_CHARS,
    EVENT_TYPE_RULE,
    RESERVED_EVENT_TYPE_PREFIXES,
    EventType,
    event_type_problem,
)

# A custom type, as events.models.is_custom_event_type reads it: dotted lower case, not
# starting with a known type's prefix.
CUSTOM_EVENT_TYPE_SCHEMA = {
    "type": "string",
    "maxLength": EVENT_TYPE_MAX_CHARS,
    "pattern": "^" + CUSTOM_EVENT_TYPE.pattern + "$",
    "not": {
        "pattern": "^("
        + "|".join(re.escape(prefix) for prefix in RESERVED_EVENT_TYPE_PREFIXES)
        + ")"
    },
}
EVENT_TYPE_SCHEMA = {
    "description": f"The event's type: {EVENT_TYPE_RULE}.",
    "example": "message.in",
    "anyOf": [{"type": "string", "enum": list(EventType.values)}, CUSTOM_EVENT_TYPE_SCHEMA],
}


@extend_schema_field(EVENT_TYPE_SCHEMA)
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


@extend_schema_field({**JSON_OBJECT, JSON_QUERY_MARK: True})
class MetadataQueryField(serializers.Field):
    """A JSON object given as a query-string value (`?metadata={"channel":"email"}`); the schema
    declares it as JSON content (elephantasm.api.schema)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("A JSON object, URL-encoded.")
        try:
            value = json.loads(data)
        except ValueError as exc:
            raise serializers.ValidationError(f"Not valid JSON: {exc.msg}.") from exc
        except RecursionError:
            raise serializers.ValidationError("Not valid JSON: nested too deep.") from None
        problem = metadata_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def to_representation(self, value):
        return json.dumps(value)
