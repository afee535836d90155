"""The events API answers what its OpenAPI schema declares (issue 18, Schemathesis)."""

from __future__ import annotations

import jsonschema_rs
import pytest

from elephantasm.tests.test_api_core import assert_error
from events.api.fields import EVENT_TYPE_SCHEMA
from events.models import event_type_problem

from .conftest import COUNT_URL, EVENTS_URL, SESSIONS_URL, item

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "query", "name"),
    [
        (EVENTS_URL, "spirit_id=", "spirit_id"),
        (COUNT_URL, "spirit_id=", "spirit_id"),
        (EVENTS_URL, "session_id=", "session_id"),
        (EVENTS_URL, "session_id=%20%09", "session_id"),
        (EVENTS_URL, "event_type=", "event_type"),
        (SESSIONS_URL, "status=", "status"),
        (SESSIONS_URL, "spirit_id=", "spirit_id"),
    ],
)
def test_an_empty_filter_is_refused_not_ignored(api, spirit, url, query, name):
    # `?spirit_id=` answered every spirit's events as if it were left out.
    response = api.get(f"{url}?{query}")

    assert list(assert_error(response, 400, "validation_error")["details"]) == [name]


def test_a_parameter_given_twice_is_refused(api, spirit):
    response = api.get(f"{EVENTS_URL}?spirit_id={spirit.pk}&spirit_id={spirit.pk}")

    assert list(assert_error(response, 400, "validation_error")["details"]) == ["spirit_id"]


def test_a_metadata_query_nested_past_the_parser_is_a_400(api, spirit):
    response = api.get(EVENTS_URL, {"metadata": "[" * 5000})

    assert "metadata" in assert_error(response, 400, "validation_error")["details"]


def test_an_integral_number_is_an_integer(api, spirit):
    # JSON has one kind of number: the schema's `integer` admits 12.0.
    body = {"spirit_id": str(spirit.pk), **item(), "token_count": 12.0}

    response = api.post(EVENTS_URL, body, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["token_count"] == 12


def test_a_fractional_number_is_not_an_integer(api, spirit):
    body = {"spirit_id": str(spirit.pk), **item(), "token_count": 12.5}

    response = api.post(EVENTS_URL, body, format="json")

    assert list(assert_error(response, 400, "validation_error")["details"]) == ["token_count"]


@pytest.mark.parametrize(
    "value",
    [
        "message.in",
        "system",
        "calendar.invite.accepted",
        "a.b",
        "a_1.b_2",
        "message.inn",  # a reserved prefix: a typo of a known type
        "system.boot",
        "tool.x",
        "mesage",  # no dot
        "Calendar.invite",
        "a..b",
        "a." + "b" * 98,
        "a." + "b" * 97,
        "a.b\n",
    ],
)
def test_the_event_type_schema_declares_exactly_the_types_the_server_takes(value):
    declared = jsonschema_rs.Draft202012Validator(EVENT_TYPE_SCHEMA).is_valid(value)

    assert declared is (event_type_problem(value) is None), value
