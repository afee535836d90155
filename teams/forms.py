"""Admin forms for the email-based user and for creating API keys."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import BaseUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm

from .models import ApiKey, Role, Scope, TeamMembership, User, default_scopes


class UserCreationForm(BaseUserCreationForm):
    """Email and a password typed twice (checked by the password validators)."""

    class Meta:
        model = User
        fields = ("email", "name")
        field_classes = {}

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("A user with this email address already exists.")
        return email


class UserChangeForm(DjangoUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
        field_classes = {}


class RoleLimitedForm(forms.ModelForm):
    """Refuses to grant (or take away) a role above the staff member's own in the row's team.

    `staff_roles` is {team id: role} of the staff member, or None for a superuser (no limit);
    the admin sets it per request.
    """

    staff_roles: dict | None = None

    def clean(self):
        cleaned = super().clean()
        if self.staff_roles is None:
            return cleaned
        team = cleaned.get("team") or getattr(self.instance, "team", None)
        mine = self.staff_roles.get(team.pk) if team is not None else None
        for role in {cleaned.get("role"), self.initial.get("role") if self.instance.pk else None}:
            if role and Role.rank(role) > Role.rank(mine):
                self.add_error(
                    "role" if "role" in self.fields else None,
                    f"Only a member with the {role} role (or more) in this team can give or "
                    f"change the {role} role; you are {mine or 'not in it'}.",
                )
        return cleaned


class ApiKeyForm(RoleLimitedForm):
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=default_scopes,
        help_text="read: safe requests (and searches, packs); write: every other request.",
    )

    class Meta:
        model = ApiKey
        fields = ("name", "role", "scopes", "expires_at")


class ApiKeyCreationForm(ApiKeyForm):
    """Team, name, role, scopes, expiry: the key itself is made by teams.services.api_key_create."""

    class Meta:
        model = ApiKey
        fields = ("team", "name", "role", "scopes", "expires_at")


class TeamMembershipForm(RoleLimitedForm):
    class Meta:
        model = TeamMembership
        fields = ("user", "team", "role")
