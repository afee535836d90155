from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from teams import keys
from teams.models import ApiKey, Role
from teams.selectors import api_key_authenticate
from teams.services import (
    api_key_create,
    api_key_record_use,
    api_key_restore,
    api_key_revoke,
    api_key_update,
    membership_set,
    team_create,
)
from teams.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_team_create_validates_the_slug():
    with pytest.raises(ValidationError):
        team_create(name="Acme", slug="Acme Labs")


def test_membership_set_creates_then_changes_the_role(team):
    user = UserFactory()
    membership_set(user=user, team=team, role=Role.VIEWER)
    membership = membership_set(user=user, team=team, role=Role.ADMIN)
    assert membership.role == Role.ADMIN
    assert user.memberships.count() == 1


def test_api_key_create_stores_only_prefix_and_hash(team):
    api_key, raw = api_key_create(team=team, name="ci")
    stored = ApiKey.objects.get(pk=api_key.pk)
    assert raw.startswith(f"elk_{stored.prefix}_")
    assert stored.key_hash == keys.hash_key(raw)
    assert raw not in {stored.name, stored.prefix, stored.key_hash}


def test_api_key_authenticate_finds_the_key_by_its_raw_value(team):
    api_key, raw = api_key_create(team=team, name="ci")
    assert api_key_authenticate(raw) == api_key
    assert api_key_authenticate(raw[:-1] + ("x" if raw[-1] != "x" else "y")) is None


def test_api_key_update_changes_name_role_scopes_and_expiry(team):
    api_key, raw = api_key_create(team=team, name="ci")
    expires_at = timezone.now() + timedelta(days=7)
    api_key_update(
        api_key=api_key,
        name="agent",
        role=Role.ADMIN,
        scopes=["read", "read"],
        expires_at=expires_at,
    )
    stored = ApiKey.objects.get(pk=api_key.pk)
    assert (stored.name, stored.role, stored.scopes) == ("agent", Role.ADMIN, ["read"])
    assert stored.expires_at == expires_at
    assert api_key_authenticate(raw).pk == api_key.pk  # the same key, still usable


def test_api_key_update_refuses_the_team_prefix_and_hash(team, other_team):
    api_key, _ = api_key_create(team=team, name="ci")
    for field, value in (("team", other_team), ("prefix", "x"), ("key_hash", "y")):
        with pytest.raises(TypeError, match=field):
            api_key_update(api_key=api_key, **{field: value})
    assert ApiKey.objects.get(pk=api_key.pk).team_id == team.pk


def test_api_key_update_validates(team):
    api_key, _ = api_key_create(team=team, name="ci")
    with pytest.raises(ValidationError):
        api_key_update(api_key=api_key, scopes=["delete"])
    with pytest.raises(ValidationError):
        api_key_update(api_key=api_key, role="god")
    assert ApiKey.objects.get(pk=api_key.pk).scopes == ["read", "write"]


def test_revoke_and_restore_toggle_usability(api_key):
    api_key_revoke(api_key=api_key)
    assert api_key_authenticate(api_key.raw) is None
    api_key_restore(api_key=api_key)
    assert api_key_authenticate(api_key.raw) == api_key


def test_expired_key_does_not_authenticate(team):
    _, raw = api_key_create(team=team, name="old", expires_at=timezone.now() - timedelta(1))
    assert api_key_authenticate(raw) is None


def test_record_use_writes_once_per_resolution(api_key, settings, django_assert_num_queries):
    settings.API_KEY_LAST_USED_RESOLUTION = 60
    with django_assert_num_queries(1):
        api_key_record_use(api_key=api_key)
    with django_assert_num_queries(0):
        api_key_record_use(api_key=api_key)
