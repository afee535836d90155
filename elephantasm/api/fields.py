"""Strict DRF fields and serializers, shared by every app's API.

A JSON value of the wrong type is a 400, never silently coerced ("5" is no integer, 12 no text,
"yes" no boolean), and a body key a serializer does not accept is refused by name.

One whitespace rule for text: it is kept exactly as sent (never trimmed), and a value of only
whitespace counts as blank (refused unless the field allows blank).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC

from django.db import models
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from elephantasm.validators import OFFSET_MESSAGE, metadata_problem, offset_problem


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
    """A JSON integer (not a string, a float or a boolean)."""

    def to_internal_value(self, data):
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


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time string with a time zone (Z or an offset); naive ones are refused."""

    default_error_messages = {
        "invalid": "Datetime has wrong format. Use ISO 8601, e.g. 2025-01-02T03:04:05Z.",
        "naive": "Include a time zone (Z or an offset like +02:00): naive times are ambiguous.",
        "offset": OFFSET_MESSAGE,
    }

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid")
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
        if parsed is None:
            self.fail("invalid")
        if parsed.utcoffset() is None:
            self.fail("naive")
        if offset_problem(parsed):
            self.fail("offset")
        try:
            parsed.astimezone(UTC)
        except OverflowError:
            self.fail("invalid")
        return parsed


_SPACE_FOR_PLUS = re.compile(r"(?<=\d) (?=\d{2}(:?\d{2})?$)")


class QueryAwareDateTimeField(AwareDateTimeField):
    """AwareDateTimeField for query strings, where an unencoded "+02:00" arrives as " 02:00"."""

    def to_internal_value(self, value):
        if isinstance(value, str):
            value = _SPACE_FOR_PLUS.sub("+", value.strip())
        return super().to_internal_value(value)


@extend_schema_field(OpenApiTypes.OBJECT)
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


class StrictModelSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    """A body serializer from model fields: unknown keys refused, JSON types not coerced."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.FloatField: StrictFloatField,
        models.BooleanField: StrictBooleanField,
        models.UUIDField: StrictUUIDField,
    }
