"""Shapes of the memory API: the memory as rendered, and the body of every write to it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from elephantasm.api.fields import (
    MetadataField,
    RejectUnknownFieldsMixin,
    StrictCharField,
    StrictModelSerializer,
    StrictUUIDField,
)
from memories.models import Memory, MemorySource, MemoryStatus
from memories.services.memories import EDITABLE_FIELDS

from .common import IDS_MAX, id_list_field, named_choice_field, reason_field

TAGS_MAX = 100
PARTS_MAX = 50
# The states a client may set: the others come with links only their operation makes
# (archive refuses pinned memories; dispute, supersede, merge and split link other memories).
SettableStatusField = named_choice_field(
    "SettableMemoryStatusEnum",
    [(s.value, s.label) for s in (MemoryStatus.ACTIVE, MemoryStatus.DECAYING)],
)
StatusField = named_choice_field("MemoryStatusEnum", MemoryStatus.choices)
SourceField = named_choice_field("MemorySourceEnum", MemorySource.choices)


class MemorySerializer(serializers.ModelSerializer):
    spirit_id = serializers.UUIDField(read_only=True)
    superseded_by_id = serializers.UUIDField(
        read_only=True, allow_null=True, help_text="The newer memory that replaced this one."
    )
    status = StatusField(read_only=True)
    source_type = SourceField(read_only=True)
    tags = serializers.SerializerMethodField()
    contradicts = serializers.SerializerMethodField(
        help_text="Ids of memories this one conflicts with."
    )
    related_ids = serializers.SerializerMethodField(
        help_text="Ids of the live memories of the same spirit this one is related to."
    )

    class Meta:
        model = Memory
        fields = [
            "id",
            "spirit_id",
            "memory_type",
            "content",
            "summary",
            "subject",
            "importance",
            "confidence",
            "tier",
            "status",
            "pinned",
            "version",
            "superseded_by_id",
            "contradicts",
            "related_ids",
            "source_type",
            "extraction_model",
            "time_start",
            "time_end",
            "decay",
            "access_count",
            "last_accessed_at",
            "expires_at",
            "metadata",
            "tags",
            "created_at",
            "updated_at",
            "deleted_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tags(self, memory: Memory) -> list[str]:
        return sorted(tag.name for tag in memory.tags.all())

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_contradicts(self, memory: Memory) -> list[str]:
        return sorted(str(other.pk) for other in memory.contradicts.all())

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_related_ids(self, memory: Memory) -> list[str]:
        # Live ones only, the ids PATCH accepts (lists prefetch them: see views.base.with_related).
        return sorted(str(m.pk) for m in memory.related_to.all() if m.deleted_at is None)


class LinkedMemorySerializer(MemorySerializer):
    """A memory made from an event, with how strongly the event supports it."""

    link_strength = serializers.FloatField(read_only=True)

    class Meta(MemorySerializer.Meta):
        fields = [*MemorySerializer.Meta.fields, "link_strength"]
        read_only_fields = fields


# --- bodies --------------------------------------------------------------------------------------


class MemoryFieldsSerializer(StrictModelSerializer):
    """The fields a client may set on a memory (any subset, unless a subclass requires some)."""

    status = SettableStatusField(
        required=False,
        help_text="active or decaying; archive, dispute and supersede with their operations.",
    )
    metadata = MetadataField(required=False)
    reason = reason_field()

    class Meta:
        model = Memory
        fields = [*EDITABLE_FIELDS, "reason"]
        extra_kwargs = {"content": {"required": False}}


class MemoryUpdateSerializer(MemoryFieldsSerializer):
    """PATCH body: any subset of the editable fields; `tags` and `related_ids` replace the
    memory's tags and related memories."""

    tags = serializers.ListField(
        child=StrictCharField(max_length=64),
        required=False,
        max_length=TAGS_MAX,
        help_text="The memory's tags (replaces them all).",
    )
    related_ids = id_list_field(
        help_text="Live memories of the same spirit this one is related to (replaces them all; "
        "others are a 400 naming `related_ids`)."
    )

    class Meta(MemoryFieldsSerializer.Meta):
        fields = [*EDITABLE_FIELDS, "tags", "related_ids", "reason"]


class MemoryCreateSerializer(MemoryUpdateSerializer):
    """POST body. The memory's source is always `explicit`: a client states it directly
    (Elephantasm's pipelines create the others)."""

    spirit_id = StrictUUIDField(help_text="The spirit the memory belongs to.")
    event_ids = id_list_field(
        help_text="Events of the same spirit the memory was made from (its provenance); "
        "the memory's time span defaults to theirs."
    )

    class Meta(MemoryUpdateSerializer.Meta):
        fields = ["spirit_id", *EDITABLE_FIELDS, "tags", "event_ids", "related_ids", "reason"]
        extra_kwargs = {}


class MemorySupersedeSerializer(MemoryFieldsSerializer):
    """The new version: fields left out are copied from the memory it replaces."""


class DisputeSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    conflicting_id = StrictUUIDField(
        help_text="Another memory of the same spirit that this one conflicts with."
    )
    reason = reason_field()


class SplitPartSerializer(MemoryFieldsSerializer):
    event_ids = id_list_field(
        help_text="The original's events this part comes from (default: all of them)."
    )

    class Meta(MemoryFieldsSerializer.Meta):
        fields = [*EDITABLE_FIELDS, "event_ids"]
        extra_kwargs = {}


class MemorySplitSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    parts = SplitPartSerializer(
        many=True,
        min_length=2,
        max_length=PARTS_MAX,
        help_text="At least two parts, each with its content; the original is superseded.",
    )
    reason = reason_field()


class MemoryMergeSerializer(MemoryFieldsSerializer):
    """memory_ids, plus any field of the merged memory (default: derived from the sources)."""

    memory_ids = serializers.ListField(
        child=StrictUUIDField(),
        min_length=2,
        max_length=IDS_MAX,
        help_text="At least two memories of one spirit; they become superseded by the result.",
    )

    class Meta(MemoryFieldsSerializer.Meta):
        fields = ["memory_ids", *EDITABLE_FIELDS, "reason"]
