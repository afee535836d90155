from __future__ import annotations

from django.db.models import QuerySet

from . import keys
from .models import ApiKey, Role, Team, TeamMembership

# Compared against when no key has the presented prefix, so a miss costs the same as a hit.
_NO_KEY_HASH = keys.hash_key("elk_0000000000_no-such-key")


def api_key_match(raw: str) -> ApiKey | None:
    """The key whose hash matches `raw` (usable or not), or None.

    The prefix finds the row; the SHA-256 comparison is constant-time, and a prefix that finds
    nothing still costs one comparison.
    """
    prefix = keys.parse_prefix(raw)
    if prefix is None:
        return None
    api_key = ApiKey.objects.select_related("team").filter(prefix=prefix).first()
    stored = api_key.key_hash if api_key is not None else _NO_KEY_HASH
    if not keys.matches(raw, stored) or api_key is None:
        return None
    return api_key


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The usable key matching `raw`, or None (unknown, revoked or expired)."""
    api_key = api_key_match(raw)
    if api_key is None or not api_key.is_usable:
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


def caller_roles(request) -> dict:
    """{team id: role} of the caller: the API key's role in its team, or the user's memberships.

    Cached on the request, like caller_team_ids.
    """
    cached = getattr(request, "_elephantasm_team_roles", None)
    if cached is not None:
        return cached
    auth = getattr(request, "auth", None)
    user = getattr(request, "user", None)
    if isinstance(auth, ApiKey):
        roles = {auth.team_id: auth.role}
    elif getattr(user, "is_authenticated", False) and getattr(user, "pk", None) is not None:
        roles = dict(TeamMembership.objects.filter(user=user).values_list("team_id", "role"))
    else:
        roles = {}
    request._elephantasm_team_roles = roles
    return roles


def caller_team_ids_with_role(request, role: str) -> list:
    """The ids of the caller's teams where the caller has at least `role`."""
    roles = caller_roles(request)
    return [
        team_id for team_id in caller_team_ids(request) if Role.at_least(roles.get(team_id), role)
    ]


def user_roles(user) -> dict:
    """{team id: role} of a user's memberships (the admin's view of who may do what)."""
    if not getattr(user, "is_authenticated", False) or getattr(user, "pk", None) is None:
        return {}
    return dict(TeamMembership.objects.filter(user=user).values_list("team_id", "role"))
