"""Fixtures shared by every app's tests: teams, keys, authenticated API clients."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from celery.app.routes import Router, prepare
from celery.result import AsyncResult
from rest_framework.test import APIClient

from elephantasm import celery_app, queueing
from spirits.tests.factories import SpiritFactory
from teams.models import Role
from teams.tests.factories import ApiKeyFactory, TeamFactory, TeamMembershipFactory, UserFactory


@pytest.fixture(scope="session", autouse=True)
def _empty_test_queues():
    """Tests that commit real transactions enqueue enrichment; drop what no test worker took
    (the test settings put the broker on a database of its own)."""
    yield
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2)
    with contextlib.suppress(redis.RedisError):  # a broker that went away has nothing to clean
        client.delete(*settings.WORKER_QUEUES)


@pytest.fixture
def team(db):
    return TeamFactory()


@pytest.fixture
def other_team(db):
    return TeamFactory()


@pytest.fixture
def api_key(team):
    """An owner key of `team`: it may do everything the API offers to the team."""
    return ApiKeyFactory(team=team, role=Role.OWNER)


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
    """An API client authenticated with an owner key of `team`."""
    return bearer_client(api_key.raw)


@pytest.fixture
def other_api(other_team) -> APIClient:
    """An API client authenticated with an owner key of `other_team`."""
    return bearer_client(ApiKeyFactory(team=other_team, role=Role.OWNER).raw)


@pytest.fixture
def role_api(team):
    """`role_api(role, scopes=None)`: an API client with a key of `team` acting with `role`."""

    def make(role: str, scopes: list[str] | None = None) -> APIClient:
        return bearer_client(ApiKeyFactory(team=team, role=role, scopes=scopes).raw)

    return make


@pytest.fixture
def role_user_api(team):
    """`role_user_api(role)`: an API client logged in (session) as a user with `role` in `team`."""

    def make(role: str) -> APIClient:
        client = APIClient()
        client.force_login(TeamMembershipFactory(team=team, role=role).user)
        return client

    return make


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


@pytest.fixture
def llm_server(settings):
    """A chat-completions server on loopback (elephantasm/tests/chat_server.py), configured as
    the language model (LLM_PROVIDER="openai")."""
    from elephantasm.tests.chat_server import ChatServer

    server = ChatServer().start()
    settings.LLM_PROVIDER = "openai"
    settings.LLM_BASE_URL = server.base_url
    settings.LLM_MODEL = "test-model"
    settings.LLM_API_KEY = "sk-test"
    settings.LLM_TIMEOUT = 5
    settings.LLM_MAX_RETRIES = 2
    yield server
    server.stop()


@pytest.fixture
def sent_tasks(monkeypatch):
    """Tasks sent by name (`elephantasm.queueing.send`, which every enqueue goes through) are
    recorded instead of published. `sent_tasks(name, pick)` returns a list that receives
    `pick(args, countdown)` for each send of task `name` (a send is left out when pick returns
    None); the default pick keeps the arguments tuple."""
    watched: dict[str, list[tuple[Callable, list]]] = {}

    def send(
        name: str, *args: Any, countdown: float | None = None, ignore_result: bool = False
    ) -> AsyncResult:
        for pick, calls in watched.get(name, []):
            value = pick(args, countdown)
            if value is not None:
                calls.append(value)
        return AsyncResult(str(uuid.uuid4()))  # a result that never becomes ready

    monkeypatch.setattr(queueing, "send", send)

    def watch(name: str, pick: Callable[[tuple, Any], Any] = lambda args, countdown: args):
        calls: list = []
        watched.setdefault(name, []).append((pick, calls))
        return calls

    return watch


@pytest.fixture
def route_to_private_queue(monkeypatch):
    """`route_to_private_queue(*task_names)`: those tasks are routed to a queue of this test only (a
    `make run` worker consumes the real queues on its own Redis database, but never this one);
    returns the queue's name, for the test's worker."""

    def route(*task_names: str) -> str:
        queue = f"test-{uuid.uuid4().hex}"
        mine = prepare({name: {"queue": queue} for name in task_names})
        routes = [*mine, *celery_app.amqp.routes]
        router = Router(routes, celery_app.amqp.queues, True, app=celery_app)
        monkeypatch.setattr(celery_app.amqp, "router", router)
        return queue

    return route
