"""Roles and API key scopes, expiry and revocation, in the API and in the admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import bearer_client
from spirits.models import Spirit
from spirits.tests.factories import SpiritFactory
from teams.models import ApiKey, Role, TeamMembership
from teams.tests.admin_utils import message_texts, run_action, staff_client
from teams.tests.factories import ApiKeyFactory, TeamMembershipFactory, UserFactory

SPIRITS = "/api/v1/spirits/"
EVENTS = "/api/v1/events/"


def event(spirit) -> dict:
    return {"spirit_id": str(spirit.pk), "event_type": "message.in", "content": "x"}


def error(response) -> dict:
    return response.json()["error"]


def test_role_order_is_viewer_member_admin_owner():
    assert Role.at_least(Role.OWNER, Role.ADMIN) and Role.at_least(Role.MEMBER, Role.VIEWER)
    assert not Role.at_least(Role.VIEWER, Role.MEMBER) and not Role.at_least(None, Role.VIEWER)


def test_a_viewer_key_reads_but_cannot_write_and_is_told_the_role_needed(role_api, spirit):
    client = role_api(Role.VIEWER)
    assert client.get(f"{SPIRITS}{spirit.pk}/").status_code == 200
    response = client.post(EVENTS, event(spirit), format="json")
    assert response.status_code == 403
    assert error(response)["code"] == "permission_denied"
    assert "member role" in error(response)["message"]
    assert error(response)["details"] == {"required_role": "member", "role": "viewer"}


def test_a_member_writes_events_but_cannot_manage_spirits(role_api, spirit):
    client = role_api(Role.MEMBER)
    response = client.post(EVENTS, event(spirit), format="json")
    assert response.status_code == 201
    assert client.post(SPIRITS, {"name": "new"}, format="json").status_code == 403
    assert client.patch(f"{SPIRITS}{spirit.pk}/", {"name": "y"}, format="json").status_code == 403


def test_an_admin_manages_spirits_but_only_an_owner_deletes_them(role_api, spirit):
    admin = role_api(Role.ADMIN)
    assert admin.post(SPIRITS, {"name": "new"}, format="json").status_code == 201
    assert admin.patch(f"{SPIRITS}{spirit.pk}/", {"name": "y"}, format="json").status_code == 200
    response = admin.delete(f"{SPIRITS}{spirit.pk}/")
    assert response.status_code == 403 and "owner role" in error(response)["message"]
    assert role_api(Role.OWNER).delete(f"{SPIRITS}{spirit.pk}/").status_code == 204


def test_a_foreign_spirit_stays_a_404_for_a_viewer(role_api, foreign_spirit):
    client = role_api(Role.VIEWER)
    assert client.delete(f"{SPIRITS}{foreign_spirit.pk}/").status_code == 404
    body = event(foreign_spirit)
    # No role in any team allows the write: refused before any spirit is looked up.
    assert client.post(EVENTS, body, format="json").status_code == 403


def test_the_role_is_the_one_in_the_spirits_team(team, other_team):
    user = TeamMembershipFactory(team=team, role=Role.MEMBER).user
    TeamMembershipFactory(user=user, team=other_team, role=Role.VIEWER)
    mine, viewed = SpiritFactory(team=team), SpiritFactory(team=other_team)
    client = Client()
    client.force_login(user)
    for spirit, expected in ((mine, 201), (viewed, 403)):
        response = client.post(EVENTS, event(spirit), content_type="application/json")
        assert response.status_code == expected
    ids = {row["id"] for row in client.get(SPIRITS).json()["results"]}
    assert ids == {str(mine.pk), str(viewed.pk)}  # a viewer still reads


def test_a_read_only_key_reads_and_searches_but_cannot_write(role_api, spirit):
    client = role_api(Role.OWNER, scopes=["read"])
    assert client.get(SPIRITS).status_code == 200
    search = client.post(
        f"{SPIRITS}{spirit.pk}/search/", {"query": "x", "vector_weight": 0}, format="json"
    )
    assert search.status_code == 200
    response = client.post(EVENTS, event(spirit), format="json")
    assert response.status_code == 403
    assert "write scope" in error(response)["message"]


def test_a_write_only_key_cannot_read(role_api):
    response = role_api(Role.OWNER, scopes=["write"]).get(SPIRITS)
    assert response.status_code == 403 and "read scope" in error(response)["message"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"revoked": True}, "has been revoked"),
        ({"expires_at": timezone.now() - timedelta(seconds=1)}, "expired at"),
    ],
)
def test_revoked_and_expired_keys_are_refused_with_a_clear_401(team, changes, message):
    api_key = ApiKeyFactory(team=team)
    ApiKey.objects.filter(pk=api_key.pk).update(**changes)
    response = bearer_client(api_key.raw).get(SPIRITS)
    assert response.status_code == 401
    assert error(response)["code"] == "authentication_failed"
    assert message in error(response)["message"]


def test_a_new_key_is_a_member_with_both_scopes(team):
    api_key = ApiKeyFactory(team=team)
    assert (api_key.role, api_key.scopes) == (Role.MEMBER, ["read", "write"])


# --- admin -----------------------------------------------------------------------------------


def test_a_viewer_in_the_admin_sees_but_cannot_change(team, spirit):
    client = staff_client(team=team, models=["spirits.spirit"], role=Role.VIEWER)
    url = reverse("admin:spirits_spirit_change", args=[spirit.pk])
    response = client.get(url)
    assert response.status_code == 200 and not response.context["has_change_permission"]
    client.post(url, {"name": "changed"})
    spirit.refresh_from_db()
    assert spirit.name != "changed"


def test_a_member_in_the_admin_cannot_change_spirits_or_bulk_delete_them(team, spirit):
    client = staff_client(team=team, models=["spirits.spirit"], role=Role.MEMBER)
    changelist = reverse("admin:spirits_spirit_changelist")
    client.post(
        changelist, {"action": "soft_delete_selected", "_selected_action": [str(spirit.pk)]}
    )
    assert Spirit.objects.filter(pk=spirit.pk).exists()


def test_an_admin_creates_keys_but_not_above_their_role(team):
    client = staff_client(team=team, models=["teams.apikey"], role=Role.ADMIN)
    add = reverse("admin:teams_apikey_add")
    data = {"team": team.pk, "name": "ci", "role": Role.ADMIN, "scopes": ["read"]}
    assert client.post(add, data).status_code == 302
    assert ApiKey.objects.get(name="ci").role == Role.ADMIN
    response = client.post(add, {**data, "name": "boss", "role": Role.OWNER})
    assert response.status_code == 200  # the form again, with the error
    assert not ApiKey.objects.filter(name="boss").exists()


def test_a_member_cannot_manage_keys_or_memberships(team):
    client = staff_client(team=team, models=["teams.apikey", "teams.teammembership"], role="member")
    assert client.get(reverse("admin:teams_apikey_add")).status_code == 403
    assert client.get(reverse("admin:teams_teammembership_add")).status_code == 403


def test_an_admin_cannot_change_an_owners_membership_or_make_an_owner(team):
    client = staff_client(team=team, models=["teams.teammembership"], role=Role.ADMIN)
    owner = TeamMembershipFactory(team=team, role=Role.OWNER)
    url = reverse("admin:teams_teammembership_change", args=[owner.pk])
    assert not client.get(url).context["has_change_permission"]
    add = reverse("admin:teams_teammembership_add")
    newcomer = UserFactory()
    client.post(add, {"user": newcomer.pk, "team": team.pk, "role": Role.OWNER})
    assert not TeamMembership.objects.filter(user=newcomer).exists()
    client.post(add, {"user": newcomer.pk, "team": team.pk, "role": Role.MEMBER})
    assert TeamMembership.objects.get(user=newcomer).role == Role.MEMBER


def test_an_admin_changes_a_keys_role_and_scopes_up_to_their_own(team):
    client = staff_client(team=team, models=["teams.apikey"], role=Role.ADMIN)
    api_key = ApiKeyFactory(team=team, role=Role.MEMBER)
    url = reverse("admin:teams_apikey_change", args=[api_key.pk])
    data = {"name": "renamed", "role": Role.ADMIN, "scopes": ["read"], "expires_at": ""}
    assert client.post(url, data).status_code == 302
    api_key.refresh_from_db()
    assert (api_key.name, api_key.role, api_key.scopes) == ("renamed", Role.ADMIN, ["read"])
    assert client.post(url, {**data, "role": Role.OWNER}).status_code == 200  # refused
    api_key.refresh_from_db()
    assert api_key.role == Role.ADMIN


def test_an_admin_sees_an_owners_key_but_cannot_change_revoke_or_unrevoke_it(team):
    client = staff_client(team=team, models=["teams.apikey"], role=Role.ADMIN)
    owners, revoked_owners = (
        ApiKeyFactory(team=team, role=Role.OWNER),
        ApiKeyFactory(team=team, role=Role.OWNER, revoked=True),
    )
    own = ApiKeyFactory(team=team, role=Role.ADMIN)
    page = client.get(reverse("admin:teams_apikey_change", args=[owners.pk]))
    assert page.status_code == 200 and not page.context["has_change_permission"]

    changelist = reverse("admin:teams_apikey_changelist")
    response = run_action(client, changelist, "revoke_selected", [owners, own])
    run_action(client, changelist, "unrevoke_selected", [revoked_owners])

    assert "Revoked 1 API key(s)." in message_texts(response)
    assert "Skipped 1 API key(s) with a role above yours." in message_texts(response)
    assert ApiKey.objects.get(pk=own.pk).revoked
    assert not ApiKey.objects.get(pk=owners.pk).revoked
    assert ApiKey.objects.get(pk=revoked_owners.pk).revoked
