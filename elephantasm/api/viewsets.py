"""The team-scoped base viewset.

Every API queryset goes through `TeamScopedViewSet.get_queryset`, which filters by the caller's
teams. Subclasses may not override `get_queryset` (it raises at class creation); they implement
`get_scoped_queryset()` and name the path to the owning team in `team_field`. Foreign objects are
simply absent, so fetching one is a 404.
"""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import viewsets

from teams.selectors import caller_team_ids


class TeamScopedViewSet(viewsets.GenericViewSet):
    team_field: str = "spirit__team"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Checked on the resolved attribute, so a mixin earlier in the MRO cannot slip one in.
        if cls.get_queryset is not TeamScopedViewSet.get_queryset:
            raise TypeError(
                f"{cls.__name__} must not override get_queryset(); "
                "implement get_scoped_queryset() instead, the team filter is applied for you."
            )

    def get_scoped_queryset(self) -> QuerySet:
        """The unscoped queryset for this view (subclasses refine it: filters, select_related)."""
        return self.queryset.all()

    def get_queryset(self) -> QuerySet:
        team_ids = caller_team_ids(self.request)
        return self.get_scoped_queryset().filter(**{f"{self.team_field}__in": team_ids})

    @property
    def team_ids(self) -> list:
        return caller_team_ids(self.request)
