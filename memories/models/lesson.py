from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxLengthValidator
from django.db import models

from elephantasm.models import cosine_hnsw_index
from elephantasm.validators import TEXT_MAX_CHARS, validate_no_nul

from .base import (
    SpiritOwned,
    not_empty_check,
    search_vector_field,
    unit_interval_check,
    unit_interval_field,
)


class LessonStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class Lesson(SpiritOwned):
    """Something the spirit learned to do differently."""

    spirit = models.ForeignKey("spirits.Spirit", on_delete=models.CASCADE, related_name="lessons")
    statement = models.TextField(validators=[validate_no_nul, MaxLengthValidator(TEXT_MAX_CHARS)])
    rationale = models.TextField(
        blank=True, validators=[validate_no_nul, MaxLengthValidator(TEXT_MAX_CHARS)]
    )
    confidence = unit_interval_field(default=0.6)
    status = models.CharField(
        max_length=16, choices=LessonStatus.choices, default=LessonStatus.ACTIVE
    )
    memories = models.ManyToManyField(
        "memories.Memory", through="LessonMemory", related_name="lessons", blank=True
    )
    search_vector = search_vector_field(("statement", "A"), ("rationale", "B"))

    class Meta:
        constraints = [
            unit_interval_check("confidence", "lesson_confidence_range"),
            not_empty_check("statement", "lesson_statement_not_empty"),
        ]
        indexes = [
            models.Index(fields=["spirit", "status"], name="lesson_spirit_status_idx"),
            # the newest first (BM25's window for common words, memories.retrieval.kinds)
            models.Index(fields=["spirit", "-created_at"], name="lesson_spirit_created_idx"),
            GinIndex(fields=["search_vector"], name="lesson_search_gin"),
            cosine_hnsw_index("lesson_embedding_hnsw"),
        ]

    def __str__(self) -> str:
        return self.statement[:80]


class LessonMemory(models.Model):
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="memory_links")
    memory = models.ForeignKey(
        "memories.Memory", on_delete=models.CASCADE, related_name="lesson_links"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lesson", "memory"], name="lesson_memory_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.lesson_id} ← {self.memory_id}"
