"""Helpers for admin tests: staff clients with chosen permissions, action posts, messages."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client

from teams.models import Role, Team
from teams.tests.factories import TeamMembershipFactory, UserFactory

ALL_ACTIONS = ("view", "add", "change", "delete")


def staff_client(*, team: Team, models: list[str], role: str = Role.OWNER) -> Client:
    """A logged-in staff member (not a superuser) of `team` with `role` (default owner: the role
    allows everything) and every Django permission on `models` ("app_label.model_name")."""
    user = UserFactory(is_staff=True)
    TeamMembershipFactory(user=user, team=team, role=role)
    for label in models:
        app_label, model = label.split(".")
        user.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label=app_label,
                codename__in=[f"{action}_{model}" for action in ALL_ACTIONS],
            )
        )
    client = Client()
    client.force_login(user)
    return client


def run_action(client: Client, url: str, action: str, objects) -> object:
    return client.post(
        url, {"action": action, "_selected_action": [str(obj.pk) for obj in objects]}, follow=True
    )


def action_names(response) -> set[str]:
    form = response.context["action_form"]
    if form is None:  # the changelist offers no action at all
        return set()
    return {name for name, _ in form.fields["action"].choices if name}


def message_texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def changelist_ids(response) -> set[str]:
    return {str(obj.pk) for obj in response.context["cl"].result_list}
