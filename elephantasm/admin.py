"""Admin building blocks shared by the apps: team scoping for staff, soft delete through services.

- `TeamScopedAdminMixin`: a superuser sees every row; other staff see only the rows of the teams
  they belong to (by TeamMembership), may pick only those teams (and their spirits) in forms, and
  may do with a row what their role in its team allows (`admin_roles`).
- `SoftDeleteAdminMixin`: for SoftDeleteModel admins. Lists every row with a "deleted" filter,
  offers "soft delete" and "restore" actions that call the app's services, drops the built-in
  "delete selected" action, and makes the delete view soft-delete too: nothing here can
  hard-delete (hard deletion is an explicit, audited purge elsewhere).
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils.text import capfirst

from elephantasm.api.errors import ApplicationError
from elephantasm.validators import validate_no_nul
from teams.models import Role, Team
from teams.selectors import teams_for_user, user_roles


class StorableJSONFormField(forms.JSONField):
    """A JSON form field that refuses what PostgreSQL's jsonb cannot hold (NUL characters, lone
    surrogates) and renders with ASCII escapes, so such a value can be shown back with its error
    instead of breaking the page."""

    def validate(self, value):
        super().validate(value)
        validate_no_nul(value)

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=True, cls=self.encoder)


JSON_FORMFIELD_OVERRIDES = {models.JSONField: {"form_class": StorableJSONFormField}}


def staff_team_ids(request) -> QuerySet:
    """The ids of the requesting user's teams, as a subquery (not evaluated here)."""
    return teams_for_user(request.user).values("id")


def adopt(instance: models.Model, saved: models.Model) -> None:
    """Make the admin form's unsaved `instance` stand for the row a service has just saved.

    The admin keeps using the instance it built (for its log entry, message and redirect), so it
    takes over the saved row's field values and state.
    """
    for field in saved._meta.concrete_fields:
        setattr(instance, field.attname, getattr(saved, field.attname))
    instance._state.adding = False
    instance._state.db = saved._state.db


def staff_roles(request) -> dict:
    """{team id: role} of the requesting user (cached on the request)."""
    cached = getattr(request, "_elephantasm_staff_roles", None)
    if cached is None:
        cached = request._elephantasm_staff_roles = user_roles(request.user)
    return cached


def staff_team_ids_with_role(request, role: str) -> list:
    """The ids of the requesting user's teams where they have at least `role`."""
    return [team_id for team_id, held in staff_roles(request).items() if Role.at_least(held, role)]


class TeamScopedAdminMixin:
    """`team_lookup` is the path from the model to its team ("pk" for Team itself).

    What a staff member may do with a row is also their role in the row's team: `admin_roles`
    maps each admin permission ("view", "add", "change", "delete", and custom ones such as
    "purge") to the role it needs, on top of the Django model permission. Superusers may do
    everything. Bulk actions act only on the selected rows of teams where the staff member has
    the role the action's permissions need.
    """

    team_lookup: str = "team"
    team_lookup_needs_distinct: bool = False
    admin_roles: dict[str, str] = {
        "view": Role.VIEWER,
        "add": Role.MEMBER,
        "change": Role.MEMBER,
        "delete": Role.MEMBER,
        "purge": Role.OWNER,
    }

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        queryset = queryset.filter(**{f"{self.team_lookup}__in": staff_team_ids(request)})
        return queryset.distinct() if self.team_lookup_needs_distinct else queryset

    # --- roles ---------------------------------------------------------------------------------

    def required_admin_role(self, permission: str) -> str:
        return self.admin_roles.get(permission, Role.OWNER)

    def object_team_ids(self, obj) -> set:
        if self.team_lookup == "pk":
            return {obj.pk}
        rows = type(obj)._base_manager.filter(pk=obj.pk).values_list(self.team_lookup, flat=True)
        return {team_id for team_id in rows if team_id is not None}

    def role_allows(self, request, permission: str, obj=None) -> bool:
        """Whether the staff member's role allows `permission` on `obj` (without obj: in at
        least one of their teams)."""
        if request.user.is_superuser:
            return True
        required = self.required_admin_role(permission)
        roles = staff_roles(request)
        teams = roles.keys() if obj is None or obj.pk is None else self.object_team_ids(obj)
        return any(Role.at_least(roles.get(team_id), required) for team_id in teams)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self.role_allows(request, "view", obj)

    def has_add_permission(self, request, *args):
        return super().has_add_permission(request, *args) and self.role_allows(request, "add")

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and self.role_allows(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and self.role_allows(request, "delete", obj)

    def response_action(self, request, queryset):
        """Run a bulk action only on rows of the teams where the role allows the action."""
        if not request.user.is_superuser:
            action = self.get_actions(request).get(request.POST.get("action", ""))
            permissions = getattr(action[0], "allowed_permissions", ()) if action else ()
            if permissions:
                required = max((self.required_admin_role(p) for p in permissions), key=Role.rank)
                teams = staff_team_ids_with_role(request, required)
                queryset = queryset.filter(**{f"{self.team_lookup}__in": teams})
        return super().response_action(request, queryset)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser:
            # Only teams (and their spirits) where the staff member may add or change rows.
            role = min(
                self.required_admin_role("add"), self.required_admin_role("change"), key=Role.rank
            )
            team_ids = staff_team_ids_with_role(request, role)
            related = db_field.related_model
            if related is Team:
                kwargs["queryset"] = Team.objects.filter(id__in=team_ids)
            elif any(f.name == "team" and f.related_model is Team for f in related._meta.fields):
                kwargs["queryset"] = related._default_manager.filter(team__in=team_ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class TeamScopedInlineMixin:
    """For inlines of rows with a `team`: staff see and may pick only their own teams' rows."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(team__in=staff_team_ids(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser and db_field.related_model is Team:
            kwargs["queryset"] = Team.objects.filter(id__in=staff_team_ids(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class DeletedListFilter(admin.SimpleListFilter):
    """Live rows, deleted rows, or (the default) all of them."""

    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("live", "Live"), ("deleted", "Deleted")]

    def queryset(self, request, queryset):
        if self.value() == "live":
            return queryset.filter(deleted_at__isnull=True)
        if self.value() == "deleted":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


class SoftDeleteAdminMixin:
    """Subclasses implement `soft_delete_object(obj)` and `restore_object(obj)` with services."""

    actions = ["soft_delete_selected", "restore_selected"]

    def soft_delete_object(self, obj) -> None:
        raise NotImplementedError

    def restore_object(self, obj) -> None:
        raise NotImplementedError

    def get_list_filter(self, request):
        return [DeletedListFilter, *super().get_list_filter(request)]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if "deleted_at" in readonly else [*readonly, "deleted_at"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(boolean=True, description="deleted", ordering="deleted_at")
    def is_deleted(self, obj) -> bool:
        return obj.deleted_at is not None

    @admin.action(
        description="Soft-delete selected %(verbose_name_plural)s", permissions=["delete"]
    )
    def soft_delete_selected(self, request, queryset):
        done = self._apply(
            queryset.filter(deleted_at__isnull=True), self.soft_delete_object, request
        )
        self.message_user(request, f"Soft-deleted {done} {self._label(done)}.", messages.SUCCESS)

    @admin.action(description="Restore selected %(verbose_name_plural)s", permissions=["change"])
    def restore_selected(self, request, queryset):
        done = self._apply(queryset.filter(deleted_at__isnull=False), self.restore_object, request)
        self.message_user(request, f"Restored {done} {self._label(done)}.", messages.SUCCESS)

    def delete_model(self, request, obj) -> None:
        self.soft_delete_object(obj)

    def delete_queryset(self, request, queryset) -> None:
        self._apply(queryset.filter(deleted_at__isnull=True), self.soft_delete_object, request)

    def get_deleted_objects(self, objs, request):
        """The delete view's summary: only the objects themselves are soft-deleted (no collector
        walk over related rows, which would also demand delete permission on each of them)."""
        objs = list(objs)
        label = capfirst(
            self.opts.verbose_name_plural if len(objs) != 1 else self.opts.verbose_name
        )
        return [str(obj) for obj in objs], {label: len(objs)}, set(), []

    def _apply(self, queryset, operation, request=None) -> int:
        """Run `operation` on each object; one the services refuse is skipped and reported
        (each runs in its own savepoint, so a refusal undoes only its own object)."""
        count = 0
        with transaction.atomic():
            for obj in queryset.iterator(chunk_size=500):
                try:
                    with transaction.atomic():
                        operation(obj)
                except ApplicationError as exc:
                    if request is not None:
                        self.message_user(request, f"{obj}: {exc.message}", messages.WARNING)
                    continue
                count += 1
        return count

    def _label(self, count: int) -> str:
        return self.opts.verbose_name if count == 1 else self.opts.verbose_name_plural
