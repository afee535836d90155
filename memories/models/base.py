"""What memories, knowledge and lessons share: a spirit, an embedding, a full-text vector."""

from __future__ import annotations

from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from pgvector.django import VectorField

from elephantasm.models import TEXT_SEARCH_CONFIG, SoftDeleteModel

EMBEDDING_DIMENSIONS = 384


def unit_interval_field(default: float = 0.5, **kwargs) -> models.FloatField:
    return models.FloatField(
        default=default, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)], **kwargs
    )


def unit_interval_check(field: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.Q(**{f"{field}__gte": 0.0, f"{field}__lte": 1.0}), name=name
    )


def not_empty_check(field: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=~models.Q(**{field: ""}), name=name)


def ordered_check(start: str, end: str, name: str) -> models.CheckConstraint:
    """start <= end when both are set."""
    return models.CheckConstraint(
        condition=models.Q(**{f"{start}__isnull": True})
        | models.Q(**{f"{end}__isnull": True})
        | models.Q(**{f"{start}__lte": models.F(end)}),
        name=name,
    )


def search_vector_field(*weighted: tuple[str, str]) -> models.GeneratedField:
    """A stored tsvector computed by PostgreSQL from (field, weight) pairs."""
    vectors = [SearchVector(f, weight=w, config=TEXT_SEARCH_CONFIG) for f, w in weighted]
    expression = vectors[0]
    for vector in vectors[1:]:
        expression = expression + vector
    return models.GeneratedField(
        expression=expression, output_field=SearchVectorField(), db_persist=True
    )


class SpiritOwned(SoftDeleteModel):
    """A curated item with an embedding (filled by the pipeline); subclasses add spirit and text."""

    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True, editable=False)
    embedding_model = models.CharField(max_length=255, blank=True, editable=False)
    # Set when the text changes; the pipeline re-embeds stale rows and clears it.
    embedding_stale = models.BooleanField(default=True, editable=False)

    class Meta:
        abstract = True
