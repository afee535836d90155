"""Property-based API tests from the project's own OpenAPI schema (Schemathesis, in-process WSGI).

Every check Schemathesis has is on (`ALL_CHECKS`, all of `schemathesis.checks`): no 5xx;
documented statuses, content types, headers and bodies; schema-valid requests accepted (except
400s for the rules an operation lists in its `x-rules`: schemathesis_hooks.py) and schema-invalid
ones refused; missing required headers; undeclared methods (405 with `Allow`); authentication not
ignored; deleted objects gone and created ones there.

Every operation of /api/schema/ gets generated requests in both generation modes (valid and
invalid), as an owner key of a team whose spirit has a fixed id, given to every path parameter
that names a spirit when the cases are generated (never mutated), so the calls reach past the
404. Then the stateful phase chains operations through the links Schemathesis infers (a spirit
created, then read, changed, searched...), as an admin (the scenarios share one database).
The cases are bounded and repeatable (MAX_EXAMPLES per operation, STATEFUL_EXAMPLES scenarios,
no shrinking, derandomized); the coverage phase is the live-server run's
(docs/testing.md#schema-fuzzing).
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

from elephantasm.tests import schemathesis_hooks  # noqa: F401  (registers the failure filter)
from spirits.tests.factories import SpiritFactory
from teams.models import Role
from teams.tests.factories import ApiKeyFactory, TeamFactory

MAX_EXAMPLES = 20
STATEFUL_EXAMPLES = 30
STATEFUL_STEPS = 10
STATEFUL_REACHED = 6  # operations the scenarios must get a 2xx from, at least (9 today)
# The caller's spirit has this id in every test (each runs in its own rolled-back transaction),
# so path ids that name a spirit are given it when cases are generated, never mutated.
SPIRIT_ID = "5e1f0000-0000-4000-8000-000000000001"

load_all_checks()
ALL_CHECKS = CHECKS.get_all()

config = SchemathesisConfig.from_dict(
    {
        # The coverage phase (every boundary of every schema, built when tests are collected)
        # takes minutes here: the CLI run against a live server has it (docs/testing.md).
        "phases": {"coverage": {"enabled": False}},
        "parameters": {"path.spirit_id": SPIRIT_ID},
        "operations": [
            {
                "include-path-regex": "^/api/v1/spirits/\\{id\\}/",
                "parameters": {"path.id": SPIRIT_ID},
            }
        ],
    }
)
schema = schemathesis.openapi.from_wsgi(
    "/api/schema/?format=json", get_wsgi_application(), config=config
)
# The test's caller (set by the `caller` and `admin_caller` fixtures): its key authenticates
# every call.
CALLER: dict[str, str] = {}


@schema.auth(refresh_interval=None)
class CallerKey:
    """The caller's key, as `Authorization: Bearer`: Schemathesis knows the request's auth, so
    it removes it where a check needs no auth (ignored_auth) and never mutates it."""

    def get(self, case, context):
        return CALLER.get("key")  # None while tests are collected: no caller yet

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture
def wsgi_in_test_transaction(db):
    """Django's WSGI handler closes the connection after each request (close_old_connections);
    inside the test's transaction that would end it. Django's test client disconnects it too."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def as_caller(role: str):
    team = TeamFactory()
    SpiritFactory(team=team, id=SPIRIT_ID)
    CALLER["key"] = ApiKeyFactory(team=team, role=role).raw
    return CALLER


@pytest.fixture
def caller(wsgi_in_test_transaction):
    """An owner: each operation's test has the database to itself, so deleting or purging the
    spirit (the owner's) is tested too."""
    yield as_caller(Role.OWNER)
    CALLER.clear()


@pytest.fixture
def admin_caller(wsgi_in_test_transaction):
    """An admin: the scenarios share one database, and an owner's scenario that deleted or
    purged the spirit (its name is learned from answers) would leave the others only 404s."""
    yield as_caller(Role.ADMIN)
    CALLER.clear()


def test_every_check_schemathesis_has_is_on():
    names = {check.__name__ for check in ALL_CHECKS}

    assert {"negative_data_rejection", "positive_data_acceptance", "ignored_auth"} <= names
    assert names == set(CHECKS.get_all_names())


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same cases every run: CI does not flake on a new random seed
)
def test_api_conforms_to_its_schema(case, caller):
    case.call_and_validate(checks=ALL_CHECKS)


class StatefulAPI(schema.as_state_machine()):
    """Scenarios along the schema's links, as the caller, with every check."""

    succeeded: set[str] = set()  # operations that answered 2xx, over every scenario

    def after_call(self, response, case):
        super().after_call(response, case)
        if 200 <= response.status_code < 300:
            StatefulAPI.succeeded.add(case.operation.label)

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        case.validate_response(
            response, checks=ALL_CHECKS, transport_kwargs=kwargs or None, recorder=self.recorder
        )


def test_stateful_scenarios_along_the_links_conform(admin_caller):
    StatefulAPI.succeeded.clear()

    StatefulAPI.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
    )

    # The scenarios reached the API: created objects, then used them (not 401s and 404s).
    assert len(StatefulAPI.succeeded) >= STATEFUL_REACHED, sorted(StatefulAPI.succeeded)


def test_schemathesis_reads_every_request_body_of_the_schema():
    # A body Schemathesis cannot resolve (a dangling $ref) is silently never generated.
    unread = [
        op.label
        for op in (result.ok() for result in schema.get_all_operations())
        if "requestBody" in op.definition.raw and not list(op.body)
    ]

    assert unread == []
