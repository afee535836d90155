"""Reads of spirits: querysets ready for listing, the team a new spirit goes to. (A spirit's
activity stats are events.selectors.spirit_stats.)"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db.models import QuerySet

from elephantasm.api.errors import ValidationFailed
from teams.models import SLUG_PATTERN, Team

from .models import Spirit

SLUG_RE = re.compile(SLUG_PATTERN)


def spirit_queryset(*, include_deleted: bool = False) -> QuerySet[Spirit]:
    """Spirits (live only unless include_deleted), newest first, with their team joined."""
    manager = Spirit.all_objects if include_deleted else Spirit.objects
    return manager.select_related("team").order_by("-created_at", "-id")


def is_team_slug(value: object) -> bool:
    """Whether `value` could be a team's slug: anything else (a NUL, which PostgreSQL refuses
    in a query, or 10 KB of text) names no team and is never looked up."""
    return isinstance(value, str) and len(value) <= 64 and SLUG_RE.fullmatch(value) is not None


def team_for_new_spirit(*, team_ids: Iterable, slug: str | None) -> Team:
    """The team a caller's new spirit belongs to.

    `slug` names one of the caller's teams; it may be left out when the caller has exactly one
    (always the case with an API key). A team the caller is not in is reported like a missing one.
    """
    teams = Team.objects.filter(id__in=list(team_ids)).order_by("slug")
    if slug:
        team = teams.filter(slug=slug).first() if is_team_slug(slug) else None
        if team is None:
            raise ValidationFailed(
                "Invalid input: team.", details={"team": [f"No team {slug!r} among yours."]}
            )
        return team
    candidates = list(teams[:2])
    if len(candidates) == 1:
        return candidates[0]
    message = (
        "You belong to several teams: name one with `team` (its slug)."
        if candidates
        else "You belong to no team, so you cannot create a spirit."
    )
    raise ValidationFailed("Invalid input: team.", details={"team": [message]})
