"""Thin viewsets: validate input, find the caller's objects, call a service, shape the response."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from elephantasm.api.envelope import ErrorResponseSerializer
from elephantasm.api.permissions import check_action_role
from elephantasm.api.schema import rules
from elephantasm.api.viewsets import TeamScopedViewSet
from elephantasm.metrics import EVENTS_INGESTED
from events import selectors
from events.errors import DuplicateEvent
from events.models import Event, Session
from events.services import (
    event_create,
    event_patch,
    event_restore,
    event_soft_delete,
    events_bulk_create,
)

from .bulk import bulk_response_body, validate_items
from .params import (
    EventListParamsSerializer,
    IncludeDeletedParamsSerializer,
    SessionListParamsSerializer,
    validated_query,
)
from .serializers import (
    DuplicateEventResponseSerializer,
    EventBulkItemSerializer,
    EventBulkResponseSerializer,
    EventBulkSerializer,
    EventCountSerializer,
    EventCreateSerializer,
    EventSerializer,
    EventUpdateSerializer,
    SessionSerializer,
)

_error = OpenApiResponse(ErrorResponseSerializer)
_errors = {400: _error, 404: _error}


def _restores(view) -> bool:
    """Whether the request's body restores the object (`"is_deleted": false`): only then does a
    PATCH find a soft-deleted one."""
    data = view.request.data
    return isinstance(data, dict) and data.get("is_deleted") is False


@extend_schema_view(
    list=extend_schema(
        summary="List events",
        parameters=[EventListParamsSerializer],
        responses={200: EventSerializer(many=True), **_errors},
    ),
    retrieve=extend_schema(
        summary="Get an event",
        parameters=[IncludeDeletedParamsSerializer],
        responses={200: EventSerializer, **_errors},
    ),
)
class EventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TeamScopedViewSet):
    """Events of the caller's spirits. Soft-deleted events are hidden unless include_deleted."""

    team_field = "spirit__team"
    serializer_class = EventSerializer

    def get_scoped_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Event.all_objects.none()
        if self.action in ("list", "count"):
            params = dict(validated_query(self, EventListParamsSerializer))
            if params.get("spirit_id") is not None:
                selectors.spirit_get_for_teams(
                    spirit_id=params["spirit_id"],
                    team_ids=self.team_ids,
                    include_deleted=params["include_deleted"],
                )
            return selectors.event_list(**params)
        if self.action == "retrieve":
            include = validated_query(self, IncludeDeletedParamsSerializer)["include_deleted"]
            return selectors.event_queryset(
                include_deleted_events=include, include_deleted_spirits=include
            )
        if self.action == "restore" or (self.action == "partial_update" and _restores(self)):
            return selectors.event_queryset(include_deleted_events=True)
        return selectors.event_queryset()

    @extend_schema(
        summary="Record an event",
        extensions=rules(occurred_at="At most a day ahead of the server's clock."),
        request=EventCreateSerializer,
        responses={
            201: EventSerializer,
            **_errors,
            409: OpenApiResponse(
                DuplicateEventResponseSerializer,
                description="The spirit already has an event with this dedupe key.",
            ),
        },
    )
    def create(self, request):
        serializer = EventCreateSerializer(data=request.data)
        if not serializer.is_valid():
            EVENTS_INGESTED.labels("error").inc()
            raise ValidationError(serializer.errors)
        data = dict(serializer.validated_data)
        spirit = selectors.spirit_get_for_teams(
            spirit_id=data.pop("spirit_id"), team_ids=self.team_ids
        )
        try:
            event = event_create(spirit=spirit, data=data)
        except DuplicateEvent:
            EVENTS_INGESTED.labels("duplicate").inc()
            raise
        EVENTS_INGESTED.labels("created").inc()
        return Response(EventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record many events of one spirit",
        description=(
            "Up to EVENTS_BULK_MAX (1,000) events of the spirit named at the top level. Always "
            "HTTP 200 once the call itself is valid: each item gets a result, in input order — "
            "created (id of the new event), duplicate (id of the existing event with the same "
            "dedupe key, possibly an earlier item of the batch) or error (the validation error; "
            "the other items are still recorded). Re-sending a batch creates nothing new for "
            "items that have a dedupe_key or a source_uri."
        ),
        request=EventBulkSerializer,
        responses={200: EventBulkResponseSerializer, **_errors},
    )
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request):
        envelope = EventBulkSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        spirit = selectors.spirit_get_for_teams(
            spirit_id=envelope.validated_data["spirit_id"], team_ids=self.team_ids
        )
        items = envelope.validated_data["events"]
        valid, errors = validate_items(
            EventBulkItemSerializer(context={"spirit_id": spirit.pk}), items
        )
        results = events_bulk_create(spirit=spirit, items=[data for _, data in valid])
        outcomes = zip((index for index, _ in valid), results, strict=True)
        body = bulk_response_body(size=len(items), errors=errors, outcomes=outcomes)
        return Response(body, status=status.HTTP_200_OK)

    @extend_schema(
        summary="Count events",
        parameters=[EventListParamsSerializer],
        responses={200: EventCountSerializer, **_errors},
    )
    @action(detail=False, methods=["get"], url_path="count")
    def count(self, request):
        return Response({"count": self.get_queryset().count()})

    @extend_schema(
        summary="Change an event's curation fields, soft-delete or restore it",
        description=(
            "meta_summary, importance_score, metadata and is_deleted: true soft-deletes the "
            "event as DELETE does, false restores it as POST .../restore/ does (a soft-deleted "
            "event is found only by a PATCH that restores it); all in one transaction."
        ),
        request=EventUpdateSerializer,
        responses={200: EventSerializer, 403: _error, **_errors},
    )
    def partial_update(self, request, pk=None):
        event = self.get_object()
        serializer = EventUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        is_deleted = data.pop("is_deleted", None)
        if is_deleted is not None:
            check_action_role(self, request, event, "destroy" if is_deleted else "restore")
        event = event_patch(event=event, data=data, is_deleted=is_deleted)
        return Response(EventSerializer(event).data)

    @extend_schema(
        summary="Soft-delete an event",
        responses={204: OpenApiResponse(description="Deleted."), 404: _error},
    )
    def destroy(self, request, pk=None):
        event_soft_delete(event=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Restore a soft-deleted event",
        extensions=rules(
            spirit_id="The event's spirit is live: restoring the spirit restores its events."
        ),
        request=None,
        responses={200: EventSerializer, 404: _error},
    )
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        event = event_restore(event=self.get_object())
        return Response(EventSerializer(event).data)


@extend_schema_view(
    list=extend_schema(
        summary="List sessions",
        parameters=[SessionListParamsSerializer],
        responses={200: SessionSerializer(many=True), **_errors},
    ),
    retrieve=extend_schema(
        summary="Get a session", responses={200: SessionSerializer, 404: _error}
    ),
)
class SessionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TeamScopedViewSet):
    """Sessions of the caller's live spirits, most recently active first."""

    team_field = "spirit__team"
    serializer_class = SessionSerializer

    def get_scoped_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Session.objects.none()
        if self.action == "list":
            params = validated_query(self, SessionListParamsSerializer)
            if params.get("spirit_id") is not None:
                selectors.spirit_get_for_teams(
                    spirit_id=params["spirit_id"], team_ids=self.team_ids
                )
            return selectors.session_list(**params)
        return selectors.session_queryset()
