"""Query filters of the memory, knowledge and lesson lists.

Time ranges are half-open: `*_after` is inclusive (>=), `*_before` exclusive (<), so adjacent
windows never count a row twice. `include_deleted` is the viewset's (it picks the rows).
"""

from __future__ import annotations

from datetime import datetime

import django_filters
from django import forms
from django.db.models import QuerySet
from django.db.models.functions import Coalesce

from elephantasm.api.filters import StrictFilterSet, UtcIsoDateTimeFilter
from memories.models import (
    Knowledge,
    KnowledgeType,
    Lesson,
    LessonStatus,
    Memory,
    MemoryStatus,
    MemoryTier,
    MemoryType,
)
from memories.models.knowledge import KnowledgeSource


class StrictBooleanField(forms.Field):
    """true/false (or 1/0); anything else is a 400 rather than silently ignored."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise forms.ValidationError("Must be true or false.", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class CreatedRangeFilterSet(StrictFilterSet):
    spirit_id = django_filters.UUIDFilter(field_name="spirit_id", help_text="Only this spirit.")
    created_after = UtcIsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after (ISO 8601)."
    )
    created_before = UtcIsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Created before (ISO 8601)."
    )


class MemoryFilter(CreatedRangeFilterSet):
    type = django_filters.ChoiceFilter(field_name="memory_type", choices=MemoryType.choices)
    tier = django_filters.ChoiceFilter(choices=MemoryTier.choices)
    status = django_filters.ChoiceFilter(choices=MemoryStatus.choices)
    pinned = StrictBooleanFilter()
    tag = django_filters.CharFilter(field_name="tags__name", help_text="Memories with this tag.")
    occurred_after = UtcIsoDateTimeFilter(
        method="filter_occurred_after",
        help_text="Memories whose time span (time_start-time_end) reaches this moment or later.",
    )
    occurred_before = UtcIsoDateTimeFilter(
        method="filter_occurred_before",
        help_text="Memories whose time span starts before this moment.",
    )

    class Meta:
        model = Memory
        fields = ["spirit_id", "type", "tier", "status", "pinned", "tag"]

    def filter_occurred_after(self, queryset: QuerySet, name: str, value: datetime) -> QuerySet:
        return queryset.alias(_span_end=Coalesce("time_end", "time_start")).filter(
            _span_end__gte=value
        )

    def filter_occurred_before(self, queryset: QuerySet, name: str, value: datetime) -> QuerySet:
        return queryset.alias(_span_start=Coalesce("time_start", "time_end")).filter(
            _span_start__lt=value
        )


class KnowledgeFilter(CreatedRangeFilterSet):
    type = django_filters.ChoiceFilter(field_name="knowledge_type", choices=KnowledgeType.choices)
    source_type = django_filters.ChoiceFilter(choices=KnowledgeSource.choices)
    current = StrictBooleanFilter(
        method="filter_current",
        help_text="true: still valid (no valid_to); false: closed.",
    )

    class Meta:
        model = Knowledge
        fields = ["spirit_id", "type", "source_type", "current"]

    def filter_current(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(valid_to__isnull=value)


class LessonFilter(CreatedRangeFilterSet):
    status = django_filters.ChoiceFilter(choices=LessonStatus.choices)

    class Meta:
        model = Lesson
        fields = ["spirit_id", "status"]
