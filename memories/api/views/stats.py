"""GET /spirits/{spirit_id}/stats/: a spirit in figures (memories.stats.spirit_overview).

Served by this app although the path is under /spirits/: the figures are the memories app's
and the pipeline's, which the spirits app may not import (architecture.md, "Where new code goes":
an endpoint under a spirit of another app lives in that app's urls). Scoped like every viewset:
a foreign or unknown spirit is a 404; a soft-deleted one too, unless include_deleted=true.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from elephantasm.api.filters import query_flag
from elephantasm.api.viewsets import TeamScopedViewSet
from memories.stats import spirit_overview
from spirits.models import Spirit
from spirits.selectors import spirit_queryset

from ..serializers.stats import SpiritStatsSerializer
from .base import BAD_REQUEST, NOT_FOUND

INCLUDE_DELETED = OpenApiParameter(
    "include_deleted",
    OpenApiTypes.BOOL,
    description="Also a soft-deleted spirit (default false).",
)


class SpiritStatsViewSet(TeamScopedViewSet):
    queryset = Spirit.objects.all()
    team_field = "team"
    lookup_url_kwarg = "spirit_id"
    serializer_class = SpiritStatsSerializer
    filter_backends = []

    def get_scoped_queryset(self):
        return spirit_queryset(include_deleted=self._include_deleted())

    def _include_deleted(self) -> bool:
        return query_flag(self.request, "include_deleted")

    @extend_schema(
        summary="A spirit in figures: events, memories, knowledge, lessons, pipeline",
        description="Live events by type, sessions and the first and last event; live memories "
        "by type, tier and status; knowledge by type and status (current or closed); lessons by "
        "status; and the pipeline's figures: what is pending, the synthesis gate, when each step "
        "last ran and failed, the newest failures, the dreamer, the language model's use. The "
        "same figures as the spirit's dashboard in the admin. The full pipeline detail is at "
        "GET /spirits/{spirit_id}/pipeline/.",
        parameters=[INCLUDE_DELETED],
        responses={200: SpiritStatsSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
        tags=["spirits"],
    )
    def retrieve(self, request, spirit_id=None):
        return Response(SpiritStatsSerializer(spirit_overview(self.get_object())).data)
