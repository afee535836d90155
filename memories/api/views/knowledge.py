"""The knowledge endpoints: CRUD, restore, history and source memories."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from memories import selectors
from memories.models import Knowledge
from memories.services import knowledge as knowledge_svc

from ..filters import KnowledgeFilter
from ..serializers.common import ReasonSerializer
from ..serializers.knowledge import (
    KnowledgeCloseSerializer,
    KnowledgeCreateSerializer,
    KnowledgeSerializer,
    KnowledgeUpdateSerializer,
)
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
    list=extend_schema(summary="List knowledge", parameters=[INCLUDE_DELETED]),
    retrieve=extend_schema(
        summary="Get a knowledge item",
        parameters=[INCLUDE_DELETED],
        responses={200: KnowledgeSerializer, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary="Create a knowledge item",
        extensions=SOURCE_MEMORY_RULES,
        description="`spirit_id` of a spirit outside your teams is a 404; `memory_ids` that are "
        "not the spirit's memories are a 400 naming `memory_ids`.",
        request=KnowledgeCreateSerializer,
        responses={201: KnowledgeSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change a knowledge item",
        extensions=SOURCE_MEMORY_RULES,
        description="Editable fields only; any other key is a 400 naming it (`valid_to` too: "
        "close the item with POST .../close/).",
        request=KnowledgeUpdateSerializer,
        responses={200: KnowledgeSerializer, **ERRORS},
    ),
    destroy=extend_schema(
        summary="Soft-delete a knowledge item",
        parameters=[REASON_QUERY],
        responses={204: OpenApiResponse(description="Deleted; restorable."), 404: NOT_FOUND},
    ),
    restore=extend_schema(
        summary="Restore a soft-deleted knowledge item",
        extensions=SOURCE_MEMORY_RULES,
        request=ReasonSerializer,
        responses={200: KnowledgeSerializer, **ERRORS},
    ),
    history=extend_schema(
        summary="Audit history of a knowledge item, or the item as it was at a moment",
        parameters=[AS_OF, INCLUDE_DELETED, *PAGE],
        responses={200: HISTORY_RESPONSE, **ERRORS},
    ),
)
class KnowledgeViewSet(CuratedViewSet):
    """Knowledge of your teams' spirits. `current=true` lists what is still valid."""

    queryset = Knowledge.objects.all()
    object_type = "knowledge"
    serializer_class = KnowledgeSerializer
    create_serializer_class = KnowledgeCreateSerializer
    update_serializer_class = KnowledgeUpdateSerializer
    filterset_class = KnowledgeFilter
    read_actions = CuratedViewSet.read_actions | {"memories"}

    def queryset_for(self, *, include_deleted: bool):
        return selectors.knowledge_queryset(include_deleted=include_deleted)

    def create_item(self, *, spirit, data, reason):
        memory_ids = data.pop("memory_ids", ())
        return knowledge_svc.knowledge_create(
            spirit=spirit, data=data, memory_ids=memory_ids, reason=reason, actor=self.actor
        )

    def update_item(self, obj, *, data, reason):
        return knowledge_svc.knowledge_update(
            knowledge=obj, data=data, reason=reason, actor=self.actor
        )

    def delete_item(self, obj, *, reason):
        knowledge_svc.knowledge_soft_delete(knowledge=obj, reason=reason, actor=self.actor)

    def restore_item(self, obj, *, reason):
        return knowledge_svc.knowledge_restore(knowledge=obj, reason=reason, actor=self.actor)

    @extend_schema(
        summary="Close a knowledge item: it stopped being true (kept, no longer current)",
        extensions=SOURCE_MEMORY_RULES,
        description="Sets `valid_to` (default now) and, optionally, the item that replaces it "
        "(`superseded_by_id`: another live item of the same spirit, else a 400 naming it). "
        "Closing an item twice is a 400.",
        request=KnowledgeCloseSerializer,
        responses={200: KnowledgeSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        knowledge = self.get_object()
        body = KnowledgeCloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        successor_id = data.pop("superseded_by_id", None)
        successor = None
        if successor_id is not None:
            successor = selectors.knowledge_by_id(
                knowledge_id=successor_id, team_ids=self.team_ids, field="superseded_by_id"
            )
        knowledge = knowledge_svc.knowledge_close(
            knowledge=knowledge, superseded_by=successor, actor=self.actor, **data
        )
        return Response(KnowledgeSerializer(knowledge).data)

    @extend_schema(
        summary="The memories a knowledge item was drawn from",
        parameters=[INCLUDE_DELETED],
        responses={200: MemorySerializer(many=True), 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def memories(self, request, pk=None):
        knowledge = self.get_object()
        return self.paginated(
            with_related(selectors.knowledge_source_memories(knowledge=knowledge)), MemorySerializer
        )
