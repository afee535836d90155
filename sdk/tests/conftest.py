"""Fixtures of the client's tests: the live test server (real HTTP, real database), keys of
`team` with a role, and clients pointed at the server."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from elephantasm_client import Elephantasm

from teams.models import Role
from teams.services import api_key_create


@pytest.fixture
def make_key(team):
    """`make_key(role=owner, scopes=None)`: a new raw API key of `team`. Each key has its own
    throttle counters; they are removed at the end of the test."""
    made = []

    def make(role: str = Role.OWNER, scopes: list[str] | None = None) -> str:
        api_key, raw = api_key_create(team=team, name=f"sdk {role}", role=role, scopes=scopes)
        made.append(api_key.pk)
        return raw

    yield make
    _forget_throttle_counters(made)


def _forget_throttle_counters(key_ids) -> None:
    """Delete the rate-limit counters of these keys (and only theirs: other tests may be
    counting in the same Redis database)."""
    cache = settings.CACHES["default"]
    client = redis.Redis.from_url(cache["LOCATION"])
    for key_id in key_ids:
        for name in client.scan_iter(match=f"{cache['KEY_PREFIX']}:*throttle:*:key:{key_id}:*"):
            client.delete(name)


@pytest.fixture
def make_client(live_server, make_key):
    """`make_client(role=owner, **options)`: an Elephantasm client of the live server."""
    clients = []

    def make(role: str = Role.OWNER, **options) -> Elephantasm:
        client = Elephantasm(base_url=live_server.url, api_key=make_key(role), **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client) -> Elephantasm:
    """A client with an owner key of `team`: it may call everything."""
    return make_client()


@pytest.fixture
def spirit_id(spirit) -> str:
    return str(spirit.pk)
