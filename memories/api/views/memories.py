"""The memory endpoints: CRUD, restore, history and provenance (operations: memory_operations)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.decorators import action

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
    MEMORY_RULES,
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
        extensions=MEMORY_RULES,
        description="The memory's `source_type` is `explicit`. `spirit_id` of a spirit outside "
        "your teams is a 404; `event_ids` of events, or `related_ids` of live memories, that are "
        "not the spirit's are a 400 naming the field.",
        request=MemoryCreateSerializer,
        responses={201: MemorySerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change a memory",
        extensions=MEMORY_RULES,
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
    restore=extend_schema(
        summary="Restore a soft-deleted memory",
        extensions=MEMORY_RULES,
        request=ReasonSerializer,
        responses={200: MemorySerializer, **ERRORS},
    ),
    history=extend_schema(
        summary="Audit history of a memory, or the memory as it was at a moment",
        parameters=[AS_OF, INCLUDE_DELETED, *PAGE],
        responses={200: HISTORY_RESPONSE, **ERRORS},
    ),
)
class MemoryViewSet(MemoryOperationsMixin, CuratedViewSet):
    """Memories of your teams' spirits. Deleted ones are hidden from reads unless
    `include_deleted=true`; writes act on live memories only (restore first)."""

    queryset = Memory.objects.all()
    object_type = "memory"
    serializer_class = MemorySerializer
    create_serializer_class = MemoryCreateSerializer
    update_serializer_class = MemoryUpdateSerializer
    filterset_class = MemoryFilter
    read_actions = CuratedViewSet.read_actions | {"events"}

    def queryset_for(self, *, include_deleted: bool):
        return with_related(selectors.memory_queryset(include_deleted=include_deleted))

    def create_item(self, *, spirit, data, reason):
        links = {name: data.pop(name, ()) for name in ("tags", "event_ids", "related_ids")}
        return memory_svc.memory_create(
            spirit=spirit, data=data, reason=reason, actor=self.actor, **links
        )

    def update_item(self, obj, *, data, reason):
        links = {name: data.pop(name, None) for name in ("tags", "related_ids")}
        return memory_svc.memory_update(
            memory=obj, data=data, reason=reason, actor=self.actor, **links
        )

    def delete_item(self, obj, *, reason):
        memory_svc.memory_soft_delete(memory=obj, reason=reason, actor=self.actor)

    def restore_item(self, obj, *, reason):
        return memory_svc.memory_restore(memory=obj, reason=reason, actor=self.actor)

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
