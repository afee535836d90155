from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import bearer_client
from teams.models import ApiKey, Role, Team
from teams.tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("createapikey", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def last_line(text: str) -> str:
    return text.rstrip("\n").splitlines()[-1]


def authenticates(raw: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client.get("/api/v1/spirits/").status_code == 200


def test_createapikey_for_an_existing_team_prints_a_working_key_last():
    team = TeamFactory(slug="acme")
    out, _ = run("--team", "acme", "--name", "ci")
    raw = last_line(out)
    api_key = ApiKey.objects.get(team=team)
    assert api_key.name == "ci"
    assert raw.startswith(f"elk_{api_key.prefix}_")
    assert authenticates(raw)


def test_createapikey_with_create_team_makes_the_team_and_a_working_key():
    out, err = run("--team", "new-team", "--create-team", "New Team")
    team = Team.objects.get(slug="new-team")
    assert team.name == "New Team"
    assert ApiKey.objects.filter(team=team).count() == 1
    assert "Created team" in err
    assert authenticates(last_line(out))


def test_createapikey_with_create_team_reuses_an_existing_team():
    TeamFactory(slug="acme", name="Acme")
    run("--team", "acme", "--create-team", "Ignored")
    assert Team.objects.get(slug="acme").name == "Acme"


def test_createapikey_for_a_missing_team_without_create_team_fails():
    with pytest.raises(CommandError, match="--create-team"):
        run("--team", "ghost")
    assert not Team.objects.exists()
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize("slug", ["Bad Slug", "-edge", "x"])
def test_createapikey_with_an_invalid_slug_fails_and_writes_nothing(slug):
    with pytest.raises(CommandError):
        run("--team", slug, "--create-team", "Bad")
    assert not Team.objects.exists()
    assert not ApiKey.objects.exists()


def test_createapikey_prints_only_the_key_on_stdout():
    TeamFactory(slug="acme")
    out, err = run("--team", "acme")
    assert out.splitlines() == [last_line(out)]
    assert "not shown again" in err


def test_createapikey_makes_a_member_key_with_both_scopes_by_default():
    TeamFactory(slug="acme")
    run("--team", "acme")
    api_key = ApiKey.objects.get()
    assert (api_key.role, api_key.scopes, api_key.expires_at) == (
        Role.MEMBER,
        ["read", "write"],
        None,
    )


def test_createapikey_with_role_admin_makes_a_key_that_creates_spirits():
    out, err = run("--team", "my-team", "--create-team", "My Team", "--role", "admin")
    assert ApiKey.objects.get().role == Role.ADMIN
    assert "role admin" in err
    response = bearer_client(last_line(out)).post(
        "/api/v1/spirits/", {"name": "helper"}, format="json"
    )
    assert response.status_code == 201, response.content


def test_createapikey_refuses_an_unknown_role():
    TeamFactory(slug="acme")
    with pytest.raises(CommandError, match="role"):
        run("--team", "acme", "--role", "superuser")
    assert not ApiKey.objects.exists()


def test_createapikey_with_scopes_limits_the_key():
    TeamFactory(slug="acme")
    out, _ = run("--team", "acme", "--scopes", "read")
    assert ApiKey.objects.get().scopes == ["read"]
    client = bearer_client(last_line(out))
    assert client.get("/api/v1/spirits/").status_code == 200
    assert client.post("/api/v1/events/", {}, format="json").status_code == 403


@pytest.mark.parametrize("scopes", ["read,delete", ","])
def test_createapikey_refuses_unknown_or_no_scopes(scopes):
    TeamFactory(slug="acme")
    with pytest.raises(CommandError, match="scope"):
        run("--team", "acme", "--scopes", scopes)
    assert not ApiKey.objects.exists()


def test_createapikey_with_expires_in_days_sets_the_expiry():
    TeamFactory(slug="acme")
    out, err = run("--team", "acme", "--expires-in-days", "30")
    expires_at = ApiKey.objects.get().expires_at
    assert expires_at is not None
    assert abs(expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    assert "expires" in err
    assert authenticates(last_line(out))


@pytest.mark.parametrize("days", ["0", "-3", "soon"])
def test_createapikey_refuses_an_expiry_that_is_not_a_positive_number_of_days(days):
    TeamFactory(slug="acme")
    with pytest.raises(CommandError, match="at least 1"):
        run("--team", "acme", "--expires-in-days", days)
    assert not ApiKey.objects.exists()
