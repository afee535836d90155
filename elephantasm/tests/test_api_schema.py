"""The OpenAPI schema says what the server checks (elephantasm/api/schema.py and the fields'
declarations): each disagreement Schemathesis found (issue 18) has a test here or next to its
endpoint's tests."""

from __future__ import annotations

import re

import jsonschema_rs
import pytest
from django.conf import settings
from drf_spectacular.generators import SchemaGenerator

from elephantasm.api.schema import NO_NUL_PATTERN, NOT_BLANK_PATTERN
from memories.identity_schema import IDENTITY_SCHEMA
from spirits.config import CONFIG_SCHEMA

pytestmark = pytest.mark.django_db
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def component(schema, name):
    return schema["components"]["schemas"][name]


def validator(schema, node):
    """A validator of `node` that resolves the document's component references, as
    Schemathesis judges requests (jsonschema_rs, formats checked)."""
    return jsonschema_rs.Draft202012Validator(
        {**node, "components": schema["components"]}, validate_formats=True
    )


def test_every_reference_names_a_component(schema):
    # A dangling $ref made Schemathesis silently drop the search body.
    refs = set(re.findall(r"#/components/schemas/([\w.-]+)", str(schema)))

    assert refs - set(schema["components"]["schemas"]) == set()


def test_every_operation_declares_its_errors_in_the_error_shape(schema):
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        assert {"400", "401", "403", "406", "429", "503"} <= set(responses), (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        if "requestBody" in operation:
            assert {"413", "415"} <= set(responses), (method, path)
        for status, response in responses.items():
            if status[0] in "45":
                assert "ErrorResponse" in str(response["content"]["application/json"]), status


def test_rate_limits_and_outages_declare_retry_after(schema):
    responses = schema["paths"]["/api/v1/spirits/"]["get"]["responses"]

    assert "Retry-After" in responses["429"]["headers"]
    assert "Retry-After" in responses["503"]["headers"]


def test_an_error_of_a_specific_shape_may_be_the_generic_one_too(schema):
    # An archived spirit's 409 came back where only a duplicate event's 409 was declared.
    conflict = schema["paths"]["/api/v1/events/"]["post"]["responses"]["409"]
    shapes = conflict["content"]["application/json"]["schema"]["anyOf"]

    assert {"$ref": "#/components/schemas/DuplicateEventResponse"} in shapes
    assert {"$ref": "#/components/schemas/ErrorResponse"} in shapes


def test_strict_bodies_declare_that_no_other_key_is_accepted(schema):
    # The server refuses unknown keys by name; the schema allowed them.
    for name in (
        "EventCreateRequest",
        "MemoryCreateRequest",
        "SearchRequest",
        "DreamRequestRequest",
    ):
        assert component(schema, name)["additionalProperties"] is False, name
    assert component(schema, "PatchedSpiritUpdateRequest")["additionalProperties"] is False


def test_a_body_with_required_fields_is_required(schema):
    # An import without a body is a 400, not a request the schema allows.
    paths = schema["paths"]

    assert paths["/api/v1/spirits/import/"]["post"]["requestBody"]["required"] is True
    assert paths["/api/v1/spirits/{spirit_id}/search/"]["post"]["requestBody"]["required"]
    assert "required" not in paths["/api/v1/spirits/{spirit_id}/pack/"]["post"]["requestBody"]


def test_list_bounds_are_declared(schema):
    # events >= 1 (and <= EVENTS_BULK_MAX), parts >= 2, kinds >= 1, memory_ids >= 2.
    events = component(schema, "EventBulkRequest")["properties"]["events"]
    parts = component(schema, "MemorySplitRequest")["properties"]["parts"]
    kinds = component(schema, "SearchRequest")["properties"]["kinds"]
    merged = component(schema, "MemoryMergeRequest")["properties"]["memory_ids"]

    assert (events["minItems"], events["maxItems"]) == (1, settings.EVENTS_BULK_MAX)
    assert (parts["minItems"], parts["maxItems"]) == (2, 50)
    assert kinds["minItems"] == 1
    assert merged["minItems"] == 2


def test_limit_and_offset_bounds_are_declared_on_every_list(schema):
    for path, _method, operation in operations(schema):
        parameters = {p["name"]: p for p in operation.get("parameters", [])}
        if "limit" in parameters:
            assert parameters["limit"]["schema"]["minimum"] == 1, path
            assert parameters["limit"]["schema"]["maximum"] == 200, path
            assert parameters["offset"]["schema"]["minimum"] == 0, path


@pytest.mark.parametrize(
    ("text", "blank_allowed", "valid"),
    [
        ("hello", False, True),
        (" a ", False, True),
        ("", True, True),
        ("  \t", True, True),
        ("  \t\n", False, False),  # only whitespace is blank
        ("\x1c\u3000", False, False),  # Python's whitespace, not only ASCII's
        ("a\x00b", True, False),
        ("a\x00b", False, False),
    ],
)
def test_text_patterns_say_what_the_strict_fields_refuse(text, blank_allowed, valid):
    pattern = NO_NUL_PATTERN if blank_allowed else NOT_BLANK_PATTERN
    node = {"type": "string", "pattern": pattern}

    assert jsonschema_rs.Draft202012Validator(node).is_valid(text) is valid


def test_every_free_text_the_server_reads_has_its_pattern(schema):
    name = component(schema, "SpiritCreateRequest")["properties"]["name"]
    description = component(schema, "SpiritCreateRequest")["properties"]["description"]
    tag = {p["name"]: p for p in schema["paths"]["/api/v1/memories/"]["get"]["parameters"]}["tag"]

    assert name["pattern"] == NOT_BLANK_PATTERN
    assert description["pattern"] == NO_NUL_PATTERN
    assert tag["schema"]["pattern"] == NOT_BLANK_PATTERN  # an empty filter is refused


def test_metadata_is_a_json_object_never_null(schema):
    # `metadata: null` was declared (nullable) but refused.
    metadata = component(schema, "SpiritCreateRequest")["properties"]["metadata"]
    check = validator(schema, metadata)

    assert check.is_valid({"channel": "email", "n": [1, None, {"x": True}]})
    assert not check.is_valid(None)
    assert not check.is_valid({"a": "nul\x00"})
    assert not check.is_valid({"key\x00": 1})


def test_the_spirit_config_and_the_identity_document_declare_their_schemas(schema):
    # Both were declared free-form and validated against these schemas.
    config = component(schema, "SpiritConfig")
    document = component(schema, "IdentityDocument")

    assert config["properties"].keys() == CONFIG_SCHEMA["properties"].keys()
    assert config["additionalProperties"] is False
    assert document["properties"].keys() == IDENTITY_SCHEMA["properties"].keys()
    assert not validator(schema, document).is_valid({"unknown": 1})


def test_the_metadata_query_is_declared_as_json_content(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/events/"]["get"]["parameters"]}

    assert "schema" not in parameters["metadata"]
    assert parameters["metadata"]["content"]["application/json"]["schema"]["type"] == "object"


def test_rules_beyond_the_schema_are_listed_per_operation(schema):
    pack = schema["paths"]["/api/v1/spirits/{spirit_id}/pack/"]["post"]
    merge = schema["paths"]["/api/v1/memories/merge/"]["post"]

    assert "weights" in pack["x-rules"]
    assert "memory_ids" in merge["x-rules"]
