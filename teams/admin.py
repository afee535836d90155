import secrets

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from elephantasm.admin import (
    JSON_FORMFIELD_OVERRIDES,
    TeamScopedAdminMixin,
    TeamScopedInlineMixin,
    adopt,
    staff_roles,
)

from .forms import (
    ApiKeyCreationForm,
    ApiKeyForm,
    TeamMembershipForm,
    UserChangeForm,
    UserCreationForm,
)
from .models import ApiKey, Role, Team, TeamMembership, User
from .services import api_key_create, api_key_restore, api_key_revoke, api_key_update
from .webhooks.admin import TeamWebhookForm, WebhookDeliveryAdmin  # noqa: F401 - registers it

# Teams, their keys, memberships and members are managed by admins (and owners) of the team.
ADMIN_MANAGES = {"add": Role.ADMIN, "change": Role.ADMIN, "delete": Role.ADMIN}


def _count(model, **outer) -> Coalesce:
    """A correlated COUNT(*) subquery (no join fan-out when several counts sit side by side)."""
    rows = model._default_manager.filter(**{k: OuterRef(v) for k, v in outer.items()})
    counted = rows.order_by().values(*outer).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted), 0)


class TeamMembershipInline(TeamScopedInlineMixin, admin.TabularInline):
    """A team's members: admins (and owners) of the team manage them; nobody gives or changes a
    role above their own."""

    model = TeamMembership
    form = TeamMembershipForm
    fk_name = "team"
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["user"]  # the popup lists only users the staff member may see

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        roles = None if request.user.is_superuser else staff_roles(request)
        formset.form = type(formset.form.__name__, (formset.form,), {"staff_roles": roles})
        return formset

    def _manages(self, request, team) -> bool:
        if request.user.is_superuser:
            return True
        return team is not None and Role.at_least(staff_roles(request).get(team.pk), Role.ADMIN)

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._manages(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._manages(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._manages(request, obj)


class UserMembershipInline(TeamScopedInlineMixin, admin.TabularInline):
    model = TeamMembership
    fk_name = "user"
    extra = 0
    fields = ["team", "role", "created_at"]
    readonly_fields = ["team", "role", "created_at"]
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False  # memberships are managed on the team


@admin.register(User)
class UserAdmin(TeamScopedAdminMixin, DjangoUserAdmin):
    """Users sign in by email. Staff who are not superusers see the members of their teams."""

    team_lookup = "memberships__team"
    team_lookup_needs_distinct = True
    admin_roles = {**TeamScopedAdminMixin.admin_roles, **ADMIN_MANAGES}
    form = UserChangeForm
    add_form = UserCreationForm
    inlines = [UserMembershipInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("name",)}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    list_display = ["email", "name", "is_staff", "is_superuser", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["email", "name"]
    ordering = ["email"]
    date_hierarchy = "date_joined"
    readonly_fields = ["last_login", "date_joined"]

    def get_inlines(self, request, obj=None):
        return self.inlines if obj is not None else []

    def has_change_permission(self, request, obj=None):
        # Staff may not edit (or reset the password of) a superuser: that would be a way up.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:  # staff cannot grant themselves (or others) more power
            readonly += ["is_staff", "is_superuser", "groups", "user_permissions"]
        return readonly


@admin.register(Team)
class TeamAdmin(TeamScopedAdminMixin, admin.ModelAdmin):
    team_lookup = "pk"
    admin_roles = {**TeamScopedAdminMixin.admin_roles, **ADMIN_MANAGES}
    inlines = [TeamMembershipInline]
    list_display = ["name", "slug", "member_count", "spirit_count", "retention_days", "created_at"]
    search_fields = ["name", "slug"]
    date_hierarchy = "created_at"
    ordering = ["name"]
    form = TeamWebhookForm
    fields = [
        "name",
        "slug",
        "retention_days",
        "webhook_url",
        "webhook_secret",
        "new_webhook_secret",
        "settings",
    ]
    formfield_overrides = {
        **JSON_FORMFIELD_OVERRIDES,
        models.URLField: {"assume_scheme": "https"},
    }

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_members=_count(TeamMembership, team="pk"),
                # through the reverse relation: teams sits below spirits and imports none of it
                n_spirits=_count(Team.spirits.rel.related_model, team="pk"),
            )
        )

    def save_model(self, request, obj, form, change):
        if obj.webhook_url and not obj.webhook_secret:
            obj.webhook_secret = secrets.token_urlsafe(32)
            messages.success(
                request,
                f"The webhook secret is {obj.webhook_secret} — copy it now: it is not shown again.",
            )
        super().save_model(request, obj, form, change)

    def has_add_permission(self, request):
        # A team made by a non-member would vanish from their own view at once.
        return request.user.is_superuser and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        # Deleting a team would hard-delete its spirits, events and memories by CASCADE: that is
        # an explicit, audited purge, not an admin click.
        return False

    @admin.display(description="members", ordering="n_members")
    def member_count(self, obj) -> int:
        return obj.n_members

    @admin.display(description="spirits (incl. deleted)", ordering="n_spirits")
    def spirit_count(self, obj) -> int:
        return obj.n_spirits


@admin.register(ApiKey)
class ApiKeyAdmin(TeamScopedAdminMixin, admin.ModelAdmin):
    """Keys are created here with the service and shown once; only prefix and hash are kept.

    Admins (and owners) of a team manage its keys; a key's role is at most its maker's, and
    nobody changes, revokes or un-revokes a key whose role is above their own."""

    admin_roles = {**TeamScopedAdminMixin.admin_roles, **ADMIN_MANAGES}

    list_display = [
        "prefix",
        "name",
        "team",
        "role",
        "scopes",
        "created_by",
        "last_used_at",
        "expires_at",
        "revoked",
    ]
    list_filter = ["revoked", "role", ("team", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["team", "created_by"]
    search_fields = ["prefix", "name", "team__slug"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    actions = ["revoke_selected", "unrevoke_selected"]
    fields = [
        "prefix",
        "team",
        "name",
        "role",
        "scopes",
        "expires_at",
        "revoked",
        "created_by",
        "last_used_at",
        "created_at",
    ]
    readonly_fields = ["prefix", "team", "revoked", "created_by", "last_used_at", "created_at"]

    form = ApiKeyForm

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyCreationForm
        form = super().get_form(request, obj, **kwargs)
        roles = None if request.user.is_superuser else staff_roles(request)
        return type(form.__name__, (form,), {"staff_roles": roles})

    def get_fields(self, request, obj=None):
        return ["team", "name", "role", "scopes", "expires_at"] if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row keeps the key's history (last use, creator)

    def _outranks_staff(self, request, api_key) -> bool:
        if api_key is None or request.user.is_superuser:
            return False
        return Role.rank(api_key.role) > Role.rank(staff_roles(request).get(api_key.team_id))

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and not self._outranks_staff(request, obj)

    def _within_role(self, request, queryset) -> list[ApiKey]:
        """The selected keys whose role is at most the staff member's own (the others are
        reported and left alone)."""
        keys = list(queryset)
        kept = [api_key for api_key in keys if not self._outranks_staff(request, api_key)]
        if len(kept) < len(keys):
            self.message_user(
                request,
                f"Skipped {len(keys) - len(kept)} API key(s) with a role above yours.",
                messages.WARNING,
            )
        return kept

    def save_model(self, request, obj, form, change):
        if change:
            # Name, role, scopes and expiry (the form's fields; team, prefix and hash never
            # change). Role and scopes may change: the form refuses a role, old or new, above
            # the editor's own in the key's team, as when a key is made.
            changed = {f: form.cleaned_data[f] for f in form.changed_data}
            api_key_update(api_key=obj, **changed)
            return
        api_key, raw = api_key_create(
            team=form.cleaned_data["team"],
            name=form.cleaned_data["name"],
            expires_at=form.cleaned_data.get("expires_at"),
            role=form.cleaned_data["role"],
            scopes=form.cleaned_data["scopes"],
            created_by=request.user,
        )
        adopt(obj, api_key)
        messages.success(
            request,
            f"The new API key is {raw} — copy it now: it is not stored and cannot be shown again.",
        )

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke_selected(self, request, queryset):
        keys = self._within_role(request, queryset.filter(revoked=False))
        for api_key in keys:
            api_key_revoke(api_key=api_key)
        self.message_user(request, f"Revoked {len(keys)} API key(s).", messages.SUCCESS)

    @admin.action(description="Un-revoke selected API keys", permissions=["change"])
    def unrevoke_selected(self, request, queryset):
        keys = self._within_role(request, queryset.filter(revoked=True))
        for api_key in keys:
            api_key_restore(api_key=api_key)
        self.message_user(request, f"Un-revoked {len(keys)} API key(s).", messages.SUCCESS)


@admin.register(TeamMembership)
class TeamMembershipAdmin(TeamScopedAdminMixin, admin.ModelAdmin):
    """Who belongs to which team with which role (also editable inline on each team).

    Admins (and owners) of a team manage its memberships; nobody gives, changes or removes a
    role above their own."""

    admin_roles = {**TeamScopedAdminMixin.admin_roles, **ADMIN_MANAGES}
    form = TeamMembershipForm

    list_display = ["user", "team", "role", "created_at"]
    list_filter = ["role", ("team", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["user", "team"]
    search_fields = ["user__email", "user__name", "team__slug", "team__name"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        roles = None if request.user.is_superuser else staff_roles(request)
        return type(form.__name__, (form,), {"staff_roles": roles})

    def _outranks_staff(self, request, obj) -> bool:
        if obj is None or request.user.is_superuser:
            return False
        return Role.rank(obj.role) > Role.rank(staff_roles(request).get(obj.team_id))

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and not self._outranks_staff(request, obj)

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and not self._outranks_staff(request, obj)
