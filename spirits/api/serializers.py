"""Shapes of the spirit API. Validation is per field (types, schema, NUL); writes are services'.

Bodies are strict like the memory API's: unknown or read-only keys are a 400 naming each, and text
must be a JSON string (DRF would turn 5 into "5")."""

from __future__ import annotations

from rest_framework import serializers

from elephantasm.api.fields import StrictBooleanField, StrictCharField, StrictModelSerializer
from elephantasm.validators import metadata_problem
from events.models import EventType
from spirits.models import Spirit

WRITABLE_FIELDS = ["name", "description", "metadata", "status", "config"]
STATUS_HELP = (
    "active (default) and draft: events are recorded and curated. paused: events are stored, but "
    "nothing is synthesized, extracted, evolved or dreamed until active again (then it catches "
    "up; asking for a synthesis or a dream is a 409 spirit_paused). archived: read-only, every "
    "write to its data is a 409 spirit_archived; set the status back to active to change it."
)


class SpiritSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    config = serializers.JSONField(read_only=True, help_text="The settings stored on the spirit.")
    effective_config = serializers.DictField(
        read_only=True, help_text="The stored settings merged over the defaults: what applies."
    )
    is_deleted = serializers.BooleanField(read_only=True, help_text="Whether deleted_at is set.")

    class Meta:
        model = Spirit
        fields = [
            "id",
            "team",
            *WRITABLE_FIELDS,
            "effective_config",
            "last_activity_at",
            "created_at",
            "updated_at",
            "deleted_at",
            "is_deleted",
        ]
        read_only_fields = fields
        extra_kwargs = {"status": {"help_text": STATUS_HELP}}


class SpiritUpdateSerializer(StrictModelSerializer):
    """PATCH body: any subset of the writable fields (the team cannot change: 400), and
    `is_deleted` (true soft-deletes, false restores)."""

    is_deleted = StrictBooleanField(
        required=False,
        help_text="true soft-deletes the spirit and its events as DELETE does (owner role), false "
        "restores them as POST .../restore/ does (admin role); with other fields, all apply in "
        "one transaction.",
    )

    class Meta:
        model = Spirit
        fields = [*WRITABLE_FIELDS, "is_deleted"]
        extra_kwargs = {
            "config": {"help_text": "Memory settings; only what differs from the defaults."},
            "status": {"help_text": STATUS_HELP},
        }

    def validate_metadata(self, value):
        # Values PostgreSQL's jsonb refuses (lone surrogates, deep nesting) are a 400, not a 500.
        problem = metadata_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


class SpiritCreateSerializer(SpiritUpdateSerializer):
    is_deleted = None  # a new spirit is live
    team = StrictCharField(
        required=False,
        max_length=64,
        help_text=(
            "Slug of the team the spirit belongs to. Leave it out with an API key (its team) or "
            "when you belong to one team; required when you belong to several."
        ),
    )

    class Meta(SpiritUpdateSerializer.Meta):
        fields = ["team", *WRITABLE_FIELDS]


class EventCountsByTypeSerializer(serializers.Serializer):
    """Live events per type: every known type, zero included, then each custom type the spirit
    has live events of (by name)."""

    def get_fields(self):
        return {value: serializers.IntegerField(min_value=0) for value in EventType.values}

    def to_representation(self, instance):
        # The keys hold dots, which DRF would read as a path: read them directly.
        known = {value: int(instance.get(value, 0)) for value in EventType.values}
        custom = {key: int(count) for key, count in instance.items() if key not in known}
        return {**known, **custom}


class SpiritStatsSerializer(serializers.Serializer):
    events_by_type = EventCountsByTypeSerializer()
    event_count = serializers.IntegerField(min_value=0, help_text="Live events.")
    session_count = serializers.IntegerField(
        min_value=0, help_text="Distinct session ids among the live events."
    )
    first_activity_at = serializers.DateTimeField(
        allow_null=True, help_text="Earliest occurred_at of a live event."
    )
    last_activity_at = serializers.DateTimeField(
        allow_null=True, help_text="Latest occurred_at of a live event."
    )
