"""Shapes of the identity API: a spirit's self-model document, versioned."""

from __future__ import annotations

from rest_framework import serializers

from elephantasm.api.fields import RejectUnknownFieldsMixin
from memories.models import Identity

from .common import json_object, reason_field


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


class IdentityWriteSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """PUT: `document` replaces the identity. PATCH: its top-level keys replace those keys
    (without `document`, nothing changes)."""

    document = serializers.DictField(
        validators=[json_object],
        help_text="Keys: essence, purpose, principles, values, communication_style, "
        "relationships, current_arc (checked against the identity schema).",
    )
    reason = reason_field()
