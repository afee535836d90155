"""Reads of spirits: querysets ready for listing, the team a new spirit goes to, activity stats."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypedDict

from django.db.models import Count, Max, Min, Q, QuerySet

from elephantasm.api.errors import ValidationFailed
from events.models import Event, EventType
from teams.models import Team

from .models import Spirit


def spirit_queryset(*, include_deleted: bool = False) -> QuerySet[Spirit]:
    """Spirits (live only unless include_deleted), newest first, with their team joined."""
    manager = Spirit.all_objects if include_deleted else Spirit.objects
    return manager.select_related("team").order_by("-created_at", "-id")


def team_for_new_spirit(*, team_ids: Iterable, slug: str | None) -> Team:
    """The team a caller's new spirit belongs to.

    `slug` names one of the caller's teams; it may be left out when the caller has exactly one
    (always the case with an API key). A team the caller is not in is reported like a missing one.
    """
    teams = Team.objects.filter(id__in=list(team_ids)).order_by("slug")
    if slug:
        team = teams.filter(slug=slug).first()
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


class SpiritStats(TypedDict):
    events_by_type: dict[str, int]
    event_count: int
    session_count: int
    first_activity_at: datetime | None
    last_activity_at: datetime | None


def spirit_stats(*, spirit: Spirit) -> SpiritStats:
    """Counts over the spirit's live events, in one aggregate query.

    Sessions are the distinct non-empty `session_id`s of those events, so every number here
    describes the same set of events.
    """
    by_type = {
        f"type_{index}": Count("id", filter=Q(event_type=value))
        for index, value in enumerate(EventType.values)
    }
    row: dict[str, Any] = Event.objects.filter(spirit=spirit).aggregate(
        event_count=Count("id"),
        session_count=Count("session_id", distinct=True, filter=~Q(session_id="")),
        first_activity_at=Min("occurred_at"),
        last_activity_at=Max("occurred_at"),
        **by_type,
    )
    return {
        "events_by_type": {
            value: row[f"type_{index}"] for index, value in enumerate(EventType.values)
        },
        "event_count": row["event_count"],
        "session_count": row["session_count"],
        "first_activity_at": row["first_activity_at"],
        "last_activity_at": row["last_activity_at"],
    }
