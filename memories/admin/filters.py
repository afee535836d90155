"""List filters scoped like the rows: a staff member picks only among their own teams and spirits.

The choices come from the (small) team and spirit tables, not from a DISTINCT over the listed
rows, so a filter costs one cheap query however many memories there are.
"""

from __future__ import annotations

import uuid

from django.contrib import admin

from elephantasm.admin import staff_team_ids
from spirits.models import Spirit
from teams.models import Team


def parse_uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value).strip())
    except (TypeError, ValueError, AttributeError):
        return None


def visible_teams(request):
    teams = Team.objects.all()
    return teams if request.user.is_superuser else teams.filter(id__in=staff_team_ids(request))


class _UUIDFilter(admin.SimpleListFilter):
    """Filters `lookup_attr` of the model admin (e.g. "spirit__team") by a UUID parameter."""

    lookup_attr = ""

    def __init__(self, request, params, model, model_admin):
        self.lookup = getattr(model_admin, self.lookup_attr)
        super().__init__(request, params, model, model_admin)

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        value = parse_uuid(self.value())
        return queryset.filter(**{self.lookup: value}) if value else queryset.none()


class TeamFilter(_UUIDFilter):
    title = "team"
    parameter_name = "team"
    lookup_attr = "team_lookup"

    def lookups(self, request, model_admin):
        return [(str(pk), slug) for pk, slug in visible_teams(request).values_list("id", "slug")]


class SpiritFilter(_UUIDFilter):
    """The spirits of the visible teams (of the chosen team, when a team filter is applied)."""

    title = "spirit"
    parameter_name = "spirit"
    lookup_attr = "spirit_lookup"

    def lookups(self, request, model_admin):
        spirits = Spirit.all_objects.all()
        if not request.user.is_superuser:
            spirits = spirits.filter(team__in=staff_team_ids(request))
        team = parse_uuid(request.GET.get(TeamFilter.parameter_name))
        if team is not None:
            spirits = spirits.filter(team_id=team)
        rows = spirits.order_by("team__slug", "name").values_list("id", "name", "team__slug")
        return [(str(pk), f"{name} ({team_slug})") for pk, name, team_slug in rows]


class ChoicesFilter(admin.SimpleListFilter):
    """A fixed list of values for a plain CharField (no DISTINCT scan of a large table)."""

    options: list[tuple[str, str]] = []

    def lookups(self, request, model_admin):
        return self.options

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{self.parameter_name: self.value()})
        return queryset
