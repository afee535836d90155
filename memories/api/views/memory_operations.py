"""Curation operations on memories: pin, unpin, archive, dispute, supersede, split, merge.

Each parses its body, looks the memories up within the caller's teams, and calls one service,
which validates, writes and logs one audit entry.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from elephantasm.api.schema import RULES_EXTENSION
from memories import selectors
from memories.services import memories as memory_svc

from ..serializers.common import ReasonSerializer
from ..serializers.memories import (
    DisputeSerializer,
    MemoryMergeSerializer,
    MemorySerializer,
    MemorySplitSerializer,
    MemorySupersedeSerializer,
)
from .base import BAD_REQUEST, ERRORS, MEMORY_RULES, MEMORY_STATE_RULE, SPAN_RULE

OPERATION_RULES = {
    RULES_EXTENSION: {
        **MEMORY_RULES[RULES_EXTENSION],
        "non_field_errors": "A pinned memory cannot be archived; merged memories are distinct, "
        "live, of one spirit; a split has two parts or more.",
        "conflicting_id": "Another live memory, of the same spirit, not superseded.",
        "memory_ids": "Memories among yours, of one spirit, live and not superseded.",
        "parts": "Each part's event_ids are events of the memory; " + SPAN_RULE,
        "memory": MEMORY_STATE_RULE,
    }
}

IDS_IN_BODY = (
    " Ids in the body that are unknown, deleted or another team's are a 400 "
    "(`validation_error`) naming the field."
)


def _reason(request) -> str:
    body = ReasonSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data.get("reason", "")


class MemoryOperationsMixin:
    @extend_schema(
        summary="Pin a memory (kept from decay and archiving)",
        extensions=OPERATION_RULES,
        request=ReasonSerializer,
        responses={200: MemorySerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def pin(self, request, pk=None):
        memory = self.get_object()
        memory = memory_svc.memory_pin(memory=memory, actor=self.actor, reason=_reason(request))
        return Response(MemorySerializer(memory).data)

    @extend_schema(
        summary="Unpin a memory",
        extensions=OPERATION_RULES,
        request=ReasonSerializer,
        responses={200: MemorySerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def unpin(self, request, pk=None):
        memory = self.get_object()
        memory = memory_svc.memory_pin(
            memory=memory, pinned=False, actor=self.actor, reason=_reason(request)
        )
        return Response(MemorySerializer(memory).data)

    @extend_schema(
        summary="Archive a memory (a pinned memory cannot be archived: 400)",
        extensions=OPERATION_RULES,
        request=ReasonSerializer,
        responses={200: MemorySerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        memory = self.get_object()
        memory = memory_svc.memory_archive(memory=memory, actor=self.actor, reason=_reason(request))
        return Response(MemorySerializer(memory).data)

    @extend_schema(
        summary="Mark a memory disputed by another memory of the same spirit",
        extensions=OPERATION_RULES,
        description="The two memories are linked as contradicting each other." + IDS_IN_BODY,
        request=DisputeSerializer,
        responses={200: MemorySerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def dispute(self, request, pk=None):
        memory = self.get_object()
        body = DisputeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        [conflicting] = selectors.memories_by_ids(
            ids=[body.validated_data["conflicting_id"]],
            team_ids=self.team_ids,
            field="conflicting_id",
        )
        memory = memory_svc.memory_mark_disputed(
            memory=memory,
            conflicting=conflicting,
            actor=self.actor,
            reason=body.validated_data.get("reason", ""),
        )
        return Response(MemorySerializer(memory).data)

    @extend_schema(
        summary="Replace a memory with a new version",
        extensions=OPERATION_RULES,
        description="Fields left out are copied; the old memory becomes `superseded` and points "
        "to the new one, which keeps its tags and source events.",
        request=MemorySupersedeSerializer,
        responses={201: MemorySerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def supersede(self, request, pk=None):
        memory = self.get_object()
        body = MemorySupersedeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        reason = data.pop("reason", "")
        new = memory_svc.memory_supersede(memory=memory, data=data, reason=reason, actor=self.actor)
        return Response(MemorySerializer(new).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Split a memory into parts",
        extensions=OPERATION_RULES,
        description="Each part has its content and may narrow the provenance with `event_ids`; "
        "the original becomes `superseded` by the first part. Responds with the parts.",
        request=MemorySplitSerializer,
        responses={201: MemorySerializer(many=True), **ERRORS},
    )
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def split(self, request, pk=None):
        memory = self.get_object()
        body = MemorySplitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        parts = memory_svc.memory_split(
            memory=memory,
            parts=[dict(part) for part in body.validated_data["parts"]],
            reason=body.validated_data.get("reason", ""),
            actor=self.actor,
        )
        return Response(MemorySerializer(parts, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Merge memories of one spirit into a new one",
        extensions=OPERATION_RULES,
        description="Tags and source events are united; fields left out are derived from the "
        "sources (contents joined, highest importance, union of time spans). The sources "
        "become `superseded` by the result." + IDS_IN_BODY,
        request=MemoryMergeSerializer,
        responses={201: MemorySerializer, 400: BAD_REQUEST},
    )
    @action(detail=False, methods=["post"])
    def merge(self, request):
        body = MemoryMergeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        ids, reason = data.pop("memory_ids"), data.pop("reason", "")
        memories = selectors.memories_by_ids(ids=ids, team_ids=self.team_ids, field="memory_ids")
        merged = memory_svc.memory_merge(
            memories=memories, data=data, reason=reason, actor=self.actor
        )
        return Response(MemorySerializer(merged).data, status=status.HTTP_201_CREATED)
