"""Abstract model bases shared by the apps: UUID keys, timestamps, soft delete.

Soft delete follows the house rule: `all_objects` (declared first, so it is the default manager
the admin uses) shows every row; `objects` shows live rows only; the base manager never filters.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from pgvector.django import HnswIndex

# The PostgreSQL text search configuration of every full-text vector and query.
TEXT_SEARCH_CONFIG = "english"


class SoftDeleteQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)

    def deleted(self):
        return self.filter(deleted_at__isnull=False)


class LiveManager(models.Manager.from_queryset(SoftDeleteQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


AllManager = models.Manager.from_queryset(SoftDeleteQuerySet)


class BaseModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class SoftDeleteModel(BaseModel):
    deleted_at = models.DateTimeField(null=True, blank=True)

    all_objects = AllManager()
    objects = LiveManager()

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


def cosine_hnsw_index(name: str, field: str = "embedding") -> HnswIndex:
    """The HNSW index every vector column gets: cosine distance, m=16, ef_construction=64."""
    return HnswIndex(
        name=name, fields=[field], m=16, ef_construction=64, opclasses=["vector_cosine_ops"]
    )
