"""The shape of GET /api/v1/spirits/{spirit_id}/stats/ (memories.stats.spirit_overview).

Every count object lists every known value, zero included, so the schema declares each key;
events_by_type adds the spirit's custom event types by name after the known ones.
"""

from __future__ import annotations

from rest_framework import serializers

from events.models import EventType
from memories.models import (
    DreamStatus,
    KnowledgeType,
    LessonStatus,
    MemoryStatus,
    MemoryTier,
    MemoryType,
)
from memories.stats.counts import KNOWLEDGE_STATUSES
from memories.stats.health import HEALTHS
from pipeline.status import STEPS

GATE_TRIGGERS = ("idle", "events", "tokens", "wait", "score")


def _fields_serializer(name: str, doc: str, keys, make) -> type[serializers.Serializer]:
    """A serializer class named `name` (its schema component) with one field per key."""
    attrs = {key: make() for key in keys}
    return type(name, (serializers.Serializer,), {"__doc__": doc, **attrs})


def _counts(name: str, doc: str, keys) -> type[serializers.Serializer]:
    return _fields_serializer(name, doc, keys, lambda: serializers.IntegerField(min_value=0))


def _moments(name: str, doc: str) -> type[serializers.Serializer]:
    return _fields_serializer(name, doc, STEPS, lambda: serializers.DateTimeField(allow_null=True))


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


MemoryCountsByType = _counts("MemoryCountsByTypeSerializer", "Per memory type.", MemoryType.values)
MemoryCountsByTier = _counts("MemoryCountsByTierSerializer", "Per tier.", MemoryTier.values)
MemoryCountsByStatus = _counts("MemoryCountsByStatusSerializer", "Per status.", MemoryStatus.values)
KnowledgeCountsByType = _counts(
    "KnowledgeCountsByTypeSerializer", "Per knowledge type.", KnowledgeType.values
)
KnowledgeCountsByStatus = _counts(
    "KnowledgeCountsByStatusSerializer",
    "current: still valid (valid_to empty); closed: no longer true (valid_to set).",
    KNOWLEDGE_STATUSES,
)
LessonCountsByStatus = _counts("LessonCountsByStatusSerializer", "Per status.", LessonStatus.values)
StepRuns = _moments("PipelineStepRunsSerializer", "When each step last ran (null: never).")
StepFailures = _moments(
    "PipelineStepFailuresSerializer", "When each step last failed (null: no failure kept)."
)


class MemoryCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField(min_value=0, help_text="Live memories.")
    pinned = serializers.IntegerField(min_value=0)
    by_type = MemoryCountsByType()
    by_tier = MemoryCountsByTier()
    by_status = MemoryCountsByStatus()


class KnowledgeCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField(min_value=0, help_text="Live knowledge items.")
    by_type = KnowledgeCountsByType()
    by_status = KnowledgeCountsByStatus()


class LessonCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField(min_value=0, help_text="Live lessons.")
    by_status = LessonCountsByStatus()


class PipelinePendingSerializer(serializers.Serializer):
    enrichment = serializers.IntegerField(min_value=0, help_text="Events not enriched yet.")
    embedding = serializers.IntegerField(
        min_value=0, help_text="Events, memories, knowledge and lessons waiting for a vector."
    )
    synthesis = serializers.IntegerField(min_value=0, help_text="Events not synthesized yet.")
    synthesis_tokens = serializers.IntegerField(min_value=0, help_text="Their tokens.")
    extraction = serializers.IntegerField(
        min_value=0, help_text="Memories not read for knowledge and lessons yet."
    )
    identity = serializers.IntegerField(
        min_value=0, help_text="Knowledge and lessons newer than the identity."
    )


class SynthesisGateSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    due = serializers.BooleanField(help_text="Whether a synthesis is due now.")
    score = serializers.FloatField(help_text="The weighted score, against the config's threshold.")
    triggers = serializers.ListField(
        child=serializers.ChoiceField(choices=GATE_TRIGGERS),
        help_text="The conditions that hold now (any one makes it due).",
    )
    due_at = serializers.DateTimeField(
        allow_null=True, help_text="When time alone will make it due."
    )


class StatsFailureSerializer(serializers.Serializer):
    step = serializers.CharField()
    task = serializers.CharField()
    error = serializers.CharField()
    final = serializers.BooleanField(help_text="False: the task will be retried.")
    at = serializers.DateTimeField()


class DreamerFiguresSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    queued = serializers.BooleanField(help_text="A dream is waiting for a worker.")
    last_status = serializers.ChoiceField(choices=DreamStatus.values, allow_null=True)
    last_run_at = serializers.DateTimeField(allow_null=True)
    next_due_at = serializers.DateTimeField(
        allow_null=True, help_text="The schedule's next dream (once the spirit is idle)."
    )


class LanguageModelFiguresSerializer(serializers.Serializer):
    calls_24h = serializers.IntegerField(min_value=0)
    failed_24h = serializers.IntegerField(min_value=0)
    tokens_24h = serializers.IntegerField(min_value=0)


class PipelineFiguresSerializer(serializers.Serializer):
    health = serializers.ChoiceField(
        choices=HEALTHS,
        help_text="ok: nothing waits or failed; pending: work waits; failing: a step gave up in "
        "the last 24 hours; paused: the spirit is not curated now (paused, archived, deleted).",
    )
    pending = PipelinePendingSerializer()
    synthesis_gate = SynthesisGateSerializer()
    last_run_at = StepRuns()
    last_failure_at = StepFailures()
    final_failures_24h = serializers.IntegerField(
        min_value=0, help_text="Failures that gave up in the last 24 hours (of those kept)."
    )
    failures = StatsFailureSerializer(many=True, help_text="The newest five, newest first.")
    dreamer = DreamerFiguresSerializer()
    language_model = LanguageModelFiguresSerializer()


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
    memories = MemoryCountsSerializer()
    knowledge = KnowledgeCountsSerializer()
    lessons = LessonCountsSerializer()
    pipeline = PipelineFiguresSerializer()
