from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from elephantasm.api.viewsets import TeamScopedViewSet
from spirits.tests.factories import SpiritFactory
from teams.models import ApiKey
from teams.services import api_key_create
from teams.tests.factories import ApiKeyFactory, TeamMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/spirits/"


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def assert_401(response, code: str) -> None:
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_bearer_key_authenticates_and_sees_its_team(api, spirit, foreign_spirit):
    response = api.get(URL)
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(spirit.id)]


def test_bearer_scheme_is_case_insensitive(api_key, spirit):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"bearer {api_key.raw}")
    assert client.get(URL).status_code == 200


def test_missing_credentials_is_401_not_authenticated(db):
    assert_401(APIClient().get(URL), "not_authenticated")


def test_wrong_key_is_401_authentication_failed(api_key):
    wrong = api_key.raw[:-4] + "AAAA"
    assert_401(bearer(wrong).get(URL), "authentication_failed")


def test_unknown_prefix_is_401_authentication_failed(db):
    assert_401(bearer("elk_zzzzzzzzzz_secret").get(URL), "authentication_failed")


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer a b", "Bearer not-a-key"])
def test_malformed_bearer_header_is_401_authentication_failed(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_401(client.get(URL), "authentication_failed")


def test_revoked_key_is_401_authentication_failed(team):
    api_key = ApiKeyFactory(team=team, revoked=True)
    assert_401(bearer(api_key.raw).get(URL), "authentication_failed")


def test_expired_key_is_401_authentication_failed(team):
    _, raw = api_key_create(team=team, name="old", expires_at=timezone.now() - timedelta(minutes=1))
    assert_401(bearer(raw).get(URL), "authentication_failed")


def test_key_expiring_later_still_works(team):
    _, raw = api_key_create(team=team, name="new", expires_at=timezone.now() + timedelta(days=1))
    assert bearer(raw).get(URL).status_code == 200


def test_first_use_records_last_used_at(api, api_key):
    before = timezone.now()
    api.get(URL)
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None and api_key.last_used_at >= before


def _apikey_updates(client) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    table = ApiKey._meta.db_table
    return [q["sql"] for q in queries if q["sql"].startswith(f'UPDATE "{table}"')]


def test_last_used_at_is_not_rewritten_within_the_resolution(api, api_key, settings):
    settings.API_KEY_LAST_USED_RESOLUTION = 60
    assert len(_apikey_updates(api)) == 1
    api_key.refresh_from_db()
    first = api_key.last_used_at

    assert _apikey_updates(api) == []
    api_key.refresh_from_db()
    assert api_key.last_used_at == first


def test_last_used_at_is_rewritten_once_the_resolution_has_passed(api, api_key, settings):
    settings.API_KEY_LAST_USED_RESOLUTION = 60
    long_ago = timezone.now() - timedelta(seconds=61)
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=long_ago)

    assert len(_apikey_updates(api)) == 1
    api_key.refresh_from_db()
    assert api_key.last_used_at > long_ago


def test_session_user_sees_only_their_teams_spirits(user_api, spirit, foreign_spirit):
    response = user_api.get(URL)
    assert [row["id"] for row in response.json()["results"]] == [str(spirit.id)]
    assert user_api.get(f"{URL}{foreign_spirit.id}/").status_code == 404


def test_session_user_with_several_teams_sees_all_of_them(member, spirit, other_team):
    TeamMembershipFactory(user=member, team=other_team)
    second = SpiritFactory(team=other_team)
    client = APIClient()
    client.force_login(member)
    ids = {row["id"] for row in client.get(URL).json()["results"]}
    assert ids == {str(spirit.id), str(second.id)}


def test_session_user_without_a_team_sees_nothing(spirit):
    client = APIClient()
    client.force_login(UserFactory())
    assert client.get(URL).json()["results"] == []
    assert client.get(f"{URL}{spirit.id}/").status_code == 404


def test_inactive_session_user_is_not_authenticated(member, spirit):
    client = APIClient()
    client.force_login(member)
    member.is_active = False
    member.save(update_fields=["is_active"])
    assert_401(client.get(URL), "not_authenticated")


def test_base_viewset_refuses_a_subclass_overriding_get_queryset():
    with pytest.raises(TypeError, match="get_queryset"):

        class Sneaky(TeamScopedViewSet):
            def get_queryset(self):
                return super().get_queryset()


def test_base_viewset_refuses_get_queryset_from_a_mixin():
    from elephantasm.api.viewsets import TeamScopedViewSet

    class Unscoped:
        def get_queryset(self):
            return None

    with pytest.raises(TypeError):

        class Sneaky(Unscoped, TeamScopedViewSet):
            pass
