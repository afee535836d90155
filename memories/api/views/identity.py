"""A spirit's identity: GET, PUT (replace), PATCH (merge top-level keys), and its history.

Routed as explicit paths under /spirits/{spirit_id}/identity/ (the spirit viewset is another
app's). The lookup is the spirit, scoped to the caller's teams: a foreign, deleted or unknown
spirit is a 404.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from elephantasm.api.viewsets import TeamScopedViewSet
from memories import selectors
from memories.models import Identity
from memories.models.identity import empty_identity
from memories.services import identity as identity_svc
from spirits.models import Spirit

from ..serializers.identity import (
    IdentityReplaceSerializer,
    IdentitySerializer,
    IdentityWriteSerializer,
)
from .base import AS_OF, ERRORS, HISTORY_RESPONSE, NOT_FOUND, PAGE, ActorMixin, history_response


class IdentityViewSet(ActorMixin, TeamScopedViewSet):
    queryset = Spirit.objects.all()
    team_field = "team"
    lookup_url_kwarg = "spirit_id"
    serializer_class = IdentitySerializer
    filter_backends = []

    @extend_schema(
        summary="A spirit's identity",
        description="A spirit without one yet reads as version 0 with the empty document and "
        "`updated_at` null; nothing is written until the first PUT or PATCH.",
        responses={200: IdentitySerializer, 404: NOT_FOUND},
    )
    def retrieve(self, request, spirit_id=None):
        spirit = self.get_object()
        identity = selectors.identity_of(spirit=spirit)
        if identity is None:  # Not created yet: the empty one, unsaved (updated_at None).
            identity = Identity(spirit=spirit, version=0, document=empty_identity())
        return Response(IdentitySerializer(identity).data)

    @extend_schema(
        summary="Replace a spirit's identity document",
        request=IdentityReplaceSerializer,
        responses={200: IdentitySerializer, **ERRORS},
    )
    def update(self, request, spirit_id=None):
        return self._revise(partial=False)

    @extend_schema(
        summary="Change top-level keys of a spirit's identity document",
        description="Each key in `document` replaces that key; keys left out are kept.",
        request=IdentityWriteSerializer,
        responses={200: IdentitySerializer, **ERRORS},
    )
    def partial_update(self, request, spirit_id=None):
        return self._revise(partial=True)

    def _revise(self, *, partial: bool) -> Response:
        spirit = self.get_object()
        serializer_class = IdentityWriteSerializer if partial else IdentityReplaceSerializer
        body = serializer_class(data=self.request.data, partial=partial)
        body.is_valid(raise_exception=True)
        identity = identity_svc.identity_revise(
            spirit=spirit,
            document=body.validated_data.get("document", {}),
            partial=partial,
            reason=body.validated_data.get("reason", ""),
            actor=self.actor,
        )
        return Response(IdentitySerializer(identity).data)

    @extend_schema(
        summary="Revisions of a spirit's identity, or the identity as it was at a moment",
        parameters=[AS_OF, *PAGE],
        responses={200: HISTORY_RESPONSE, **ERRORS},
    )
    def history(self, request, spirit_id=None):
        identity = selectors.identity_of(spirit=self.get_object())
        object_id = identity.pk if identity is not None else None  # None: not created yet
        return history_response(self, object_type="identity", object_id=object_id)
