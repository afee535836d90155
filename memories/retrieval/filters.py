"""Which rows of each kind a search may see: the ORM filters of its query (spirit, live rows,
types, tiers, statuses, tags, session, time range). Memories without `include_archived` skip
archived and superseded ones, lessons retired ones, knowledge everything closed (`valid_to` set).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual

from memories.models import UNEXPIRED, LessonStatus, MemoryEvent, MemoryStatus, MemoryTag

from .query import SearchQuery

ARCHIVED_MEMORY = (MemoryStatus.ARCHIVED, MemoryStatus.SUPERSEDED)


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
    filters: Filters = [Q(spirit_id=spirit_id), Q(deleted_at__isnull=True), UNEXPIRED]
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
