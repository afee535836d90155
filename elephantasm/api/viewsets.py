"""The team-scoped base viewset.

Every API queryset goes through `TeamScopedViewSet.get_queryset`, which filters by the caller's
teams. Subclasses may not override `get_queryset` (it raises at class creation); they implement
`get_scoped_queryset()` and name the path to the owning team in `team_field`. Foreign objects are
simply absent, so fetching one is a 404.

What the caller may do with what it sees is the role it has in the object's team (API keys: the
key's role and scopes): `required_roles` names the role per action, `RolePermission` checks it.
"""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError

from elephantasm.api.permissions import is_object_call, parse_uuid, required_role
from spirits.models import Spirit
from teams.selectors import caller_team_ids, caller_team_ids_with_role

REPEATED_MESSAGE = "Give this parameter once."


class TeamScopedViewSet(viewsets.GenericViewSet):
    team_field: str = "spirit__team"
    # {action: role} where an action needs more (or less) than the defaults of
    # elephantasm.api.permissions: viewer for safe methods, member for others, owner for purge.
    required_roles: dict[str, str] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Checked on the resolved attribute, so a mixin earlier in the MRO cannot slip one in.
        if cls.get_queryset is not TeamScopedViewSet.get_queryset:
            raise TypeError(
                f"{cls.__name__} must not override get_queryset(); "
                "implement get_scoped_queryset() instead, the team filter is applied for you."
            )

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authenticated, allowed, not throttled
        # Every query parameter takes one value: `?status=a&status=b` is ambiguous (DRF and
        # django-filter would silently read the last one), so it is a 400 naming it.
        repeated = sorted(k for k, v in request.query_params.lists() if len(v) > 1)
        if repeated:
            raise ValidationError({name: [REPEATED_MESSAGE] for name in repeated})

    def get_scoped_queryset(self) -> QuerySet:
        """The unscoped queryset for this view (subclasses refine it: filters, select_related)."""
        return self.queryset.all()

    def get_queryset(self) -> QuerySet:
        # One object: looked up among every team the caller sees, so an object of a team where
        # the caller's role is too low is a 403 (RolePermission), a foreign one a 404.
        # A collection: only the teams where the caller has the role the action needs.
        team_ids = caller_team_ids(self.request) if is_object_call(self) else self.team_ids
        return self.get_scoped_queryset().filter(**{f"{self.team_field}__in": team_ids})

    @property
    def readable_team_ids(self) -> list:
        """Every team the caller sees (whatever its role there)."""
        return caller_team_ids(self.request)

    @property
    def team_ids(self) -> list:
        """The caller's teams where the caller has the role the current action needs."""
        return caller_team_ids_with_role(self.request, required_role(self, self.request))

    def team_target_id(self):
        """For a write to a collection: the id of the team named by the body's `spirit_id`, when
        that spirit is one of the caller's teams (else None: the view reports it as missing)."""
        target = self.target_spirit()
        return target.team_id if target is not None else None

    def target_spirit(self) -> Spirit | None:
        """The spirit named by the body's `spirit_id` among the caller's teams (its pk, team and
        status only), read once per request."""
        if not hasattr(self, "_target_spirit"):
            data = self.request.data
            spirit_id = parse_uuid(data.get("spirit_id")) if isinstance(data, dict) else None
            self._target_spirit = (
                None
                if spirit_id is None
                else Spirit.all_objects.filter(
                    pk=spirit_id, team_id__in=caller_team_ids(self.request)
                )
                .only("pk", "team_id", "status")
                .first()
            )
        return self._target_spirit
