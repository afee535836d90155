"""Query filters shared by the API's list endpoints."""

from __future__ import annotations

from datetime import UTC

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from elephantasm.api.moments import UTC_MOMENT_SCHEMA, MomentError, parse_moment_text


class UtcIsoDateTimeField(forms.Field):
    """A moment (elephantasm.api.moments: RFC 3339; without an offset, UTC), in UTC."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_moment_text(value, naive_is_utc=True).astimezone(UTC)
        except MomentError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None


@extend_schema_field(UTC_MOMENT_SCHEMA)
class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


BLANK_MESSAGE = "Give a value, or leave the parameter out."


class StrictFilterSet(django_filters.FilterSet):
    """A FilterSet that refuses an empty or blank value (`?status=`, `?spirit_id=`) with a 400
    naming the parameter, as any other bad value: django-filter would ignore it and answer the
    whole list, which the caller did not ask for."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name in self.filters:
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else []
            if any(not str(value).strip() for value in values):
                self.form.add_error(name, forms.ValidationError(BLANK_MESSAGE, code="blank"))
                valid = False
        return valid


def query_flag(request, name: str) -> bool:
    """A boolean query parameter (`?include_deleted=true`, `1`, `false`…): False when absent, a
    400 naming it when it is no boolean."""
    raw = request.query_params.get(name)
    if raw is None:
        return False
    try:
        return serializers.BooleanField().to_internal_value(raw)
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({name: exc.detail}) from exc
