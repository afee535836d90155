"""Context packs: compile one, read the latest, list the kept ones.

- POST /spirits/{spirit_id}/pack/          compile (and keep) a pack
- GET  /spirits/{spirit_id}/packs/latest/  the newest kept pack (404 before the first)
- GET  /spirits/{spirit_id}/packs/         the kept packs, newest first (bounded per spirit)

A foreign, deleted or unknown spirit is a 404.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.response import Response

from elephantasm.api.errors import NotFound
from elephantasm.api.permissions import may_write
from elephantasm.api.schema import rules
from elephantasm.api.viewsets import TeamScopedViewSet
from memories.models import ContextPack
from memories.packs import PackRequest, compile_pack, item_dict
from spirits.models import Spirit
from teams.models import Role

from ..serializers.packs import PackRequestSerializer, PackSerializer
from .base import ERRORS, NOT_FOUND, PAGE, ActorMixin

EXAMPLE = OpenApiExample(
    "Before answering in a session",
    request_only=True,
    value={
        "query": "what does the user prefer to drink?",
        "session_id": "s-42",
        "max_tokens": 1500,
    },
)


def _as_response(pack) -> dict:
    """A compiled pack or a kept ContextPack, in one shape."""
    if isinstance(pack, ContextPack):
        return {
            "id": str(pack.pk),
            "spirit_id": str(pack.spirit_id),
            "preset": pack.preset,
            "query": pack.query or None,
            "session_id": pack.session_id or None,
            "max_tokens": pack.max_tokens,
            "token_count": pack.token_count,
            "settings": pack.settings,
            "budget": pack.budget,
            "items": pack.items,
            "text": pack.text,
            "created_at": pack.created_at,
        }
    return {
        "id": pack.id,
        "spirit_id": pack.spirit_id,
        "preset": pack.preset,
        "query": pack.query,
        "session_id": pack.session_id,
        "max_tokens": pack.max_tokens,
        "token_count": pack.token_count,
        "settings": pack.settings,
        "budget": pack.budget,
        "items": [item_dict(i) for i in pack.items],
        "text": pack.text,
        "created_at": pack.created_at,
    }


class SpiritPacksViewSet(ActorMixin, TeamScopedViewSet):
    required_roles = {
        "create": Role.VIEWER
    }  # compiling a pack reads memory (it keeps the pack it made)
    queryset = Spirit.objects.all()
    team_field = "team"
    lookup_url_kwarg = "spirit_id"
    serializer_class = PackSerializer
    filter_backends = []

    @extend_schema(
        summary="Compile a context pack: what the spirit should remember now",
        description="Layers in order: identity, the session's recent events, pending events, "
        "knowledge (currently valid), lessons, long-term memories; within `max_tokens` "
        "(counted with the local tokenizer), each layer allotted a share of the budget by the "
        "preset, unused tokens flowing to the next. Items are scored by importance, "
        "confidence, recency, 1 - decay and similarity (weighted mean). Returns every item "
        "with its layer, score, reasons and tokens, and the prompt-ready `text`.",
        request=PackRequestSerializer,
        responses={200: PackSerializer, **ERRORS},
        extensions=rules(
            weights="With the preset's weights under the ones given, one weight is above 0 "
            "(similarity counts only with a query)."
        ),
        examples=[EXAMPLE],
    )
    def create(self, request, spirit_id=None):
        spirit = self.get_object()
        body = PackRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        pack = compile_pack(
            spirit,
            PackRequest(
                query=data.get("query") or None,
                session_id=data.get("session_id") or None,
                preset=data["preset"],
                max_tokens=data.get("max_tokens"),
                limits=dict(data.get("limits", {})),
                weights=dict(data.get("weights", {})),
            ),
            actor=self.actor,
            # A read-only caller (viewer role, or a key without the write scope) reads packs
            # but does not keep them: it could otherwise push the kept history out.
            persist=may_write(request, spirit.team_id),
        )
        return Response(PackSerializer(_as_response(pack)).data)

    @extend_schema(
        summary="The newest context pack of the spirit",
        responses={200: PackSerializer, 404: NOT_FOUND},
    )
    def latest(self, request, spirit_id=None):
        spirit = self.get_object()
        pack = ContextPack.objects.filter(spirit=spirit).order_by("-created_at", "-id").first()
        if pack is None:
            raise NotFound("This spirit has no context pack yet.")
        return Response(PackSerializer(_as_response(pack)).data)

    @extend_schema(
        summary="The spirit's kept context packs, newest first",
        parameters=PAGE,
        responses={200: PackSerializer(many=True), 404: NOT_FOUND},
    )
    def list(self, request, spirit_id=None):
        spirit = self.get_object()
        packs = ContextPack.objects.filter(spirit=spirit).order_by("-created_at", "-id")
        page = self.paginate_queryset(packs)
        return self.get_paginated_response(
            PackSerializer([_as_response(p) for p in page], many=True).data
        )
