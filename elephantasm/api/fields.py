"""Strict DRF fields and serializers, shared by every app's API.

A JSON value of the wrong type is a 400, never silently coerced ("5" is no integer, 12 no text,
"yes" no boolean), and a body key a serializer does not accept is refused by name.

One whitespace rule for text: it is kept exactly as sent (never trimmed), and a value of only
whitespace counts as blank (refused unless the field allows blank).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from typing import Any

from django.db import models
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from elephantasm.api.moments import (
    MOMENT_SCHEMA,
    UTC_MOMENT_SCHEMA,
    MomentError,
    parse_moment_text,
)
from elephantasm.api.schema import JSON_OBJECT
from elephantasm.validators import metadata_problem


class StrictCharField(serializers.CharField):
    """A string, kept exactly as sent (no trimming); only whitespace counts as blank; numbers
    are not accepted as strings."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        if isinstance(data, str) and data and not data.strip() and not self.allow_blank:
            self.fail("blank")
        return super().run_validation(data)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return data


class StrictFloatField(serializers.FloatField):
    """A JSON number (not a string, not a boolean)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer (not a string or a boolean). JSON has one kind of number: 3.0 is the
    integer 3 (as JSON Schema says), 3.5 is not an integer."""

    def to_internal_value(self, data):
        if isinstance(data, float) and data.is_integer():
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false (DRF would take "yes", "on", 1 and "0")."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictUUIDField(serializers.UUIDField):
    """A UUID written as a string."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


@extend_schema_field(MOMENT_SCHEMA)
class AwareDateTimeField(serializers.DateTimeField):
    """An RFC 3339 date-time with a time zone (Z or an offset within ±15:59); naive ones are
    refused. The rules and the schema: elephantasm.api.moments."""

    naive_is_utc = False

    def to_internal_value(self, value):
        try:
            return parse_moment_text(value, naive_is_utc=self.naive_is_utc)
        except MomentError as exc:
            raise ValidationError(exc.message, code=exc.code) from None


@extend_schema_field(UTC_MOMENT_SCHEMA)
class UtcDateTimeField(AwareDateTimeField):
    """AwareDateTimeField that reads a moment without an offset as UTC."""

    naive_is_utc = True


_SPACE_FOR_PLUS = re.compile(r"(?<=\d) (?=\d{2}(:?\d{2})?$)")


class QueryAwareDateTimeField(AwareDateTimeField):
    """AwareDateTimeField for query strings, where an unencoded "+02:00" arrives as " 02:00"."""

    def to_internal_value(self, value):
        if isinstance(value, str):
            value = _SPACE_FOR_PLUS.sub("+", value)
        return super().to_internal_value(value)


@extend_schema_field(JSON_OBJECT, component_name="JsonObject")
class MetadataField(serializers.Field):
    """A JSON object without NUL characters, unpaired surrogates or non-finite numbers."""

    def to_internal_value(self, data):
        problem = metadata_problem(data)
        if problem:
            raise ValidationError(problem)
        return data

    def to_representation(self, value):
        return value


class RejectUnknownFieldsMixin:
    """A serializer that refuses body keys it does not accept, naming them (a typo must not pass
    silently; DRF would drop them): keys it does not declare, and read-only ones."""

    unknown_field_message = "Unknown or read-only field."

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(str(key) for key in data if key not in writable)
            if unknown:
                raise ValidationError({name: [self.unknown_field_message] for name in unknown})
        return super().to_internal_value(data)


class StrictBodySchema(OpenApiSerializerExtension):
    """The schema of a strict body says what it accepts: no other key (`additionalProperties:
    false`), the list bounds DRF checks outside validators (a list serializer's min_length and
    max_length, a list field's allow_empty), and what a serializer adds with
    `schema_overrides()` ({field: schema keywords}, for bounds only known at run time)."""

    target_class = "elephantasm.api.fields.RejectUnknownFieldsMixin"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        serializer = self.target
        schema = auto_schema._map_basic_serializer(serializer, direction)
        # Its own docstring only: the mixin's (or a parent's) would describe another body.
        doc = type(serializer).__dict__.get("__doc__")
        if doc:
            schema["description"] = inspect.cleandoc(doc)
        else:
            schema.pop("description", None)
        if direction != "request":
            return schema
        schema["additionalProperties"] = False
        properties = schema.get("properties", {})
        overrides = getattr(serializer, "schema_overrides", None)
        extra = overrides() if callable(overrides) else {}
        for name, field in serializer.fields.items():
            if name in properties:
                properties[name].update({**_list_bounds(field), **extra.get(name, {})})
        return schema


def _list_bounds(field: serializers.Field) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    if isinstance(field, serializers.ListSerializer):
        if field.min_length is not None:
            bounds["minItems"] = field.min_length
        if field.max_length is not None:
            bounds["maxItems"] = field.max_length
        if not field.allow_empty:
            bounds["minItems"] = max(bounds.get("minItems", 0), 1)
    elif isinstance(field, serializers.ListField) and not field.allow_empty:
        bounds["minItems"] = max(field.min_length or 0, 1)
    return bounds


class StrictModelSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    """A body serializer from model fields: unknown keys refused, JSON types not coerced."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.FloatField: StrictFloatField,
        models.BooleanField: StrictBooleanField,
        models.UUIDField: StrictUUIDField,
        models.DateTimeField: UtcDateTimeField,
    }
