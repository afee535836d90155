import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from teams.models import ApiKey, Team, User
from teams.tests.admin_utils import (
    action_names,
    changelist_ids,
    message_texts,
    run_action,
    staff_client,
)
from teams.tests.factories import ApiKeyFactory, TeamMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

USERS = reverse("admin:teams_user_changelist")
TEAMS = reverse("admin:teams_team_changelist")
KEYS = reverse("admin:teams_apikey_changelist")


def authenticates(raw: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client.get("/api/v1/spirits/").status_code == 200


# --- users ----------------------------------------------------------------------------------------


def test_user_changelist_loads_and_searches_by_email(admin_client):
    ada = UserFactory(email="ada@example.com")
    UserFactory(email="bob@example.com")
    response = admin_client.get(USERS, {"q": "ada@"})
    assert response.status_code == 200
    assert changelist_ids(response) == {str(ada.pk)}


def test_user_add_form_takes_email_and_password_twice(admin_client):
    response = admin_client.get(reverse("admin:teams_user_add"))
    assert response.status_code == 200
    assert {"email", "password1", "password2"} <= set(response.context["adminform"].form.fields)

    response = admin_client.post(
        reverse("admin:teams_user_add"),
        {
            "email": "New@Example.com",
            "password1": "tr1cky-Passw0rd",
            "password2": "tr1cky-Passw0rd",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert user.check_password("tr1cky-Passw0rd")


def test_user_add_refuses_mismatched_passwords(admin_client):
    response = admin_client.post(
        reverse("admin:teams_user_add"),
        {"email": "new@example.com", "password1": "tr1cky-Passw0rd", "password2": "other-Passw0rd"},
    )
    assert response.status_code == 200
    assert "password2" in response.context["adminform"].form.errors
    assert not User.objects.filter(email="new@example.com").exists()


def test_user_add_refuses_an_email_taken_in_another_case(admin_client):
    UserFactory(email="ada@example.com")
    response = admin_client.post(
        reverse("admin:teams_user_add"),
        {
            "email": "ADA@example.com",
            "password1": "tr1cky-Passw0rd",
            "password2": "tr1cky-Passw0rd",
        },
    )
    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors
    assert User.objects.count() == 2  # ada and the admin


def test_user_change_view_loads_with_memberships(admin_client, member):
    response = admin_client.get(reverse("admin:teams_user_change", args=[member.pk]))
    assert response.status_code == 200
    assert member.memberships.get().team.slug.encode() in response.content


def test_staff_sees_only_users_of_their_teams_and_cannot_grant_superuser(team, member):
    client = staff_client(team=team, models=["teams.user"])
    stranger = UserFactory()
    ids = changelist_ids(client.get(USERS))
    assert str(member.pk) in ids
    assert str(stranger.pk) not in ids
    form = client.get(reverse("admin:teams_user_change", args=[member.pk])).context["adminform"]
    assert "is_superuser" not in form.form.fields


def test_staff_cannot_change_a_superuser_in_their_team(team, admin_user):
    TeamMembershipFactory(user=admin_user, team=team)
    client = staff_client(team=team, models=["teams.user"])
    password_url = reverse("admin:auth_user_password_change", args=[admin_user.pk])
    response = client.post(password_url, {"password1": "x-Passw0rd-1", "password2": "x-Passw0rd-1"})
    assert response.status_code == 403
    admin_user.refresh_from_db()
    assert admin_user.check_password("password")
    response = client.post(
        reverse("admin:teams_user_change", args=[admin_user.pk]), {"email": "me@evil.example"}
    )
    admin_user.refresh_from_db()
    assert admin_user.email == "admin@example.com"


# --- teams ----------------------------------------------------------------------------------------


def test_team_changelist_loads_with_counts_and_searches(admin_client, team, other_team, member):
    response = admin_client.get(TEAMS, {"q": team.slug})
    assert response.status_code == 200
    rows = {str(t.pk): t for t in response.context["cl"].result_list}
    assert set(rows) == {str(team.pk)}
    assert rows[str(team.pk)].n_members == 1


def test_team_change_view_shows_memberships_inline(admin_client, team, member):
    response = admin_client.get(reverse("admin:teams_team_change", args=[team.pk]))
    assert response.status_code == 200
    inline = response.context["inline_admin_formsets"][0]
    assert [f.instance.user for f in inline.formset.forms if f.instance.pk] == [member]


def test_teams_cannot_be_deleted_in_the_admin(admin_client, team):
    assert "delete_selected" not in action_names(admin_client.get(TEAMS))
    response = admin_client.post(
        reverse("admin:teams_team_delete", args=[team.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Team.objects.filter(pk=team.pk).exists()


def test_staff_sees_only_their_teams(team, other_team):
    client = staff_client(team=team, models=["teams.team"])
    assert changelist_ids(client.get(TEAMS)) == {str(team.pk)}
    assert client.get(reverse("admin:teams_team_change", args=[other_team.pk])).status_code == 302


# --- API keys -------------------------------------------------------------------------------------


def test_api_key_changelist_loads_and_searches_by_prefix(admin_client, api_key, team):
    other = ApiKeyFactory(team=team)
    response = admin_client.get(KEYS, {"q": api_key.prefix})
    assert response.status_code == 200
    assert changelist_ids(response) == {str(api_key.pk)}
    assert str(other.pk) not in changelist_ids(response)


def test_api_key_add_shows_the_raw_key_once_and_it_authenticates(admin_client, admin_user, team):
    add = reverse("admin:teams_apikey_add")
    form_fields = admin_client.get(add).context["adminform"].form.fields
    assert set(form_fields) == {"team", "name", "role", "scopes", "expires_at"}

    response = admin_client.post(
        add, {"team": team.pk, "name": "ci", "role": "viewer", "scopes": ["read"]}, follow=True
    )

    api_key = ApiKey.objects.get(name="ci")
    assert api_key.created_by == admin_user
    assert (api_key.role, api_key.scopes) == ("viewer", ["read"])
    shown = [m for m in message_texts(response) if "elk_" in m]
    assert len(shown) == 1
    raw = next(word for word in shown[0].split() if word.startswith("elk_"))
    assert raw.startswith(f"elk_{api_key.prefix}_")
    assert authenticates(raw)
    assert raw.encode() in response.content
    # never again: not on the next page, not in the database
    again = admin_client.get(reverse("admin:teams_apikey_change", args=[api_key.pk]))
    assert raw.encode() not in again.content
    assert raw not in {api_key.name, api_key.prefix, api_key.key_hash}


def test_api_key_pages_never_show_the_hash(admin_client, api_key):
    for url in (KEYS, reverse("admin:teams_apikey_change", args=[api_key.pk])):
        response = admin_client.get(url)
        assert response.status_code == 200
        assert api_key.key_hash.encode() not in response.content


def test_api_key_revoke_action_revokes_and_unrevoke_restores(admin_client, api_key):
    response = run_action(admin_client, KEYS, "revoke_selected", [api_key])
    assert response.status_code == 200
    api_key.refresh_from_db()
    assert api_key.revoked
    assert not authenticates(api_key.raw)

    run_action(admin_client, KEYS, "unrevoke_selected", [api_key])
    api_key.refresh_from_db()
    assert not api_key.revoked
    assert authenticates(api_key.raw)


def test_api_key_admin_has_no_delete(admin_client, api_key):
    assert "delete_selected" not in action_names(admin_client.get(KEYS))
    response = admin_client.post(
        reverse("admin:teams_apikey_delete", args=[api_key.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert ApiKey.objects.filter(pk=api_key.pk).exists()


def test_staff_sees_and_creates_keys_only_for_their_teams(team, other_team, api_key):
    foreign = ApiKeyFactory(team=other_team)
    client = staff_client(team=team, models=["teams.apikey"])
    assert changelist_ids(client.get(KEYS)) == {str(api_key.pk)}
    assert str(foreign.pk) not in changelist_ids(client.get(KEYS))

    add = reverse("admin:teams_apikey_add")
    choices = client.get(add).context["adminform"].form.fields["team"].queryset
    assert list(choices) == [team]
    response = client.post(add, {"team": other_team.pk, "name": "sneaky"})
    assert response.status_code == 200  # the form refuses the foreign team
    assert not ApiKey.objects.filter(name="sneaky").exists()


def test_team_add_is_for_superusers_only(admin_client, team):
    client = staff_client(team=team, models=["teams.team"])
    assert client.get(reverse("admin:teams_team_add")).status_code == 403
    response = admin_client.post(
        reverse("admin:teams_team_add"),
        {
            "name": "Acme",
            "slug": "acme",
            "settings": "{}",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    assert Team.objects.filter(slug="acme").exists()


def test_team_membership_can_be_added_inline(admin_client, team):
    user = UserFactory()
    response = admin_client.post(
        reverse("admin:teams_team_change", args=[team.pk]),
        {
            "name": team.name,
            "slug": team.slug,
            "settings": "{}",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-user": str(user.pk),
            "memberships-0-role": "viewer",
        },
    )
    assert response.status_code == 302
    assert user.memberships.get().team == team


def test_staff_member_listing_uses_memberships_once(team):
    TeamMembershipFactory.create_batch(3, team=team)
    client = staff_client(team=team, models=["teams.user"])
    assert len(changelist_ids(client.get(USERS))) == 4


def test_staff_sees_only_their_teams_memberships_of_a_user(team, other_team, member):
    TeamMembershipFactory(user=member, team=other_team)
    client = staff_client(team=team, models=["teams.user", "teams.teammembership"])
    response = client.get(reverse("admin:teams_user_change", args=[member.pk]))
    inline = response.context["inline_admin_formsets"][0]
    assert [f.instance.team for f in inline.formset.forms] == [team]


def test_membership_changelist_filters_and_searches(admin_client):
    from teams.models import Role
    from teams.tests.factories import TeamMembershipFactory

    kept = TeamMembershipFactory(role=Role.VIEWER)
    TeamMembershipFactory(role=Role.OWNER)
    response = admin_client.get(
        "/admin/teams/teammembership/", {"role__exact": "viewer", "q": kept.user.email}
    )
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [kept]
