from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from teams.models import ApiKey, Team
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
