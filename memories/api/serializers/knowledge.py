"""Shapes of the knowledge and lesson APIs."""

from __future__ import annotations

from rest_framework import serializers

from elephantasm.api.fields import (
    RejectUnknownFieldsMixin,
    StrictModelSerializer,
    StrictUUIDField,
    UtcDateTimeField,
)
from memories.models import Knowledge, Lesson, LessonStatus
from memories.models.knowledge import KnowledgeSource
from memories.services.knowledge import EDITABLE_FIELDS as KNOWLEDGE_FIELDS
from memories.services.lessons import EDITABLE_FIELDS as LESSON_FIELDS

from .common import id_list_field, named_choice_field, reason_field

KnowledgeSourceField = named_choice_field("KnowledgeSourceEnum", KnowledgeSource.choices)
LessonStatusField = named_choice_field("LessonStatusEnum", LessonStatus.choices)
MEMORY_IDS_HELP = "Memories of the same spirit this was drawn from (its provenance)."


class KnowledgeSerializer(serializers.ModelSerializer):
    spirit_id = serializers.UUIDField(read_only=True)
    superseded_by_id = serializers.UUIDField(
        read_only=True, allow_null=True, help_text="The knowledge item that replaced this one."
    )
    source_type = KnowledgeSourceField(read_only=True)
    is_current = serializers.BooleanField(
        read_only=True, help_text="Still valid (no valid_to) and not deleted."
    )

    class Meta:
        model = Knowledge
        fields = [
            "id",
            "spirit_id",
            *KNOWLEDGE_FIELDS,
            "valid_to",
            "is_current",
            "superseded_by_id",
            "created_at",
            "updated_at",
            "deleted_at",
        ]
        read_only_fields = fields


class KnowledgeUpdateSerializer(StrictModelSerializer):
    """PATCH body: any subset of the editable fields (closing is POST .../close/)."""

    source_type = KnowledgeSourceField(required=False)
    reason = reason_field()

    class Meta:
        model = Knowledge
        fields = [*KNOWLEDGE_FIELDS, "reason"]


class KnowledgeCreateSerializer(KnowledgeUpdateSerializer):
    spirit_id = StrictUUIDField(help_text="The spirit the knowledge belongs to.")
    memory_ids = id_list_field(help_text=MEMORY_IDS_HELP)

    class Meta(KnowledgeUpdateSerializer.Meta):
        fields = ["spirit_id", *KNOWLEDGE_FIELDS, "memory_ids", "reason"]


class LessonSerializer(serializers.ModelSerializer):
    spirit_id = serializers.UUIDField(read_only=True)
    status = LessonStatusField(read_only=True)

    class Meta:
        model = Lesson
        fields = ["id", "spirit_id", *LESSON_FIELDS, "created_at", "updated_at", "deleted_at"]
        read_only_fields = fields


class LessonUpdateSerializer(StrictModelSerializer):
    """PATCH body: any subset of the editable fields."""

    status = LessonStatusField(required=False)
    reason = reason_field()

    class Meta:
        model = Lesson
        fields = [*LESSON_FIELDS, "reason"]


class LessonCreateSerializer(LessonUpdateSerializer):
    spirit_id = StrictUUIDField(help_text="The spirit the lesson belongs to.")
    memory_ids = id_list_field(help_text=MEMORY_IDS_HELP)

    class Meta(LessonUpdateSerializer.Meta):
        fields = ["spirit_id", *LESSON_FIELDS, "memory_ids", "reason"]


class KnowledgeCloseSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """Body of POST /knowledge/{id}/close/."""

    superseded_by_id = StrictUUIDField(
        required=False,
        allow_null=True,
        help_text="The knowledge item of the same spirit that replaces this one, if any.",
    )
    valid_to = UtcDateTimeField(
        required=False, help_text="When it stopped being true (default: now)."
    )
    reason = reason_field()
