from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.functions import Now

from elephantasm.models import cosine_hnsw_index
from elephantasm.validators import (
    LONG_TEXT_MAX_CHARS,
    TEXT_MAX_CHARS,
    validate_json_object,
    validate_no_nul,
)

from .base import (
    SpiritOwned,
    not_empty_check,
    ordered_check,
    search_vector_field,
    unit_interval_check,
    unit_interval_field,
)


class MemoryType(models.TextChoices):
    SEMANTIC = "semantic", "Semantic"
    EPISODIC = "episodic", "Episodic"
    PROCEDURAL = "procedural", "Procedural"
    AGENT_PRIVATE = "agent_private", "Agent private"
    SHARED = "shared", "Shared"
    IDENTITY = "identity", "Identity"
    USER_PROFILE = "user_profile", "User profile"


class MemoryTier(models.TextChoices):
    HOT = "hot", "Hot"
    WARM = "warm", "Warm"
    COLD = "cold", "Cold"


class MemoryStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    DECAYING = "decaying", "Decaying"
    SUPERSEDED = "superseded", "Superseded"
    ARCHIVED = "archived", "Archived"
    DISPUTED = "disputed", "Disputed"


class MemorySource(models.TextChoices):
    EXTRACTION = "extraction", "Extraction"
    EXPLICIT = "explicit", "Explicit"
    SYSTEM = "system", "System"
    FEEDBACK = "feedback", "Feedback"
    CONSOLIDATION = "consolidation", "Consolidation"
    COMPACTION = "compaction", "Compaction"


# Not past its expires_at (at the statement's time): search and packs never serve an expired
# memory, even before a dream archives it.
UNEXPIRED = models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=Now())


class Memory(SpiritOwned):
    """What a spirit keeps: condensed from events, curated, decayed and merged over time."""

    spirit = models.ForeignKey("spirits.Spirit", on_delete=models.CASCADE, related_name="memories")
    memory_type = models.CharField(
        max_length=16, choices=MemoryType.choices, default=MemoryType.EPISODIC
    )
    content = models.TextField(
        validators=[validate_no_nul, MaxLengthValidator(LONG_TEXT_MAX_CHARS)]
    )
    summary = models.TextField(
        blank=True, validators=[validate_no_nul, MaxLengthValidator(TEXT_MAX_CHARS)]
    )
    subject = models.CharField(max_length=255, blank=True, validators=[validate_no_nul])
    importance = unit_interval_field()
    confidence = unit_interval_field(default=0.8)
    tier = models.CharField(max_length=8, choices=MemoryTier.choices, default=MemoryTier.HOT)
    status = models.CharField(
        max_length=16, choices=MemoryStatus.choices, default=MemoryStatus.ACTIVE
    )
    pinned = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="supersedes"
    )
    contradicts = models.ManyToManyField("self", blank=True, symmetrical=True)
    related_to = models.ManyToManyField("self", blank=True, symmetrical=True)
    source_type = models.CharField(
        max_length=16, choices=MemorySource.choices, default=MemorySource.EXPLICIT
    )
    extraction_model = models.CharField(max_length=255, blank=True)
    time_start = models.DateTimeField(null=True, blank=True)
    time_end = models.DateTimeField(null=True, blank=True)
    # How far the memory has faded (0 fresh .. 1 forgotten), set by the Dreamer from its age and
    # how often it is used (pipeline.dreamer.decay). Derived, like the embedding: not audited.
    decay = unit_interval_field(default=0.0)
    access_count = models.PositiveIntegerField(default=0)
    last_accessed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Set by extraction (pipeline.extraction) once knowledge and lessons were drawn from it.
    extracted_at = models.DateTimeField(null=True, blank=True, editable=False)
    metadata = models.JSONField(
        default=dict, blank=True, validators=[validate_json_object, validate_no_nul]
    )
    events = models.ManyToManyField(
        "events.Event", through="MemoryEvent", related_name="memories", blank=True
    )
    search_vector = search_vector_field(("summary", "A"), ("subject", "A"), ("content", "B"))

    class Meta:
        verbose_name_plural = "memories"
        constraints = [
            unit_interval_check("importance", "memory_importance_range"),
            unit_interval_check("confidence", "memory_confidence_range"),
            unit_interval_check("decay", "memory_decay_range"),
            not_empty_check("content", "memory_content_not_empty"),
            ordered_check("time_start", "time_end", "memory_time_span_ordered"),
        ]
        indexes = [
            models.Index(fields=["spirit", "-created_at"], name="memory_spirit_created_idx"),
            models.Index(fields=["spirit", "status", "tier"], name="memory_spirit_status_idx"),
            GinIndex(fields=["search_vector"], name="memory_search_gin"),
            cosine_hnsw_index("memory_embedding_hnsw"),
        ]

    def __str__(self) -> str:
        return self.summary or self.content[:80]


class MemoryTag(models.Model):
    memory = models.ForeignKey(Memory, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=64, validators=[validate_no_nul])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["memory", "name"], name="memory_tag_unique"),
        ]
        indexes = [models.Index(fields=["name"], name="memory_tag_name_idx")]

    def __str__(self) -> str:
        return self.name


class MemoryEvent(models.Model):
    """Provenance: an event a memory was made from, and how strongly it supports it."""

    memory = models.ForeignKey(Memory, on_delete=models.CASCADE, related_name="event_links")
    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="memory_links")
    link_strength = unit_interval_field(default=1.0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["memory", "event"], name="memory_event_unique"),
            unit_interval_check("link_strength", "memory_event_strength_range"),
        ]

    def __str__(self) -> str:
        return f"{self.memory_id} ← {self.event_id}"
