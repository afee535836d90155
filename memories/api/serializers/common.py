"""What every curated resource's API shares: strict bodies, `reason`, history, provenance shapes.

Serializers here only check the shape and types of input; every rule about what may change is
the services' (they validate again with full_clean and log the audit entry).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from elephantasm.api.fields import (
    RejectUnknownFieldsMixin,
    StrictCharField,
    StrictUUIDField,
)
from events.models import EVENT_QUOTED_FIELDS, Event

REASON_MAX_CHARS = 2000
IDS_MAX = 1000


def named_choice_field(component_name: str, choices) -> type[serializers.ChoiceField]:
    """A ChoiceField class with fixed `choices`, documented as the schema component named so.

    Several models have a `status` or `source_type` with different choices; a named component
    keeps drf-spectacular from inventing hashed enum names for them."""
    choices = [(str(value), label) for value, label in choices]
    schema = {"type": "string", "enum": [value for value, _ in choices]}

    @extend_schema_field(schema, component_name=component_name)
    class NamedChoiceField(serializers.ChoiceField):
        def __init__(self, **kwargs):
            super().__init__(choices=choices, **kwargs)

    NamedChoiceField.__name__ = NamedChoiceField.__qualname__ = f"{component_name}Field"
    return NamedChoiceField


def reason_field() -> serializers.CharField:
    return StrictCharField(
        required=False,
        allow_blank=True,
        max_length=REASON_MAX_CHARS,
        help_text="Why: recorded in the audit entry of this change.",
    )


def id_list_field(
    *, help_text: str, required: bool = False, min_length: int | None = None
) -> serializers.ListField:
    return serializers.ListField(
        child=StrictUUIDField(),
        required=required,
        min_length=min_length,
        max_length=IDS_MAX,
        help_text=help_text,
    )


class ReasonSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """Body of the operations that take nothing but an optional reason."""

    reason = reason_field()


class AuditEntrySerializer(serializers.Serializer):
    """One change, as the object lived it: `before` and `after` are this object's states.

    `object_type`/`object_id` name the object the entry was recorded on: another one when this
    object was named by an operation on it (a merge names its sources, a split its parts)."""

    id = serializers.IntegerField()
    action = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.UUIDField()
    actor_type = serializers.CharField(help_text="user, api_key or system.")
    actor_id = serializers.CharField()
    actor_label = serializers.CharField()
    reason = serializers.CharField()
    related_ids = serializers.ListField(child=serializers.UUIDField())
    before = serializers.DictField(allow_null=True, help_text="State before; null at creation.")
    after = serializers.DictField(allow_null=True, help_text="State after the change.")
    created_at = serializers.DateTimeField()


class AuditEntryPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = AuditEntrySerializer(many=True)


class AsOfSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField(help_text="The moment asked for.")
    state = serializers.DictField(help_text="The object's fields as they were at that moment.")


class ProvenanceEventSerializer(serializers.ModelSerializer):
    """A source event of a memory, with how strongly it supports the memory."""

    link_strength = serializers.FloatField(help_text="0-1: how strongly it supports the memory.")

    class Meta:
        model = Event
        fields = ["id", "spirit_id", *EVENT_QUOTED_FIELDS, "link_strength"]
        read_only_fields = fields
