"""The lesson endpoints: CRUD, restore, history and source memories."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

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
        description="`spirit_id` of a spirit outside your teams is a 404; `memory_ids` that are "
        "not the spirit's memories are a 400 naming `memory_ids`.",
        request=LessonCreateSerializer,
        responses={201: LessonSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change a lesson",
        description="Editable fields only; any other key is a 400 naming it.",
        request=LessonUpdateSerializer,
        responses={200: LessonSerializer, **ERRORS},
    ),
    destroy=extend_schema(
        summary="Soft-delete a lesson",
        parameters=[REASON_QUERY],
        responses={204: OpenApiResponse(description="Deleted; restorable."), 404: NOT_FOUND},
    ),
)
class LessonViewSet(CuratedViewSet):
    """Lessons of your teams' spirits: what each learned to do differently."""

    queryset = Lesson.objects.all()
    object_type = "lesson"
    serializer_class = LessonSerializer
    filterset_class = LessonFilter
    read_actions = CuratedViewSet.read_actions | {"memories"}

    def queryset_for(self, *, include_deleted: bool):
        return selectors.lesson_queryset(include_deleted=include_deleted)

    def list(self, request):
        return self.paginated(self.filter_queryset(self.get_queryset()), LessonSerializer)

    def retrieve(self, request, pk=None):
        return Response(LessonSerializer(self.get_object()).data)

    def create(self, request):
        body = LessonCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        spirit_id, reason = data.pop("spirit_id"), data.pop("reason", "")
        memory_ids = data.pop("memory_ids", ())
        spirit = selectors.spirit_for_write(spirit_id=spirit_id, team_ids=self.team_ids)
        lesson = lesson_svc.lesson_create(
            spirit=spirit, data=data, memory_ids=memory_ids, reason=reason, actor=self.actor
        )
        return Response(LessonSerializer(lesson).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        lesson = self.get_object()
        body = LessonUpdateSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        reason = data.pop("reason", "")
        lesson = lesson_svc.lesson_update(lesson=lesson, data=data, reason=reason, actor=self.actor)
        return Response(LessonSerializer(lesson).data)

    def destroy(self, request, pk=None):
        lesson = self.get_object()
        lesson_svc.lesson_soft_delete(
            lesson=lesson, actor=self.actor, reason=self.reason_from_delete()
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Restore a soft-deleted lesson",
        request=ReasonSerializer,
        responses={200: LessonSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        lesson = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lesson = lesson_svc.lesson_restore(lesson=lesson, actor=self.actor, **body.validated_data)
        return Response(LessonSerializer(lesson).data)

    @extend_schema(
        summary="Audit history of a lesson, or the lesson as it was at a moment",
        parameters=[AS_OF, INCLUDE_DELETED, *PAGE],
        responses={200: HISTORY_RESPONSE, **ERRORS},
    )
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        return self.history_of(self.get_object())

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
