"""Shapes of the spirit API. Validation is per field (types, schema, NUL); writes are services'.

Bodies are strict like the memory API's: unknown or read-only keys are a 400 naming each, and text
must be a JSON string (DRF would turn 5 into "5")."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from elephantasm.api.fields import (
    MetadataField,
    StrictBooleanField,
    StrictCharField,
    StrictModelSerializer,
)
from spirits.config import CONFIG_SCHEMA, validate_config
from spirits.models import Spirit
from teams.models import SLUG_PATTERN

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


@extend_schema_field(
    {**CONFIG_SCHEMA, "description": "Memory settings; only what differs from the defaults."},
    component_name="SpiritConfig",
)
class ConfigField(MetadataField):
    """A spirit's memory settings: a JSON object of spirits.config.CONFIG_SCHEMA."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            validate_config(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return value


class SpiritUpdateSerializer(StrictModelSerializer):
    """PATCH body: any subset of the writable fields (the team cannot change: 400), and
    `is_deleted` (true soft-deletes, false restores)."""

    is_deleted = StrictBooleanField(
        required=False,
        help_text="true soft-deletes the spirit and its events as DELETE does (owner role), false "
        "restores them as POST .../restore/ does (admin role); with other fields, all apply in "
        "one transaction.",
    )

    # A JSON object PostgreSQL's jsonb can store (no NUL, no lone surrogates, not too deep):
    # never null.
    metadata = MetadataField(required=False)
    config = ConfigField(required=False)

    class Meta:
        model = Spirit
        fields = [*WRITABLE_FIELDS, "is_deleted"]
        extra_kwargs = {"status": {"help_text": STATUS_HELP}}


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

    def schema_overrides(self) -> dict:
        return {"team": {"pattern": SLUG_PATTERN}}
