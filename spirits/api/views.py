"""The spirit endpoints: thin, they parse, call a selector or service, and render."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from elephantasm.api.filters import query_flag
from elephantasm.api.permissions import check_action_role
from elephantasm.api.schema import rules
from elephantasm.api.viewsets import TeamScopedViewSet
from spirits.models import Spirit
from spirits.selectors import is_team_slug, spirit_queryset, team_for_new_spirit
from spirits.services import spirit_create, spirit_patch, spirit_restore, spirit_soft_delete
from teams.models import Role, Team

from .filters import SpiritFilter
from .serializers import (
    SpiritCreateSerializer,
    SpiritSerializer,
    SpiritUpdateSerializer,
)

UUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

INCLUDE_DELETED = OpenApiParameter(
    "include_deleted",
    OpenApiTypes.BOOL,
    description="Also show soft-deleted spirits (default false).",
)
ERRORS = {
    400: OpenApiResponse(description="Invalid input: error.code `validation_error`."),
    404: OpenApiResponse(description="No such spirit among your teams: `not_found`."),
}
ROLE_ERROR = OpenApiResponse(description="Too low a role: `permission_denied`, naming it.")


@extend_schema_view(
    list=extend_schema(summary="List spirits", parameters=[INCLUDE_DELETED]),
    retrieve=extend_schema(
        summary="Get a spirit",
        parameters=[INCLUDE_DELETED],
        responses={200: SpiritSerializer, **ERRORS},
    ),
    create=extend_schema(
        summary="Create a spirit",
        extensions=rules(team="One of your teams (its slug)."),
        request=SpiritCreateSerializer,
        responses={201: SpiritSerializer, 400: ERRORS[400]},
    ),
    partial_update=extend_schema(
        summary="Change a spirit, soft-delete or restore it",
        description=(
            "Any of the writable fields, and is_deleted: true soft-deletes the spirit and its "
            "events as DELETE does (owner role), false restores them as POST .../restore/ does "
            "(a soft-deleted spirit is found only by a PATCH that restores it); all in one "
            "transaction."
        ),
        request=SpiritUpdateSerializer,
        responses={200: SpiritSerializer, 403: ROLE_ERROR, **ERRORS},
    ),
    destroy=extend_schema(
        summary="Soft-delete a spirit and its events",
        responses={204: OpenApiResponse(description="Deleted; restorable."), 404: ERRORS[404]},
    ),
)
@extend_schema(tags=["spirits"])
class SpiritViewSet(TeamScopedViewSet):
    """Spirits of the caller's teams. Deleted spirits are hidden from reads unless
    `include_deleted=true`; PATCH and DELETE act on live spirits only, except a PATCH that
    restores (`"is_deleted": false`)."""

    queryset = Spirit.objects.all()
    team_field = "team"
    serializer_class = SpiritSerializer
    filterset_class = SpiritFilter
    lookup_value_regex = UUID_PATTERN
    # GET /spirits/{id}/stats/ is served by the memories app (memories.api.views.stats).
    read_actions_seeing_deleted = frozenset({"retrieve", "list"})
    # An archived spirit is read-only, but these bring it back or remove it.
    archived_spirit_actions = frozenset({"partial_update", "update", "destroy", "restore"})
    # Managing spirits is for admins; deleting them for owners (purging too: memories.api).
    required_roles = {
        "create": Role.ADMIN,
        "update": Role.ADMIN,
        "partial_update": Role.ADMIN,
        "restore": Role.ADMIN,
        "destroy": Role.OWNER,
    }

    def team_target_id(self):
        """A new spirit's team: the body's `team` slug, when it is one of the caller's teams."""
        slug = self.request.data.get("team") if isinstance(self.request.data, dict) else None
        if not is_team_slug(slug):
            return None
        return (
            Team.objects.filter(slug=slug, id__in=self.readable_team_ids)
            .values_list("id", flat=True)
            .first()
        )

    def get_serializer_class(self):
        if self.action == "create":
            return SpiritCreateSerializer
        if self.action == "partial_update":
            return SpiritUpdateSerializer
        return SpiritSerializer

    def get_scoped_queryset(self):
        include_deleted = (
            self.action == "restore"
            or (self.action == "partial_update" and self._restores())
            or (self.action in self.read_actions_seeing_deleted and self._include_deleted())
        )
        return spirit_queryset(include_deleted=include_deleted)

    def _restores(self) -> bool:
        """Whether the body restores the spirit (`"is_deleted": false`)."""
        data = self.request.data
        return isinstance(data, dict) and data.get("is_deleted") is False

    def _include_deleted(self) -> bool:
        return query_flag(self.request, "include_deleted")

    def list(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(SpiritSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(SpiritSerializer(self.get_object()).data)

    def create(self, request):
        body = SpiritCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        team = team_for_new_spirit(team_ids=self.team_ids, slug=fields.pop("team", None))
        spirit = spirit_create(team=team, **fields)
        return Response(SpiritSerializer(spirit).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        spirit = self.get_object()
        body = SpiritUpdateSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        is_deleted = fields.pop("is_deleted", None)
        if is_deleted is not None:  # the role of DELETE (owner) or of restore (admin) too
            check_action_role(self, request, spirit, "destroy" if is_deleted else "restore")
        spirit = spirit_patch(spirit=spirit, is_deleted=is_deleted, **fields)
        return Response(SpiritSerializer(spirit).data)

    def destroy(self, request, pk=None):
        spirit_soft_delete(spirit=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Restore a soft-deleted spirit and the events deleted with it",
        request=None,
        responses={200: SpiritSerializer, 404: ERRORS[404]},
    )
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        spirit = spirit_restore(spirit=self.get_object())
        return Response(SpiritSerializer(spirit).data)
