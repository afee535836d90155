"""The Dreamer over the API.

- POST /spirits/{spirit_id}/dreams/  queue a dream (202; 409 `conflict` when one is queued)
- GET  /spirits/{spirit_id}/dreams/  the spirit's dream sessions, newest first
- GET  /dreams/{id}/                 one session; /dreams/{id}/actions/ what it changed
- POST /dreams/{id}/rollback/        undo a completed session exactly (409 when it cannot)

Scoped like every viewset: a foreign spirit or session is a 404.
"""

from __future__ import annotations

from django.db.models import Count
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from elephantasm.api.viewsets import TeamScopedViewSet
from memories.models import DreamSession, DreamTrigger
from pipeline.dreamer.rollback import dream_rollback
from pipeline.dreamer.run import dream_request
from spirits.models import Spirit

from ..serializers.dreams import (
    DreamActionSerializer,
    DreamRequestSerializer,
    DreamRollbackSerializer,
    DreamSessionSerializer,
)
from .base import BAD_REQUEST, NOT_FOUND, PAGE, ActorMixin

CONFLICT_QUEUED = OpenApiResponse(
    description="A dream of this spirit is already queued: `conflict`, "
    "details.existing_id names it."
)
CONFLICT_ROLLBACK = OpenApiResponse(
    description="Not completed (queued, failed or already rolled back), or memories it touched "
    "changed since: `conflict`, details.memory_ids names them. Nothing is written."
)


class SpiritDreamsViewSet(ActorMixin, TeamScopedViewSet):
    queryset = Spirit.objects.all()
    team_field = "team"
    lookup_url_kwarg = "spirit_id"
    serializer_class = DreamSessionSerializer
    filter_backends = []

    @extend_schema(
        summary="A spirit's dream sessions, newest first",
        parameters=PAGE,
        responses={200: DreamSessionSerializer(many=True), 404: NOT_FOUND},
    )
    def list(self, request, spirit_id=None):
        spirit = self.get_object()
        sessions = DreamSession.objects.filter(spirit=spirit).annotate(
            action_count=Count("actions")
        )
        page = self.paginate_queryset(sessions.order_by("-created_at", "-id"))
        return self.get_paginated_response(DreamSessionSerializer(page, many=True).data)

    @extend_schema(
        summary="Queue a dream of the spirit",
        description="Light sleep (decay, tiers, decaying → archived, expiry) and merging of "
        "near-duplicates, run by a worker on the `dream` queue. Answers 202 with the queued "
        "session; poll GET /dreams/{id}/.",
        request=DreamRequestSerializer,
        responses={
            202: DreamSessionSerializer,
            400: BAD_REQUEST,
            404: NOT_FOUND,
            409: CONFLICT_QUEUED,
        },
    )
    def create(self, request, spirit_id=None):
        spirit = self.get_object()
        # No body is an empty one; a JSON `null` or any other non-object is refused.
        DreamRequestSerializer(data=request.data).is_valid(raise_exception=True)
        session = dream_request(spirit=spirit, trigger=DreamTrigger.API, actor=self.actor)
        return Response(DreamSessionSerializer(session).data, status=status.HTTP_202_ACCEPTED)


class DreamViewSet(ActorMixin, mixins.RetrieveModelMixin, TeamScopedViewSet):
    queryset = DreamSession.objects.all()
    serializer_class = DreamSessionSerializer
    filter_backends = []

    def get_scoped_queryset(self):
        return (
            DreamSession.objects.filter(spirit__deleted_at__isnull=True)
            .select_related("spirit")
            .annotate(action_count=Count("actions"))
        )

    @extend_schema(
        summary="A dream session", responses={200: DreamSessionSerializer, 404: NOT_FOUND}
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="What a dream session changed, in order",
        parameters=PAGE,
        responses={200: DreamActionSerializer(many=True), 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"])
    def actions(self, request, pk=None):
        session = self.get_object()
        page = self.paginate_queryset(session.actions.order_by("id"))
        return self.get_paginated_response(DreamActionSerializer(page, many=True).data)

    @extend_schema(
        summary="Roll back a dream session",
        description="Every memory the session touched gets its state from before the session "
        "(decay, tier, status, successor); memories its merges created are removed. Refused "
        "when any of them changed since.",
        request=DreamRollbackSerializer,
        responses={
            200: DreamSessionSerializer,
            400: BAD_REQUEST,
            404: NOT_FOUND,
            409: CONFLICT_ROLLBACK,
        },
    )
    @action(detail=True, methods=["post"])
    def rollback(self, request, pk=None):
        session = self.get_object()
        body = DreamRollbackSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        session = dream_rollback(
            session=session, actor=self.actor, reason=body.validated_data.get("reason", "")
        )
        return Response(DreamSessionSerializer(session).data)
