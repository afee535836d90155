"""The memory endpoints: CRUD, restore, history and provenance (operations: memory_operations)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from memories import selectors
from memories.models import Memory
from memories.services import memories as memory_svc

from ..filters import MemoryFilter
from ..serializers.common import ProvenanceEventSerializer, ReasonSerializer
from ..serializers.memories import (
    MemoryCreateSerializer,
    MemorySerializer,
    MemoryUpdateSerializer,
)
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
from .memory_operations import MemoryOperationsMixin


@extend_schema_view(
    list=extend_schema(summary="List memories", parameters=[INCLUDE_DELETED]),
    retrieve=extend_schema(
        summary="Get a memory",
        parameters=[INCLUDE_DELETED],
        responses={200: MemorySerializer, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary="Create a memory",
        description="The memory's `source_type` is `explicit`. `spirit_id` of a spirit outside "
        "your teams is a 404; `event_ids` of events, or `related_ids` of live memories, that are "
        "not the spirit's are a 400 naming the field.",
        request=MemoryCreateSerializer,
        responses={201: MemorySerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change a memory",
        description="Editable fields only; any other key is a 400 naming it. `tags` and "
        "`related_ids` replace the memory's tags and related memories.",
        request=MemoryUpdateSerializer,
        responses={200: MemorySerializer, **ERRORS},
    ),
    destroy=extend_schema(
        summary="Soft-delete a memory",
        parameters=[REASON_QUERY],
        responses={204: OpenApiResponse(description="Deleted; restorable."), 404: NOT_FOUND},
    ),
)
class MemoryViewSet(MemoryOperationsMixin, CuratedViewSet):
    """Memories of your teams' spirits. Deleted ones are hidden from reads unless
    `include_deleted=true`; writes act on live memories only (restore first)."""

    queryset = Memory.objects.all()
    object_type = "memory"
    serializer_class = MemorySerializer
    filterset_class = MemoryFilter
    read_actions = CuratedViewSet.read_actions | {"events"}

    def queryset_for(self, *, include_deleted: bool):
        return with_related(selectors.memory_queryset(include_deleted=include_deleted))

    def list(self, request):
        return self.paginated(self.filter_queryset(self.get_queryset()), MemorySerializer)

    def retrieve(self, request, pk=None):
        return Response(MemorySerializer(self.get_object()).data)

    def create(self, request):
        body = MemoryCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        spirit_id, reason = data.pop("spirit_id"), data.pop("reason", "")
        tags, event_ids = data.pop("tags", ()), data.pop("event_ids", ())
        related_ids = data.pop("related_ids", ())
        spirit = selectors.spirit_for_write(spirit_id=spirit_id, team_ids=self.team_ids)
        memory = memory_svc.memory_create(
            spirit=spirit,
            data=data,
            tags=tags,
            event_ids=event_ids,
            related_ids=related_ids,
            reason=reason,
            actor=self.actor,
        )
        return Response(MemorySerializer(memory).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        memory = self.get_object()
        body = MemoryUpdateSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        tags, reason = data.pop("tags", None), data.pop("reason", "")
        related_ids = data.pop("related_ids", None)
        memory = memory_svc.memory_update(
            memory=memory,
            data=data,
            tags=tags,
            related_ids=related_ids,
            reason=reason,
            actor=self.actor,
        )
        return Response(MemorySerializer(memory).data)

    def destroy(self, request, pk=None):
        memory = self.get_object()
        memory_svc.memory_soft_delete(
            memory=memory, actor=self.actor, reason=self.reason_from_delete()
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Restore a soft-deleted memory",
        request=ReasonSerializer,
        responses={200: MemorySerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        memory = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        memory = memory_svc.memory_restore(memory=memory, actor=self.actor, **body.validated_data)
        return Response(MemorySerializer(memory).data)

    @extend_schema(
        summary="Audit history of a memory, or the memory as it was at a moment",
        parameters=[AS_OF, INCLUDE_DELETED, *PAGE],
        responses={200: HISTORY_RESPONSE, **ERRORS},
    )
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        return self.history_of(self.get_object())

    @extend_schema(
        summary="The events a memory was made from, with link strength",
        parameters=[INCLUDE_DELETED],
        responses={200: ProvenanceEventSerializer(many=True), 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def events(self, request, pk=None):
        memory = self.get_object()
        return self.paginated(
            selectors.memory_source_events(memory=memory), ProvenanceEventSerializer
        )
