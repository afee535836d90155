"""Context packs over the API: the request body and the pack as returned and kept."""

from __future__ import annotations

from rest_framework import serializers

from elephantasm.api.fields import (
    RejectUnknownFieldsMixin,
    StrictCharField,
    StrictFloatField,
    StrictIntegerField,
)
from memories.packs import LAYERS, PRESETS
from memories.packs.compiler import MAX_TOKENS_MAX, MAX_TOKENS_MIN, QUERY_MAX_CHARS
from memories.packs.presets import LIMIT_MAX

from .common import named_choice_field

PresetField = named_choice_field("PackPresetEnum", [(p, p) for p in PRESETS])
LayerField = named_choice_field("PackLayerEnum", [(n, n) for n in LAYERS])


class PackLimitsSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """Most items per layer (0 leaves a layer out); default: the preset's."""

    identity = StrictIntegerField(required=False, min_value=0, max_value=LIMIT_MAX)
    session = StrictIntegerField(required=False, min_value=0, max_value=LIMIT_MAX)
    pending = StrictIntegerField(required=False, min_value=0, max_value=LIMIT_MAX)
    knowledge = StrictIntegerField(required=False, min_value=0, max_value=LIMIT_MAX)
    lessons = StrictIntegerField(required=False, min_value=0, max_value=LIMIT_MAX)
    memories = StrictIntegerField(required=False, min_value=0, max_value=LIMIT_MAX)


class PackWeightsSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """Weights of the score's terms (0-1); default: the preset's."""

    importance = StrictFloatField(required=False, min_value=0, max_value=1)
    confidence = StrictFloatField(required=False, min_value=0, max_value=1)
    recency = StrictFloatField(required=False, min_value=0, max_value=1)
    decay = StrictFloatField(required=False, min_value=0, max_value=1)
    similarity = StrictFloatField(required=False, min_value=0, max_value=1)


class PackRequestSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    query = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=QUERY_MAX_CHARS,
        help_text="What the agent is about to answer; ranks knowledge, lessons and memories by "
        "relevance (hybrid retrieval). Without it, by importance, confidence and recency.",
    )
    session_id = StrictCharField(
        required=False, max_length=255, help_text="The current session: its recent events."
    )
    preset = PresetField(
        required=False, default="conversational", help_text="conversational or focused."
    )
    max_tokens = StrictIntegerField(
        required=False,
        min_value=MAX_TOKENS_MIN,
        max_value=MAX_TOKENS_MAX,
        help_text="Token budget of the text (default: the spirit's retrieval.pack_max_tokens).",
    )
    limits = PackLimitsSerializer(required=False)
    weights = PackWeightsSerializer(required=False)


class PackItemSerializer(serializers.Serializer):
    layer = LayerField()
    kind = serializers.CharField(help_text="identity, event, knowledge, lesson or memory.")
    id = serializers.CharField(
        allow_null=True, help_text="The item's id (identity: the section's name)."
    )
    score = serializers.FloatField(allow_null=True, help_text="Null for identity and events.")
    reasons = serializers.DictField(help_text="The score's terms and retrieval ranks.")
    tokens = serializers.IntegerField()
    text = serializers.CharField(help_text="The item's line in `text`.")


class LayerBudgetSerializer(serializers.Serializer):
    allotted = serializers.IntegerField()
    used = serializers.IntegerField()


class PackSerializer(serializers.Serializer):
    id = serializers.CharField(allow_null=True)
    spirit_id = serializers.CharField()
    preset = serializers.CharField()
    query = serializers.CharField(allow_null=True, allow_blank=True)
    session_id = serializers.CharField(allow_null=True, allow_blank=True)
    max_tokens = serializers.IntegerField()
    token_count = serializers.IntegerField(help_text="Tokens of `text` (never above max).")
    settings = serializers.DictField(help_text="The effective limits and weights.")
    budget = serializers.DictField(child=LayerBudgetSerializer())
    items = PackItemSerializer(many=True)
    text = serializers.CharField(allow_blank=True, help_text="Prompt-ready rendering.")
    created_at = serializers.DateTimeField()
