"""Template tags of the curator's console: `{% curator_teams as teams %}` for the admin index.

The teams are the requesting user's (every team for a superuser), from one selector
(memories.stats.teams_overview, two queries), with each spirit's console links.
"""

from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse

from memories.stats import teams_overview
from teams.selectors import teams_for_user

register = template.Library()


def _url(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


@register.simple_tag(takes_context=True)
def curator_teams(context) -> list:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_active or not user.is_staff:
        return []
    if not (user.has_perm("spirits.view_spirit") or user.has_perm("spirits.change_spirit")):
        return []
    team_ids = (
        None if user.is_superuser else list(teams_for_user(user).values_list("id", flat=True))
    )
    rows = teams_overview(team_ids)
    for row in rows:
        row["spirits_url"] = (
            f"{reverse('admin:spirits_spirit_changelist')}?team__id__exact={row['team'].pk}"
        )
        row["more"] = row["spirit_count"] - len(row["spirits"])
        for item in row["spirits"]:
            pk = item["spirit"].pk
            item["dashboard_url"] = _url("admin:spirits_spirit_dashboard", pk)
            item["memory_map_url"] = _url("admin:spirits_spirit_memory_map", pk)
            item["change_url"] = reverse("admin:spirits_spirit_change", args=[pk])
    return rows
