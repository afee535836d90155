"""Fixtures shared by every app's tests: teams, keys, authenticated API clients."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from spirits.tests.factories import SpiritFactory
from teams.models import Role
from teams.tests.factories import ApiKeyFactory, TeamFactory, TeamMembershipFactory, UserFactory


@pytest.fixture
def team(db):
    return TeamFactory()


@pytest.fixture
def other_team(db):
    return TeamFactory()


@pytest.fixture
def api_key(team):
    return ApiKeyFactory(team=team)


@pytest.fixture
def spirit(team):
    return SpiritFactory(team=team)


@pytest.fixture
def foreign_spirit(other_team):
    return SpiritFactory(team=other_team)


def bearer_client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


@pytest.fixture
def api(api_key) -> APIClient:
    """An API client authenticated with a key of `team`."""
    return bearer_client(api_key.raw)


@pytest.fixture
def other_api(other_team) -> APIClient:
    """An API client authenticated with a key of `other_team`."""
    return bearer_client(ApiKeyFactory(team=other_team).raw)


@pytest.fixture
def member(team):
    """A user who is a member of `team`."""
    return TeamMembershipFactory(team=team, role=Role.MEMBER).user


@pytest.fixture
def user_api(member) -> APIClient:
    """An API client logged in (session auth) as a member of `team`."""
    client = APIClient()
    client.force_login(member)
    return client


@pytest.fixture
def user_factory():
    return UserFactory
