"""The spirit API answers what its OpenAPI schema declares (issue 18, Schemathesis)."""

from __future__ import annotations

import json

import jsonschema_rs
import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from elephantasm.tests.test_api_core import assert_error
from memories.models import DreamSession, DreamStatus, DreamTrigger
from spirits.config import HOURS_MAX, MINUTES_MAX
from spirits.portability.export import export_chunks
from spirits.tests.factories import SpiritFactory
from teams.models import Role

from .portability_fixtures import fill_spirit

pytestmark = pytest.mark.django_db

SPIRITS = "/api/v1/spirits/"
IMPORT = "/api/v1/spirits/import/"


@pytest.fixture
def admin_api(role_api):
    return role_api(Role.ADMIN)


@pytest.mark.parametrize("field", ["metadata", "config"])
def test_null_metadata_or_config_is_refused_and_declared_so(admin_api, field):
    # `metadata: null` was declared nullable and refused: now it is neither.
    response = admin_api.post(SPIRITS, {"name": "helper", field: None}, format="json")

    assert field in assert_error(response, 400, "validation_error")["details"]
    schema = SchemaGenerator().get_schema(request=None, public=True)
    declared = schema["components"]["schemas"]["SpiritCreateRequest"]["properties"][field]
    assert "null" not in json.dumps(declared)


def test_a_config_outside_its_schema_is_refused_by_the_field(admin_api):
    response = admin_api.post(
        SPIRITS, {"name": "helper", "config": {"synthesis": {"threshold": 0}}}, format="json"
    )

    error = assert_error(response, 400, "validation_error")
    assert "synthesis.threshold" in error["details"]["config"][0]


@pytest.mark.parametrize("query", ["status=", "name=", "name=%20%20"])
def test_an_empty_filter_is_refused_not_ignored(api, query):
    response = api.get(f"{SPIRITS}?{query}")

    error = assert_error(response, 400, "validation_error")
    assert list(error["details"]) == [query.split("=")[0]]


def test_a_filter_given_twice_is_refused(api):
    response = api.get(f"{SPIRITS}?status=active&status=paused")

    assert list(assert_error(response, 400, "validation_error")["details"]) == ["status"]


@pytest.mark.parametrize("query", ["team=", "name="])
def test_an_empty_import_parameter_is_refused(role_api, spirit, query):
    fill_spirit(spirit)
    document = "".join(export_chunks(spirit=spirit))

    response = role_api(Role.ADMIN).generic(
        "POST", f"{IMPORT}?{query}", data=document, content_type="application/json"
    )

    assert list(assert_error(response, 400, "validation_error")["details"]) == [query[:-1]]


def test_an_export_is_valid_against_the_declared_import_body(team):
    spirit = SpiritFactory(team=team)
    fill_spirit(spirit)
    document = json.loads("".join(export_chunks(spirit=spirit, embeddings=True)))
    schema = SchemaGenerator().get_schema(request=None, public=True)
    body = schema["paths"][IMPORT]["post"]["requestBody"]["content"]["application/json"]

    check = jsonschema_rs.Draft202012Validator(
        {**body["schema"], "components": schema["components"]}, validate_formats=True
    )
    errors = [f"{list(e.instance_path)}: {e.message}" for e in check.iter_errors(document)]

    assert errors == []
    document["spirit"]["created_at"] = "2025-01-02"  # a date alone: refused by both
    assert not check.is_valid(document)


def test_a_duration_past_a_year_is_refused(admin_api):
    # 10**12 hours was stored, then every read of the spirit's pipeline was a 500 (a date past
    # 9999): the schema, and so the server, bound durations to a year.
    config = {"dreamer": {"schedule_hours": 10**12}}

    response = admin_api.post(SPIRITS, {"name": "helper", "config": config}, format="json")

    error = assert_error(response, 400, "validation_error")
    assert "dreamer.schedule_hours" in error["details"]["config"][0]


def test_the_pipeline_of_a_spirit_with_the_longest_durations_is_read(admin_api, team):
    config = {
        "dreamer": {"schedule_hours": HOURS_MAX, "max_interval_hours": HOURS_MAX},
        "synthesis": {"idle_minutes": MINUTES_MAX, "max_wait_minutes": MINUTES_MAX},
    }
    spirit = SpiritFactory(team=team, config=config)
    DreamSession.objects.create(
        spirit=spirit,
        trigger=DreamTrigger.API,
        status=DreamStatus.COMPLETED,
        actor_type="user",
        finished_at=timezone.now(),
    )

    response = admin_api.get(f"{SPIRITS}{spirit.pk}/pipeline/")

    assert response.status_code == 200, response.content
    assert response.json()["steps"]["dreamer"]["next_due_at"] is not None


def test_an_integral_number_is_a_count_in_an_import(role_api, spirit):
    # The schema declares counts as integers, which 3.0 is in JSON; the importer refused it.
    fill_spirit(spirit)
    document = json.loads("".join(export_chunks(spirit=spirit)))
    document["sessions"][0]["event_count"] = float(document["sessions"][0]["event_count"])

    response = role_api(Role.ADMIN).post(IMPORT, document, format="json")

    assert response.status_code == 201, response.json()
