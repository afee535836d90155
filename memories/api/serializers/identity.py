"""Shapes of the identity API: a spirit's self-model document, versioned."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from elephantasm.api.fields import MetadataField, RejectUnknownFieldsMixin
from memories.identity_schema import IDENTITY_SCHEMA, validate_identity
from memories.models import Identity

from .common import reason_field

DOCUMENT_HELP = (
    "Keys: essence, purpose, principles, values, communication_style, relationships, "
    "current_arc (the identity schema)."
)


class IdentitySerializer(serializers.ModelSerializer):
    spirit_id = serializers.UUIDField(read_only=True)
    document = serializers.DictField(
        read_only=True,
        help_text="essence, purpose, principles, values, communication_style, relationships, "
        "current_arc.",
    )
    version = serializers.IntegerField(
        read_only=True, help_text="Bumped by each revision; 0 until the identity is first written."
    )
    updated_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="null until the identity is first written."
    )

    class Meta:
        model = Identity
        fields = ["spirit_id", "version", "document", "updated_at"]
        read_only_fields = fields


@extend_schema_field(IDENTITY_SCHEMA, component_name="IdentityDocument")
class IdentityDocumentField(MetadataField):
    """An identity document: a JSON object of memories.identity_schema.IDENTITY_SCHEMA (its
    texts without NUL), checked here so that the schema and the answer agree."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            validate_identity(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return value


class IdentityWriteSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """PATCH: the top-level keys of `document` replace those keys (without `document`, or with
    an empty one, nothing changes)."""

    document = IdentityDocumentField(help_text=DOCUMENT_HELP)
    reason = reason_field()


class IdentityReplaceSerializer(IdentityWriteSerializer):
    """PUT: `document` replaces the identity; it names at least one key (an empty document is
    refused: leave keys out by giving them empty values)."""

    def schema_overrides(self) -> dict:
        return {"document": {"minProperties": 1}}

    def validate_document(self, value: dict) -> dict:
        if not value:
            raise serializers.ValidationError("This field cannot be blank.")
        return value
