from __future__ import annotations

from django.db.models import QuerySet

from . import keys
from .models import ApiKey, Team


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The usable key matching `raw`, or None. The hash comparison is constant-time."""
    prefix = keys.parse_prefix(raw)
    if prefix is None:
        return None
    api_key = ApiKey.objects.select_related("team").filter(prefix=prefix).first()
    if api_key is None or not keys.matches(raw, api_key.key_hash) or not api_key.is_usable:
        return None
    return api_key


def teams_for_user(user) -> QuerySet[Team]:
    if not getattr(user, "is_authenticated", False) or getattr(user, "pk", None) is None:
        return Team.objects.none()
    return Team.objects.filter(memberships__user=user)


def caller_team_ids(request) -> list:
    """The ids of the teams whose data the caller may see: the API key's team, or the user's."""
    cached = getattr(request, "_elephantasm_team_ids", None)
    if cached is not None:
        return cached
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiKey):
        ids = [auth.team_id]
    else:
        ids = list(teams_for_user(request.user).values_list("id", flat=True))
    request._elephantasm_team_ids = ids
    return ids
