"""Query filters shared by the API's list endpoints."""

from __future__ import annotations

from datetime import UTC

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

from elephantasm.validators import offset_problem


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, in UTC. An offset beyond PostgreSQL's ±15:59 (Python accepts up to
    ±23:59) is refused (a 400), as every moment the API reads."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        if offset_problem(value):
            raise forms.ValidationError(offset_problem(value), code="invalid")
        try:
            return value.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
            raise forms.ValidationError("Date and time out of range.", code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField
