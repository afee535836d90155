"""Who may do what in the API: the caller's role in the team that owns the data, and the API
key's scopes.

Roles are ordered viewer < member < admin < owner (teams.models.Role). Each view names the role
an action needs in `required_roles` ({action: role}); what it leaves out follows the defaults:
safe methods (GET, HEAD, OPTIONS) need viewer, other methods member, and an action named
`purge` owner. An action that needs only viewer is a read, whatever its method (search and
context packs are POSTs that read).

`RolePermission` (the API's default permission class) checks, in order:

1. the caller is authenticated (IsAuthenticated);
2. an API key has the scope the request needs: `read` for reads, `write` for everything else;
3. for a call on one object (a URL with the object's id): after the object is found among the
   caller's teams, the caller's role in the object's team (`has_object_permission`). An object
   of another team is never found, so it stays a 404;
4. for a call on a collection that writes: the role in the team of the spirit (`spirit_id`) or
   team (`team`) named in the body, when that is one of the caller's teams; else the caller must
   have the role in at least one team (which team is then up to the view, which sees only
   `view.team_ids`: the teams where the caller has the role);
5. a write (an action that needs more than viewer) to an archived spirit or its data is a 409
   `spirit_archived`, except the actions a view names in `archived_spirit_actions` (the spirit's
   own update, delete, restore and purge: how it is brought back or removed).

Lists are filtered to the teams where the caller has the role the list needs (TeamScopedViewSet).
A missing role is a 403 `permission_denied` naming the role needed and the caller's.
"""

from __future__ import annotations

import uuid

from rest_framework import permissions, status

from elephantasm.api.errors import ApplicationError, ErrorCode, SpiritArchived
from spirits.models import Spirit, SpiritStatus
from teams.models import ApiKey, Role, Scope
from teams.selectors import caller_roles, caller_team_ids

DEFAULT_ACTION_ROLES: dict[str, str] = {"purge": Role.OWNER}


class RoleRequired(ApplicationError):
    code = ErrorCode.PERMISSION_DENIED
    status_code = status.HTTP_403_FORBIDDEN


def required_role(view, request) -> str:
    """The role the view's current action needs (see the module's docstring for the defaults)."""
    return action_role(
        view, getattr(view, "action", None), safe=request.method in permissions.SAFE_METHODS
    )


def action_role(view, action: str | None, *, safe: bool = False) -> str:
    """The role `action` of the view needs; `safe`: when called with GET, HEAD or OPTIONS."""
    declared = getattr(view, "required_roles", None) or {}
    if action in declared:
        return declared[action]
    if action in DEFAULT_ACTION_ROLES:
        return DEFAULT_ACTION_ROLES[action]
    return Role.VIEWER if safe else Role.MEMBER


def check_action_role(view, request, obj, action: str) -> None:
    """Require, on `obj`, the role of another (writing) action of the view as well: a call that
    does what that action does (a PATCH of `is_deleted` soft-deletes or restores) needs its role
    too. A 403 naming the role otherwise, like any role check."""
    required = action_role(view, action)
    role = caller_roles(request).get(object_team_id(obj, view.team_field))
    if not Role.at_least(role, required):
        raise refuse(required, role, "this team")


def may_write(request, team_id) -> bool:
    """Whether the caller may write in the team: at least the member role there and, with an
    API key, its `write` scope. A read (a pack) that would also keep something checks it."""
    auth = request.auth
    if isinstance(auth, ApiKey) and not auth.has_scope(Scope.WRITE):
        return False
    return Role.at_least(caller_roles(request).get(team_id), Role.MEMBER)


def required_scope(view, request) -> str:
    if request.method in permissions.SAFE_METHODS or required_role(view, request) == Role.VIEWER:
        return Scope.READ
    return Scope.WRITE


def is_object_call(view) -> bool:
    """Whether the URL names one object (its id is a URL keyword argument)."""
    kwarg = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", None)
    return kwarg is not None and kwarg in getattr(view, "kwargs", {})


def object_team_id(obj, path: str):
    """The id of the team of `obj` along a `team_field` path such as "spirit__team"."""
    *hops, last = path.split("__")
    for hop in hops:
        obj = getattr(obj, hop)
    return getattr(obj, f"{last}_id")


def refuse(required: str, role: str | None, where: str) -> RoleRequired:
    held = f"; you are {role}" if role else ""
    return RoleRequired(
        f"This needs the {required} role in {where}{held}.",
        details={"required_role": str(required), "role": str(role) if role else None},
    )


class RolePermission(permissions.IsAuthenticated):
    message = "Authentication credentials were not provided."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if getattr(view, "action", "") is None and not hasattr(view, request.method.lower()):
            return True  # no handler for this method: the view answers 405
        auth = request.auth
        if isinstance(auth, ApiKey):
            scope = required_scope(view, request)
            if not auth.has_scope(scope):
                raise RoleRequired(
                    f"This API key does not have the {scope} scope this request needs "
                    f"(it has: {', '.join(auth.scopes) or 'none'}).",
                    details={"required_scope": str(scope), "scopes": list(auth.scopes)},
                )
        if is_object_call(view) or not hasattr(view, "team_target_id"):
            return True  # checked on the object, once found among the caller's teams
        required = required_role(view, request)
        if required == Role.VIEWER:
            return True  # every team the caller sees, the caller may read
        roles = caller_roles(request)
        team_id = view.team_target_id()
        if team_id is not None:
            if not Role.at_least(roles.get(team_id), required):
                raise refuse(required, roles.get(team_id), "this team")
            target = getattr(view, "target_spirit", None)
            _refuse_archived(view, target() if target is not None else None)
            return True
        readable = caller_team_ids(request)
        if readable and not any(Role.at_least(roles.get(t), required) for t in readable):
            best = max((roles.get(t) for t in readable), key=Role.rank, default=None)
            raise refuse(required, best, "any of your teams")
        return True

    def has_object_permission(self, request, view, obj) -> bool:
        required = required_role(view, request)
        if required == Role.VIEWER:
            return True
        path = getattr(view, "team_field", None)
        if path is None:
            return True
        role = caller_roles(request).get(object_team_id(obj, path))
        if not Role.at_least(role, required):
            raise refuse(required, role, "this team")
        _refuse_archived(view, obj if isinstance(obj, Spirit) else getattr(obj, "spirit", None))
        return True


def _refuse_archived(view, spirit: Spirit | None) -> None:
    """Step 5 of the module docstring: a write to an archived spirit's data is a 409."""
    if spirit is None or spirit.status != SpiritStatus.ARCHIVED:
        return
    if getattr(view, "action", None) in getattr(view, "archived_spirit_actions", ()):
        return
    raise SpiritArchived(spirit.pk)


def parse_uuid(value) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
