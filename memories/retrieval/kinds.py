"""Per kind: which rows a search may see, and its two candidate lists (vector and text).

Candidates are (id, measure) pairs: cosine distance for the vector list, `ts_rank_cd` for the
text list. Only live rows of the spirit; memories without `include_archived` skip archived and
superseded ones, lessons retired ones, knowledge everything closed (`valid_to` set). Vectors of
another embedding model than the query's are not comparable and are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib.postgres.search import SearchQueryField
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from pgvector.django import CosineDistance

from events.models import Event, EventEmbedding, content_search_vector
from memories.models import (
    Knowledge,
    Lesson,
    LessonStatus,
    Memory,
    MemoryEvent,
    MemoryStatus,
    MemoryTag,
)

from .query import SearchQuery

# ts_rank_cd normalisation: 0 = none (a longer text with more matches ranks higher).
TEXT_RANK_NORMALIZATION = 0
ARCHIVED_MEMORY = (MemoryStatus.ARCHIVED, MemoryStatus.SUPERSEDED)


class TsMatch(models.Func):
    """`tsvector @@ tsquery`."""

    arg_joiner = " @@ "
    template = "(%(expressions)s)"
    output_field = models.BooleanField()


def tsquery(text: str) -> Cast:
    """A tsquery given as text (already normalised lexemes: no dictionary applied again)."""
    return Cast(models.Value(text), output_field=SearchQueryField())


Filters = list[Any]


def event_filters(spirit_id: UUID, q: SearchQuery, prefix: str = "") -> Filters:
    def f(**kw) -> Q:
        return Q(**{prefix + key: value for key, value in kw.items()})

    filters: Filters = [f(spirit_id=spirit_id), f(deleted_at__isnull=True)]
    if q.types:
        filters.append(f(event_type__in=q.types_of("events")))
    if q.session_id is not None:
        filters.append(f(session_id=q.session_id))
    if q.occurred_after:
        filters.append(f(occurred_at__gte=q.occurred_after))
    if q.occurred_before:
        filters.append(f(occurred_at__lte=q.occurred_before))
    return filters


def memory_filters(spirit_id: UUID, q: SearchQuery) -> Filters:
    filters: Filters = [Q(spirit_id=spirit_id), Q(deleted_at__isnull=True)]
    if q.types:
        filters.append(Q(memory_type__in=q.types_of("memories")))
    if q.tiers:
        filters.append(Q(tier__in=q.tiers))
    if q.statuses:
        filters.append(Q(status__in=q.statuses_of("memories")))
    elif not q.include_archived:
        filters.append(~Q(status__in=ARCHIVED_MEMORY))
    if q.tags:
        filters.append(Exists(MemoryTag.objects.filter(memory=OuterRef("pk"), name__in=q.tags)))
    if q.session_id is not None:
        linked = MemoryEvent.objects.filter(memory=OuterRef("pk"), event__session_id=q.session_id)
        filters.append(Exists(linked))
    # A memory spans [time_start, time_end] (created_at when unknown): keep those overlapping.
    if q.occurred_after:
        end = Coalesce("time_end", "time_start", "created_at")
        filters.append(GreaterThanOrEqual(end, q.occurred_after))
    if q.occurred_before:
        start = Coalesce("time_start", "time_end", "created_at")
        filters.append(LessThanOrEqual(start, q.occurred_before))
    return filters


def _created_range(q: SearchQuery) -> Filters:
    filters: Filters = []
    if q.occurred_after:
        filters.append(Q(created_at__gte=q.occurred_after))
    if q.occurred_before:
        filters.append(Q(created_at__lte=q.occurred_before))
    return filters


def knowledge_filters(spirit_id: UUID, q: SearchQuery) -> Filters:
    filters: Filters = [Q(spirit_id=spirit_id), Q(deleted_at__isnull=True)]
    if q.types:
        filters.append(Q(knowledge_type__in=q.types_of("knowledge")))
    if not q.include_archived:
        filters.append(Q(valid_to__isnull=True))
    return filters + _created_range(q)


def lesson_filters(spirit_id: UUID, q: SearchQuery) -> Filters:
    filters: Filters = [Q(spirit_id=spirit_id), Q(deleted_at__isnull=True)]
    if q.statuses:
        filters.append(Q(status__in=q.statuses_of("lessons")))
    elif not q.include_archived:
        filters.append(~Q(status=LessonStatus.RETIRED))
    return filters + _created_range(q)


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    model: type[models.Model]
    filters: Callable[[UUID, SearchQuery], Filters]

    # --- vector ----------------------------------------------------------------------------------

    def vector_candidates(
        self, spirit_id: UUID, q: SearchQuery, vector: list[float], model_name: str, depth: int
    ) -> list[tuple[UUID, float]]:
        """The `depth` nearest rows by cosine distance (HNSW). Run it with iterative scans on
        (search.vector_scan), so rows the filters drop do not shrink the list."""
        if self.model is Event:
            qs = EventEmbedding.objects.filter(
                *event_filters(spirit_id, q, prefix="event__"), model=model_name
            )
            id_field = "event_id"
        else:
            qs = self.model._base_manager.filter(
                *self.filters(spirit_id, q), embedding_model=model_name
            )
            id_field = "pk"
        rows = (
            qs.annotate(distance=CosineDistance("embedding", vector))
            .order_by("distance")
            .values_list(id_field, "distance")[:depth]
        )
        return list(rows)

    # --- text ------------------------------------------------------------------------------------

    def text_candidates(
        self, spirit_id: UUID, q: SearchQuery, query_text: str, depth: int
    ) -> list[tuple[UUID, float]]:
        """The `depth` best rows by `ts_rank_cd` among those matching the tsquery."""
        vector = content_search_vector() if self.model is Event else F("search_vector")
        query = tsquery(query_text)
        rank = models.Func(
            vector,
            query,
            models.Value(TEXT_RANK_NORMALIZATION),
            function="ts_rank_cd",
            output_field=models.FloatField(),
        )
        rows = (
            self.model._base_manager.filter(*self.filters(spirit_id, q))
            .filter(TsMatch(vector, query))
            .annotate(text_score=rank)
            .order_by("-text_score", "pk")
            .values_list("pk", "text_score")[:depth]
        )
        return list(rows)


KIND_SPECS: dict[str, Kind] = {
    "events": Kind("events", Event, event_filters),
    "memories": Kind("memories", Memory, memory_filters),
    "knowledge": Kind("knowledge", Knowledge, knowledge_filters),
    "lessons": Kind("lessons", Lesson, lesson_filters),
}
