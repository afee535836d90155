"""The memories made from an event: GET /events/{event_id}/memories/.

An explicit path (the event viewset is another app's); scoped like every viewset: the event must
be a live event of the caller's teams, else 404.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema

from elephantasm.api.viewsets import TeamScopedViewSet
from events.models import Event
from memories import selectors

from ..serializers.memories import LinkedMemorySerializer
from .base import NOT_FOUND, with_related


class EventMemoriesViewSet(TeamScopedViewSet):
    queryset = Event.objects.all()
    team_field = "spirit__team"
    lookup_url_kwarg = "event_id"
    serializer_class = LinkedMemorySerializer
    filter_backends = []

    @extend_schema(
        summary="The memories made from an event, with link strength",
        responses={200: LinkedMemorySerializer(many=True), 404: NOT_FOUND},
    )
    def list(self, request, event_id=None):
        event = self.get_object()
        page = self.paginate_queryset(with_related(selectors.event_memories(event=event)))
        return self.get_paginated_response(LinkedMemorySerializer(page, many=True).data)
