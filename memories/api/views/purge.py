"""POST /spirits/{spirit_id}/purge/: permanently delete a spirit and everything of it (owner).

Served by the memories app (which owns what a purge removes), mounted under the spirit's URL as
identity and dreams are. A foreign or unknown spirit is a 404; a soft-deleted one can be purged.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from elephantasm.api.schema import rules
from elephantasm.api.viewsets import TeamScopedViewSet
from spirits.models import Spirit
from teams.actors import Actor

from ...services.purge import spirit_purge
from ..serializers.purge import SpiritPurgeResultSerializer, SpiritPurgeSerializer
from .base import ERRORS


@extend_schema(tags=["spirits"])
class SpiritPurgeViewSet(TeamScopedViewSet):
    queryset = Spirit.all_objects.all()  # a soft-deleted spirit can be purged too
    team_field = "team"
    lookup_url_kwarg = "spirit_id"
    serializer_class = SpiritPurgeSerializer
    filter_backends = []
    archived_spirit_actions = frozenset({"purge"})  # removing an archived spirit is allowed

    @extend_schema(
        summary="Purge a spirit: permanently delete it and everything of it (owner only)",
        description=(
            "Hard-deletes the spirit (live or soft-deleted) with its events and their vectors, "
            "sessions, memories, knowledge, lessons, identity, dreams, packs and usage records. "
            "The audit log keeps its entries with ids, actions and times only. Not reversible: "
            "`confirm` must be the spirit's name or id."
        ),
        request=SpiritPurgeSerializer,
        extensions=rules(confirm="The spirit's name or id."),
        responses={200: SpiritPurgeResultSerializer, **ERRORS},
    )
    def purge(self, request, spirit_id=None):
        spirit = self.get_object()
        body = SpiritPurgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = spirit_purge(
            spirit=spirit, actor=Actor.from_request(request), confirm=body.validated_data["confirm"]
        )
        return Response(SpiritPurgeResultSerializer(result).data)
