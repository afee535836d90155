"""Tenancy and roles, proven over every route of the API.

The walker takes every URL pattern under /api/v1/ from the URLconf (router routes and explicit
paths; there are no format-suffix variants: elephantasm/urls.py sets
`router.include_format_suffixes = False`, and a `.{format}` route that came back would be walked
with format=json), fills each path parameter with the id of the *victim* team's object of that
kind (by parameter name, or for `pk` by the resource the path names), and calls it with GET,
POST, PUT, PATCH and DELETE, with bodies and query strings naming the victim's objects. A route
with a parameter it cannot fill fails the walk: a new route must be taught here (one line in
PARAM_RESOURCES), so it cannot go untested.

- Another team's owner key: on a route naming a victim object, only 400, 404 or 405; never 2xx
  anywhere for a write; no victim id or content in any answer; and afterwards every row of every
  table of the teams, spirits, events and memories apps is unchanged.
- The victim team's own keys and members, with each role: 403 exactly where the role is too low
  (ROLE_NEEDED), never 403 where it suffices, never a 5xx. Each call runs in a savepoint that is
  rolled back, so every call sees the same data.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.db import transaction
from django.urls import URLResolver, get_resolver
from rest_framework.test import APIClient

from conftest import bearer_client
from events.tests.factories import EventFactory, SessionFactory
from memories.models import ContextPack, DreamAction, DreamSession
from memories.services.identity import identity_revise
from memories.services.knowledge import knowledge_create
from memories.services.lessons import lesson_create
from memories.services.memories import memory_create
from spirits.tests.factories import SpiritFactory
from teams.actors import Actor
from teams.models import ApiKey, Role
from teams.tests.factories import ApiKeyFactory, TeamMembershipFactory

API_PREFIX = "api/v1/"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ROLES = (Role.VIEWER, Role.MEMBER, Role.ADMIN, Role.OWNER)
SECRET = "victim-secret-7f3a"
APPS = ("teams", "spirits", "events", "memories")

# Which victim object fills a path parameter: by parameter name; `pk` (and `id`) by the path
# segment before it. A parameter or resource missing here fails the walk.
PARAM_RESOURCES = {
    "spirit_id": "spirits",
    "event_id": "events",
    "memory_id": "memories",
    "session_id": "sessions",
    "knowledge_id": "knowledge",
    "lesson_id": "lessons",
    "dream_id": "dreams",
}
FIXED_PARAMS = {"format": "json"}

# The role each (method, route) needs, where it is not the default (safe methods: viewer; other
# methods: member). Routes are written with their parameters as {name}.
ROLE_NEEDED = {
    ("POST", "spirits/"): Role.ADMIN,
    ("PATCH", "spirits/{pk}/"): Role.ADMIN,
    ("PUT", "spirits/{pk}/"): Role.ADMIN,
    ("POST", "spirits/{pk}/restore/"): Role.ADMIN,
    ("POST", "spirits/import/"): Role.ADMIN,
    ("GET", "spirits/{spirit_id}/export/"): Role.ADMIN,
    ("DELETE", "spirits/{pk}/"): Role.OWNER,
    ("POST", "spirits/{spirit_id}/purge/"): Role.OWNER,  # served by memories.api
    ("POST", "spirits/{spirit_id}/search/"): Role.VIEWER,
    ("POST", "spirits/{spirit_id}/pack/"): Role.VIEWER,
}


@dataclass(frozen=True)
class Route:
    template: str  # e.g. "spirits/{pk}/restore/", under /api/v1/
    params: tuple[str, ...]

    @property
    def canonical(self) -> str:
        """The template without a format suffix (".{format}")."""
        return self.template.replace(".{format}", "/").replace("//", "/")


def _named_groups(regex: str) -> str:
    """Replace each (?P<name>...) (nested parentheses allowed) with {name}."""
    out, i = [], 0
    while i < len(regex):
        if regex.startswith("(?P<", i):
            end = regex.index(">", i)
            name = regex[i + 4 : end]
            depth, j = 1, end + 1
            while depth:
                if regex[j] == "\\":
                    j += 2
                    continue
                depth += {"(": 1, ")": -1}.get(regex[j], 0)
                j += 1
            out.append("{" + name + "}")
            i = j
        else:
            out.append(regex[i])
            i += 1
    return "".join(out)


def _template(pattern: str) -> str:
    text = _named_groups(pattern)
    text = re.sub(r"<drf_format_suffix:(\w+)>", r".{\1}", text)
    text = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text)  # path() converters
    text = text.replace("^", "").replace("$", "").replace("\\.", ".").replace("/?", "")
    if re.search(r"[()\[\]*+?|\\]", text):
        pytest.fail(f"The tenancy walker cannot read the route {pattern!r}: teach it.")
    return text


def api_routes() -> list[Route]:
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    routes = {}
    for raw in walk(get_resolver().url_patterns):
        if raw.startswith(API_PREFIX):
            template = _template(raw[len(API_PREFIX) :])
            routes[template] = Route(template, tuple(re.findall(r"{(\w+)}", template)))
    return sorted(routes.values(), key=lambda r: r.template)


@pytest.fixture
def victim(team):
    """`team` with a spirit holding a row of every kind, all naming SECRET."""
    actor = Actor(type="user", id="victim", label="victim")
    spirit = SpiritFactory(team=team, name="victim-spirit")
    session = SessionFactory(spirit=spirit, session_id="victim-session")
    event = EventFactory(spirit=spirit, session_id=session.session_id, content=SECRET)
    first = memory_create(
        spirit=spirit, data={"content": SECRET}, actor=actor, event_ids=[event.pk]
    )
    second = memory_create(spirit=spirit, data={"content": f"{SECRET} again"}, actor=actor)
    knowledge = knowledge_create(
        spirit=spirit,
        data={"knowledge_type": "FACT", "content": SECRET},
        actor=actor,
        memory_ids=[first.pk],
    )
    lesson = lesson_create(
        spirit=spirit, data={"statement": SECRET}, actor=actor, memory_ids=[first.pk]
    )
    identity_revise(spirit=spirit, document={"essence": SECRET}, actor=actor, partial=True)
    dream = DreamSession.objects.create(spirit=spirit, trigger="api", actor_type="user")
    DreamAction.objects.create(session=dream, memory_id=first.pk, kind="fade")
    ContextPack.objects.create(
        spirit=spirit, preset="chat", max_tokens=100, token_count=10, text=SECRET
    )
    objects = {
        "spirits": spirit.pk,
        "events": event.pk,
        "sessions": session.pk,
        "memories": first.pk,
        "knowledge": knowledge.pk,
        "lessons": lesson.pk,
        "dreams": dream.pk,
    }
    return {
        "team": team,
        "spirit": spirit,
        "objects": objects,
        "ids": {str(v) for v in objects.values()} | {str(second.pk)},
        "memory_ids": [str(first.pk), str(second.pk)],
    }


def fill(route: Route, victim) -> str:
    values = {}
    segments = route.template.split("/")
    for name in route.params:
        if name in FIXED_PARAMS:
            values[name] = FIXED_PARAMS[name]
            continue
        resource = PARAM_RESOURCES.get(name)
        if name in ("pk", "id"):
            index = next(i for i, s in enumerate(segments) if "{" + name + "}" in s)
            resource = segments[index - 1] if index else None
        if resource not in victim["objects"]:
            pytest.fail(
                f"The tenancy walker does not know what fills {{{name}}} in "
                f"/{API_PREFIX}{route.template}: add it to PARAM_RESOURCES and the victim."
            )
        values[name] = victim["objects"][resource]
    return f"/{API_PREFIX}" + route.template.format(**values)


def body(victim) -> dict:
    """A write naming the victim's objects everywhere a body can name one."""
    spirit = victim["spirit"]
    return {
        "spirit_id": str(spirit.pk),
        "team": victim["team"].slug,
        "memory_ids": victim["memory_ids"],
        "superseded_by_id": str(victim["objects"]["knowledge"]),
        "name": "probe",
        "content": "probe",
        "statement": "probe",
        "event_type": "message.in",
        "knowledge_type": "FACT",
        "query": "probe",
        "document": {"essence": "probe"},
        "confirm": str(spirit.pk),
        "reason": "tenancy probe",
        "events": [{"content": "probe", "event_type": "message.in"}],
    }


def call(client: APIClient, method: str, url: str, victim):
    if method == "GET":
        return client.get(url, {"spirit_id": str(victim["spirit"].pk)})
    return client.generic(
        method, url, data=json.dumps(body(victim)), content_type="application/json"
    )


def snapshot() -> dict:
    """Every row of every table of the project's apps (API keys without their last use)."""
    rows = {}
    for label in APPS:
        for model in apps.get_app_config(label).get_models():
            values = []
            for row in model._base_manager.order_by("pk").values():
                if model is ApiKey:
                    row.pop("last_used_at")
                values.append(
                    {k: v.tolist() if hasattr(v, "tolist") else v for k, v in row.items()}
                )
            rows[model._meta.label] = values
    return rows


def role_needed(method: str, route: Route) -> str:
    default = Role.VIEWER if method == "GET" else Role.MEMBER
    return ROLE_NEEDED.get((method, route.canonical), default)


def test_the_walker_finds_every_kind_of_route():
    templates = {r.canonical for r in api_routes()}
    for expected in (
        "spirits/",
        "spirits/{pk}/",
        "spirits/{pk}/restore/",
        "spirits/{spirit_id}/identity/",
        "spirits/{spirit_id}/search/",
        "events/{event_id}/memories/",
        "memories/merge/",
        "dreams/{pk}/rollback/",
    ):
        assert expected in templates


def test_there_are_no_format_suffix_routes():
    assert not [r.template for r in api_routes() if "format" in r.params]


def test_another_teams_owner_key_reads_and_changes_nothing_of_the_victim(victim, other_team):
    foreign = bearer_client(ApiKeyFactory(team=other_team, role=Role.OWNER).raw)
    before = snapshot()
    problems = []
    for route in api_routes():
        url = fill(route, victim)
        for method in METHODS:
            response = call(foreign, method, url, victim)
            status, content = response.status_code, response.content.decode()
            where = f"{method} {url} -> {status}"
            if status >= 500:
                problems.append(f"{where}: server error")
            if route.params and route.params != ("format",) and status not in (400, 404, 405):
                problems.append(f"{where}: expected 404 (or 400/405) for a victim's object")
            if method != "GET" and 200 <= status < 300:
                problems.append(f"{where}: a write succeeded")
            # An error may echo the ids the request named; a success shows none of them, and
            # no answer ever shows the victim's content.
            leaked = [i for i in victim["ids"] if i in content]
            if status < 300 and leaked:
                problems.append(f"{where}: shows the victim's ids {leaked}")
            if SECRET in content:
                problems.append(f"{where}: shows the victim's content")
    assert not problems, "\n".join(problems)
    assert snapshot() == before


@pytest.mark.parametrize("kind", ["key", "member"])
@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_refused_exactly_where_it_is_too_low(victim, role, kind):
    if kind == "key":
        client = bearer_client(ApiKeyFactory(team=victim["team"], role=role).raw)
    else:
        client = APIClient()
        client.force_login(TeamMembershipFactory(team=victim["team"], role=role).user)
    problems = []
    for route in api_routes():
        if "format" in route.params:
            continue  # the same views as the route without the suffix
        url = fill(route, victim)
        for method in METHODS:
            with transaction.atomic():
                response = call(client, method, url, victim)
                transaction.set_rollback(True)
            status = response.status_code
            where = f"{role} {kind}: {method} {url} -> {status}"
            if status >= 500:
                problems.append(f"{where}: server error {response.content[:200]!r}")
            if status == 405:
                continue
            allowed = Role.at_least(role, role_needed(method, route))
            if not allowed and status != 403:
                problems.append(f"{where}: expected 403 (needs {role_needed(method, route)})")
            if allowed and status == 403:
                problems.append(f"{where}: refused, but the role suffices")
            if status == 403:
                assert response.json()["error"]["code"] == "permission_denied"
    assert not problems, "\n".join(problems)
