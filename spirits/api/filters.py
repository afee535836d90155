"""Query filters of the spirit list (`include_deleted` is handled by the viewset: it picks rows)."""

from __future__ import annotations

import django_filters

from elephantasm.api.filters import StrictFilterSet
from spirits.models import Spirit, SpiritStatus


class SpiritFilter(StrictFilterSet):
    name = django_filters.CharFilter(
        lookup_expr="icontains", help_text="Spirits whose name contains this (any case)."
    )
    status = django_filters.ChoiceFilter(choices=SpiritStatus.choices)

    class Meta:
        model = Spirit
        fields = ["name", "status"]
