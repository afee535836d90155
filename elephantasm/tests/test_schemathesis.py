"""Property-based API tests from the project's own OpenAPI schema (Schemathesis, in-process WSGI).

Every operation of /api/schema/ gets a few generated requests (valid and invalid) with a valid API
key of a team that has a spirit; path ids that name a spirit get that spirit's id, so the calls
reach past the 404. Each response must not be a 5xx and, when its status is documented, must
match the schema (body and content type). The number of cases is bounded (MAX_EXAMPLES per
operation, no shrinking) so the whole module stays around a minute (65 operations).
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings

from spirits.tests.factories import SpiritFactory
from teams.tests.factories import ApiKeyFactory, TeamFactory

MAX_EXAMPLES = 5

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.content_type_conformance,
]


@pytest.fixture
def wsgi_in_test_transaction(db):
    """Django's WSGI handler closes the connection after each request (close_old_connections);
    inside the test's transaction that would end it. Django's test client disconnects it too."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def caller(wsgi_in_test_transaction):
    team = TeamFactory()
    spirit = SpiritFactory(team=team)
    return {"key": ApiKeyFactory(team=team).raw, "spirit_id": str(spirit.id)}


def with_known_spirit(case, spirit_id: str) -> None:
    """Path ids that name a spirit get the caller's spirit: /spirits/{id}/..., {spirit_id}."""
    params = case.path_parameters or {}
    for name in params:
        if name == "spirit_id" or (name == "id" and case.path.startswith("/api/v1/spirits/")):
            params[name] = spirit_id


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same cases every run: CI does not flake on a new random seed
)
def test_api_conforms_to_its_schema_and_never_answers_5xx(case, caller):
    with_known_spirit(case, caller["spirit_id"])

    case.call_and_validate(headers={"Authorization": f"Bearer {caller['key']}"}, checks=CHECKS)
