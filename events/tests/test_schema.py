"""The OpenAPI schema documents the events and sessions API, without generator warnings."""

from __future__ import annotations

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema_and_messages():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    messages = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    GENERATOR_STATS.reset()
    return schema, messages


def test_schema_generation_has_no_warnings_about_events_or_sessions(schema_and_messages):
    _, messages = schema_and_messages
    ours = [m for m in messages if "events/" in m or "EventViewSet" in m or "SessionViewSet" in m]

    assert ours == []


def test_schema_documents_the_list_filters(schema_and_messages):
    schema, _ = schema_and_messages
    params = {p["name"] for p in schema["paths"]["/api/v1/events/"]["get"]["parameters"]}

    assert params >= {
        "spirit_id",
        "event_type",
        "session_id",
        "min_importance",
        "occurred_after",
        "occurred_before",
        "include_deleted",
        "limit",
        "offset",
    }


def test_schema_documents_the_409_of_create(schema_and_messages):
    schema, _ = schema_and_messages
    responses = schema["paths"]["/api/v1/events/"]["post"]["responses"]

    # A duplicate event, or any other conflict (an archived spirit) in the one error shape.
    assert responses["409"]["content"]["application/json"]["schema"] == {
        "anyOf": [
            {"$ref": "#/components/schemas/DuplicateEventResponse"},
            {"$ref": "#/components/schemas/ErrorResponse"},
        ]
    }


def test_schema_documents_the_bulk_request_and_response(schema_and_messages):
    schema, _ = schema_and_messages
    bulk = schema["paths"]["/api/v1/events/bulk/"]["post"]
    components = schema["components"]["schemas"]

    request = bulk["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    response = bulk["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert request.endswith("/EventBulkRequest")
    assert response.endswith("/EventBulkResponse")
    # Each item is validated on its own (an invalid one gets an error result): any value may
    # be sent as an item, an event is what is recorded.
    items = components["EventBulkRequest"]["properties"]["events"]["items"]
    assert items["anyOf"] == [{"$ref": "#/components/schemas/EventBulkItemRequest"}, {}]
    assert set(components["EventBulkResponse"]["properties"]) == {
        "results",
        "created",
        "duplicates",
        "errors",
    }


def test_schema_types_the_event_path_id_as_a_uuid(schema_and_messages):
    schema, _ = schema_and_messages
    [param] = [
        p for p in schema["paths"]["/api/v1/events/{id}/"]["get"]["parameters"] if p["in"] == "path"
    ]

    assert param["schema"] == {"type": "string", "format": "uuid"}


def test_schema_endpoint_serves_the_event_paths(api):
    response = api.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    assert "/api/v1/sessions/{id}/" in response.json()["paths"]
