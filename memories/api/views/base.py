"""What the curated resources' viewsets share: deleted rows, history with as_of, reasons, docs."""

from __future__ import annotations

import re
from datetime import datetime

from django.db.models import Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from elephantasm.api.errors import NotFound, ValidationFailed
from elephantasm.api.filters import query_flag
from elephantasm.api.moments import UTC_MOMENT_SCHEMA, MomentError, parse_moment_text
from elephantasm.api.pagination import LIMIT_HELP, LIMIT_SCHEMA, OFFSET_HELP, OFFSET_SCHEMA
from elephantasm.api.schema import rules
from elephantasm.api.viewsets import TeamScopedViewSet
from memories import audit, selectors
from memories.models import AuditEntry, Memory
from teams.actors import Actor

from ..serializers.common import (
    REASON_MAX_CHARS,
    AsOfSerializer,
    AuditEntryPageSerializer,
    AuditEntrySerializer,
    ReasonSerializer,
)

UUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

INCLUDE_DELETED = OpenApiParameter(
    "include_deleted",
    OpenApiTypes.BOOL,
    description="Also show soft-deleted items and items of soft-deleted spirits (default false).",
)
AS_OF = OpenApiParameter(
    "as_of",
    UTC_MOMENT_SCHEMA,
    description="ISO 8601 moment (naive means UTC): return the object as it was then, "
    "as {as_of, state}, instead of the list of changes. 404 if it did not exist yet.",
)
PAGE = [
    OpenApiParameter("limit", LIMIT_SCHEMA, description=LIMIT_HELP),
    OpenApiParameter("offset", OFFSET_SCHEMA, description=OFFSET_HELP),
]
REASON_QUERY = OpenApiParameter(
    "reason",
    {"type": "string", "minLength": 0, "maxLength": REASON_MAX_CHARS},
    description="Why: recorded in the audit entry (or in the body). Empty: no reason.",
)
BAD_REQUEST = OpenApiResponse(description="Invalid input: error.code `validation_error`.")
NOT_FOUND = OpenApiResponse(description="Not among your teams' live items: `not_found`.")
ERRORS = {400: BAD_REQUEST, 404: NOT_FOUND}
HISTORY_RESPONSE = PolymorphicProxySerializer(
    component_name="HistoryOrState",
    serializers=[AuditEntryPageSerializer, AsOfSerializer],
    resource_type_field_name=None,
)
# The rules of curated data that JSON Schema cannot state (x-rules: elephantasm.api.schema).
SPAN_RULE = "The time span is ordered: time_end (valid_to) is not before time_start (valid_from)."
MEMORY_STATE_RULE = "The memory is live and not superseded (a superseded memory is history)."
MEMORY_RULES = rules(
    __all__=SPAN_RULE,
    event_ids="Events of the memory's spirit.",
    related_ids="Live memories of the memory's spirit, other than itself.",
    memory=MEMORY_STATE_RULE,
    status="A pinned memory cannot be archived; other statuses have their own operations.",
    tags="Tags are distinct once trimmed.",
)
SOURCE_MEMORY_RULES = rules(
    __all__=SPAN_RULE,
    memory_ids="Memories of the same spirit.",
    non_field_errors="The item is live (restore it first) and not closed already.",
    valid_to="Not before valid_from.",
    superseded_by_id="Another live knowledge item of the same spirit.",
)
_OFFSET_WITH_SPACE = re.compile(r" (\d{2}:?\d{2})$")


def with_related(queryset: QuerySet[Memory]) -> QuerySet[Memory]:
    """Memories with their related memories fetched once for the page (MemorySerializer's
    `related_ids`): lists must not query per row."""
    return queryset.prefetch_related(
        Prefetch("related_to", queryset=Memory.objects.only("id", "deleted_at"))
    )


parse_bool = query_flag  # a boolean query parameter (elephantasm.api.filters)


def parse_moment(raw: str, *, name: str = "as_of") -> datetime:
    """A moment (elephantasm.api.moments); a naive one is UTC. A '+' decoded to a space is
    tolerated."""
    try:
        return parse_moment_text(_OFFSET_WITH_SPACE.sub(r"+\1", raw), naive_is_utc=True)
    except MomentError as exc:
        raise ValidationFailed(f"Invalid input: {name}.", details={name: [exc.message]}) from None


def history_response(view: TeamScopedViewSet, *, object_type: str, object_id) -> Response:
    """The object's audit entries (paginated, oldest first) or, with ?as_of=, its past state.

    `object_id` None stands for an object not created yet: no entries, no past state."""
    raw = view.request.query_params.get("as_of")
    if raw is not None:
        # A past state is one object, not a page; limit and offset are still checked (a bad one
        # is a 400 either way).
        view.paginator.get_limit(view.request)
        view.paginator.get_offset(view.request)
        moment = parse_moment(raw)
        state = None
        if object_id is not None:
            state = audit.state_as_of(object_type, object_id, moment)
        if state is None:
            raise NotFound(f"This {object_type} did not exist at {moment.isoformat()}.")
        return Response(AsOfSerializer({"as_of": moment, "state": state}).data)
    if object_id is None:
        entries = AuditEntry.objects.none()
    else:
        entries = selectors.object_history(object_type=object_type, object_id=object_id)
    page = view.paginate_queryset(entries)
    previous = None
    if page and str(page[0].object_id) != str(object_id):
        previous = selectors.entry_before(entries=entries, entry=page[0])
    rows = selectors.history_rows(entries=page, object_id=object_id, previous=previous)
    return view.get_paginated_response(AuditEntrySerializer(rows, many=True).data)


class ActorMixin:
    @property
    def actor(self) -> Actor:
        """Who is calling, as recorded in audit entries."""
        return Actor.from_request(self.request)


class CuratedViewSet(ActorMixin, TeamScopedViewSet):
    """Base of the memory, knowledge and lesson viewsets: list, get, create, PATCH, soft DELETE,
    restore and history, each calling the resource's service through a hook.

    Reads (`read_actions`) show soft-deleted rows (and rows of soft-deleted spirits) only with
    `include_deleted=true`; `restore` sees deleted rows of live spirits; every other action acts
    on live rows only, so it 404s on deleted ones.
    Subclasses implement `queryset_for(include_deleted=...)` with a selector, name their
    serializers, and bind the services in `create_item`, `update_item`, `delete_item` and
    `restore_item` (schema texts per resource go in their `extend_schema_view`).
    """

    team_field = "spirit__team"
    object_type: str = ""
    lookup_value_regex = UUID_PATTERN
    read_actions: frozenset[str] = frozenset({"list", "retrieve", "history"})
    create_serializer_class: type[serializers.Serializer]
    update_serializer_class: type[serializers.Serializer]

    def queryset_for(self, *, include_deleted: bool) -> QuerySet:
        raise NotImplementedError

    def create_item(self, *, spirit, data: dict, reason: str):
        raise NotImplementedError

    def update_item(self, obj, *, data: dict, reason: str):
        raise NotImplementedError

    def delete_item(self, obj, *, reason: str) -> None:
        raise NotImplementedError

    def restore_item(self, obj, *, reason: str):
        raise NotImplementedError

    def list(self, request):
        return self.paginated(self.filter_queryset(self.get_queryset()), self.serializer_class)

    def retrieve(self, request, pk=None):
        return Response(self.serializer_class(self.get_object()).data)

    def create(self, request):
        data = self.validated_body(self.create_serializer_class)
        spirit = selectors.spirit_for_write(spirit_id=data.pop("spirit_id"), team_ids=self.team_ids)
        reason = data.pop("reason", "")
        obj = self.create_item(spirit=spirit, data=data, reason=reason)
        return Response(self.serializer_class(obj).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        obj = self.get_object()
        data = self.validated_body(self.update_serializer_class, partial=True)
        reason = data.pop("reason", "")
        return Response(self.serializer_class(self.update_item(obj, data=data, reason=reason)).data)

    def destroy(self, request, pk=None):
        self.delete_item(self.get_object(), reason=self.reason_from_delete())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        obj = self.get_object()
        reason = self.validated_body(ReasonSerializer).get("reason", "")
        return Response(self.serializer_class(self.restore_item(obj, reason=reason)).data)

    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        return self.history_of(self.get_object())

    def validated_body(self, serializer_class, *, partial: bool = False) -> dict:
        body = serializer_class(data=self.request.data, partial=partial)
        body.is_valid(raise_exception=True)
        return dict(body.validated_data)

    def get_scoped_queryset(self) -> QuerySet:
        if self.action == "restore":  # deleted rows, but not of a deleted spirit (restore it first)
            return self.queryset_for(include_deleted=True).filter(spirit__deleted_at__isnull=True)
        include_deleted = self.action in self.read_actions and parse_bool(
            self.request, "include_deleted"
        )
        return self.queryset_for(include_deleted=include_deleted)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # The list's query filters apply to the list only, not to lookups of one object.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def paginated(self, queryset: QuerySet, serializer_class) -> Response:
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True).data)

    def reason_from_delete(self) -> str:
        """DELETE's reason: from the body if there is one, else from ?reason=."""
        data = self.request.data or {"reason": self.request.query_params.get("reason", "")}
        body = ReasonSerializer(data=data)
        body.is_valid(raise_exception=True)
        return body.validated_data.get("reason", "")

    def history_of(self, obj) -> Response:
        return history_response(self, object_type=self.object_type, object_id=obj.pk)
