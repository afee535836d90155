from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxLengthValidator
from django.db import models

from elephantasm.models import cosine_hnsw_index
from elephantasm.validators import TEXT_MAX_CHARS, validate_no_nul

from .base import (
    SpiritOwned,
    not_empty_check,
    ordered_check,
    search_vector_field,
    unit_interval_check,
    unit_interval_field,
)


class KnowledgeType(models.TextChoices):
    FACT = "FACT", "Fact"
    CONCEPT = "CONCEPT", "Concept"
    METHOD = "METHOD", "Method"
    PRINCIPLE = "PRINCIPLE", "Principle"
    EXPERIENCE = "EXPERIENCE", "Experience"


class KnowledgeSource(models.TextChoices):
    INTERNAL = "internal", "Internal"
    EXTERNAL = "external", "External"


class Knowledge(SpiritOwned):
    """A piece of knowledge. A fact that stops being true is closed (valid_to), never erased."""

    spirit = models.ForeignKey("spirits.Spirit", on_delete=models.CASCADE, related_name="knowledge")
    knowledge_type = models.CharField(max_length=16, choices=KnowledgeType.choices)
    topic = models.CharField(max_length=255, blank=True, validators=[validate_no_nul])
    content = models.TextField(validators=[validate_no_nul, MaxLengthValidator(TEXT_MAX_CHARS)])
    summary = models.TextField(
        blank=True, validators=[validate_no_nul, MaxLengthValidator(TEXT_MAX_CHARS)]
    )
    confidence = unit_interval_field(default=0.7)
    source_type = models.CharField(
        max_length=16, choices=KnowledgeSource.choices, default=KnowledgeSource.INTERNAL
    )
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_to = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="supersedes"
    )
    memories = models.ManyToManyField(
        "memories.Memory", through="KnowledgeMemory", related_name="knowledge", blank=True
    )
    search_vector = search_vector_field(("topic", "A"), ("summary", "A"), ("content", "B"))

    class Meta:
        verbose_name_plural = "knowledge"
        constraints = [
            unit_interval_check("confidence", "knowledge_confidence_range"),
            not_empty_check("content", "knowledge_content_not_empty"),
            ordered_check("valid_from", "valid_to", "knowledge_validity_ordered"),
        ]
        indexes = [
            models.Index(fields=["spirit", "knowledge_type"], name="knowledge_spirit_type_idx"),
            # the newest first (BM25's window for common words, memories.retrieval.kinds)
            models.Index(fields=["spirit", "-created_at"], name="knowledge_spirit_created_idx"),
            GinIndex(fields=["search_vector"], name="knowledge_search_gin"),
            cosine_hnsw_index("knowledge_embedding_hnsw"),
        ]

    def __str__(self) -> str:
        return self.summary or self.content[:80]

    @property
    def is_current(self) -> bool:
        return self.valid_to is None and self.deleted_at is None


class KnowledgeMemory(models.Model):
    knowledge = models.ForeignKey(Knowledge, on_delete=models.CASCADE, related_name="memory_links")
    memory = models.ForeignKey(
        "memories.Memory", on_delete=models.CASCADE, related_name="knowledge_links"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["knowledge", "memory"], name="knowledge_memory_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.knowledge_id} ← {self.memory_id}"
