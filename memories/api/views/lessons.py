"""The lesson endpoints: CRUD, restore, history and source memories."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.decorators import action

from memories import selectors
from memories.models import Lesson
from memories.services import lessons as lesson_svc

from ..filters import LessonFilter
from ..serializers.common import ReasonSerializer
from ..serializers.knowledge import LessonCreateSerializer, LessonSerializer, LessonUpdateSerializer
from ..serializers.memories import MemorySerializer
from .base import (
    AS_OF,
    ERRORS,
    HISTORY_RESPONSE,
    INCLUDE_DELETED,
    NOT_FOUND,
    PAGE,
    REASON_QUERY,
    SOURCE_MEMORY_RULES,
    CuratedViewSet,
    with_related,
)


@extend_schema_view(
    list=extend_schema(summary="List lessons", parameters=[INCLUDE_DELETED]),
    retrieve=extend_schema(
        summary="Get a lesson",
        parameters=[INCLUDE_DELETED],
        responses={200: LessonSerializer, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary="Create a lesson",
        extensions=SOURCE_MEMORY_RULES,
        description="`spirit_id` of a spirit outside your teams is a 404; `memory_ids` that are "
        "not the spirit's memories are a 400 naming `memory_ids`.",
        request=LessonCreateSerializer,
        responses={201: LessonSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change a lesson",
        extensions=SOURCE_MEMORY_RULES,
        description="Editable fields only; any other key is a 400 naming it.",
        request=LessonUpdateSerializer,
        responses={200: LessonSerializer, **ERRORS},
    ),
    destroy=extend_schema(
        summary="Soft-delete a lesson",
        parameters=[REASON_QUERY],
        responses={204: OpenApiResponse(description="Deleted; restorable."), 404: NOT_FOUND},
    ),
    restore=extend_schema(
        summary="Restore a soft-deleted lesson",
        extensions=SOURCE_MEMORY_RULES,
        request=ReasonSerializer,
        responses={200: LessonSerializer, **ERRORS},
    ),
    history=extend_schema(
        summary="Audit history of a lesson, or the lesson as it was at a moment",
        parameters=[AS_OF, INCLUDE_DELETED, *PAGE],
        responses={200: HISTORY_RESPONSE, **ERRORS},
    ),
)
class LessonViewSet(CuratedViewSet):
    """Lessons of your teams' spirits: what each learned to do differently."""

    queryset = Lesson.objects.all()
    object_type = "lesson"
    serializer_class = LessonSerializer
    create_serializer_class = LessonCreateSerializer
    update_serializer_class = LessonUpdateSerializer
    filterset_class = LessonFilter
    read_actions = CuratedViewSet.read_actions | {"memories"}

    def queryset_for(self, *, include_deleted: bool):
        return selectors.lesson_queryset(include_deleted=include_deleted)

    def create_item(self, *, spirit, data, reason):
        memory_ids = data.pop("memory_ids", ())
        return lesson_svc.lesson_create(
            spirit=spirit, data=data, memory_ids=memory_ids, reason=reason, actor=self.actor
        )

    def update_item(self, obj, *, data, reason):
        return lesson_svc.lesson_update(lesson=obj, data=data, reason=reason, actor=self.actor)

    def delete_item(self, obj, *, reason):
        lesson_svc.lesson_soft_delete(lesson=obj, reason=reason, actor=self.actor)

    def restore_item(self, obj, *, reason):
        return lesson_svc.lesson_restore(lesson=obj, reason=reason, actor=self.actor)

    @extend_schema(
        summary="The memories a lesson was drawn from",
        parameters=[INCLUDE_DELETED],
        responses={200: MemorySerializer(many=True), 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def memories(self, request, pk=None):
        lesson = self.get_object()
        memories = with_related(selectors.lesson_source_memories(lesson=lesson))
        return self.paginated(memories, MemorySerializer)
