"""POST /api/v1/events/: what is refused, with a 400 naming the field and nothing written."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.test import override_settings

from events.models import Event, Session

from .conftest import EVENTS_URL, error_of

pytestmark = pytest.mark.django_db


def assert_refused(response, field: str) -> None:
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert field in error["details"], error
    assert not Event.all_objects.exists()
    assert not Session.objects.exists()


def test_missing_content_is_400(api, payload):
    body = payload()
    del body["content"]

    assert_refused(api.post(EVENTS_URL, body, format="json"), "content")


@pytest.mark.parametrize("content", ["", "   \n\t "])
def test_empty_or_blank_content_is_400(api, payload, content):
    assert_refused(api.post(EVENTS_URL, payload(content=content), format="json"), "content")


@override_settings(EVENT_CONTENT_MAX_CHARS=50)
def test_content_longer_than_the_limit_is_400(api, payload):
    assert_refused(api.post(EVENTS_URL, payload(content="x" * 51), format="json"), "content")


@override_settings(EVENT_CONTENT_MAX_CHARS=50)
def test_content_at_the_limit_is_accepted(api, payload):
    assert api.post(EVENTS_URL, payload(content="x" * 50), format="json").status_code == 201


def test_content_of_100_001_characters_is_400_by_default(api, payload):
    assert_refused(api.post(EVENTS_URL, payload(content="x" * 100_001), format="json"), "content")


@pytest.mark.parametrize(
    "field", ["content", "role", "author", "meta_summary", "session_id", "source_uri", "dedupe_key"]
)
def test_nul_character_in_a_text_field_is_400(api, payload, field):
    response = api.post(EVENTS_URL, payload(**{field: "a\x00b"}), format="json")

    assert_refused(response, field)


@pytest.mark.parametrize(
    "metadata",
    [
        {"a\x00b": 1},
        {"k": "a\x00b"},
        {"k": {"deep": ["ok", "a\x00b"]}},
        {"k": [{"a\x00": True}]},
    ],
    ids=["key", "value", "nested-value", "nested-key"],
)
def test_nul_character_anywhere_in_metadata_is_400(api, payload, metadata):
    assert_refused(api.post(EVENTS_URL, payload(metadata=metadata), format="json"), "metadata")


def test_unpaired_surrogate_in_content_is_400(api, payload):
    response = api.post(
        EVENTS_URL,
        b'{"spirit_id": "%s", "event_type": "system", "content": "bad \\ud800 text"}'
        % payload()["spirit_id"].encode(),
        content_type="application/json",
    )

    assert_refused(response, "content")


def test_unpaired_surrogate_in_metadata_is_400(api, payload):
    response = api.post(
        EVENTS_URL,
        b'{"spirit_id": "%s", "event_type": "system", "content": "x", "metadata": {"k": "\\udc00"}}'
        % payload()["spirit_id"].encode(),
        content_type="application/json",
    )

    assert_refused(response, "metadata")


def test_metadata_number_too_large_for_a_float_is_400(api, payload):
    response = api.post(
        EVENTS_URL,
        b'{"spirit_id": "%s", "event_type": "system", "content": "x", "metadata": {"k": 1e999}}'
        % payload()["spirit_id"].encode(),
        content_type="application/json",
    )

    assert_refused(response, "metadata")


def test_metadata_nested_too_deep_is_400(api, payload):
    deep: dict = {}
    node = deep
    for _ in range(40):
        node["k"] = {}
        node = node["k"]

    assert_refused(api.post(EVENTS_URL, payload(metadata=deep), format="json"), "metadata")


@pytest.mark.parametrize("metadata", [[1, 2], "text", 3, None])
def test_metadata_that_is_not_an_object_is_400(api, payload, metadata):
    assert_refused(api.post(EVENTS_URL, payload(metadata=metadata), format="json"), "metadata")


@pytest.mark.parametrize("score", [-0.01, 1.01, "0.5", True])
def test_importance_score_outside_0_1_or_not_a_number_is_400(api, payload, score):
    response = api.post(EVENTS_URL, payload(importance_score=score), format="json")

    assert_refused(response, "importance_score")


@pytest.mark.parametrize(
    "when", ["2025-01-02T03:04:05", "2025-01-02 03:04:05", "2025-01-02"], ids=str
)
def test_naive_occurred_at_is_400(api, payload, when):
    assert_refused(api.post(EVENTS_URL, payload(occurred_at=when), format="json"), "occurred_at")


@pytest.mark.parametrize("when", ["yesterday", "2025-13-01T00:00:00Z", 1735787045, None])
def test_malformed_occurred_at_is_400(api, payload, when):
    assert_refused(api.post(EVENTS_URL, payload(occurred_at=when), format="json"), "occurred_at")


def test_occurred_at_with_an_offset_is_stored_as_that_instant(api, payload):
    response = api.post(EVENTS_URL, payload(occurred_at="2025-01-02T05:04:05+02:00"), format="json")

    assert response.json()["occurred_at"] == "2025-01-02T03:04:05Z"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("content", 123),
        ("content", ["a"]),
        ("role", 5),
        ("session_id", {"a": 1}),
        ("event_type", 1),
        ("token_count", "12"),
        ("token_count", 1.5),
        ("token_count", -1),
        ("dedupe_key", 7),
    ],
)
def test_wrong_json_type_is_400(api, payload, field, value):
    assert_refused(api.post(EVENTS_URL, payload(**{field: value}), format="json"), field)


def test_unknown_event_type_is_400(api, payload):
    response = api.post(EVENTS_URL, payload(event_type="message.sideways"), format="json")

    assert_refused(response, "event_type")


@pytest.mark.parametrize("spirit_id", ["not-a-uuid", 12, None, ""])
def test_invalid_spirit_id_is_400_naming_spirit_id(api, payload, spirit_id):
    response = api.post(EVENTS_URL, {**payload(), "spirit_id": spirit_id}, format="json")

    assert_refused(response, "spirit_id")


def test_session_id_longer_than_255_is_400(api, payload):
    assert_refused(api.post(EVENTS_URL, payload(session_id="s" * 256), format="json"), "session_id")


def test_dedupe_key_longer_than_255_is_400(api, payload):
    assert_refused(api.post(EVENTS_URL, payload(dedupe_key="k" * 256), format="json"), "dedupe_key")


def test_unknown_field_is_400_naming_it(api, payload):
    assert_refused(api.post(EVENTS_URL, payload(importance=0.5), format="json"), "importance")


def test_body_that_is_not_an_object_is_400(api):
    response = api.post(EVENTS_URL, [1, 2], format="json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "validation_error"


def test_malformed_json_is_400_parse_error(api):
    response = api.post(EVENTS_URL, b'{"content": ', content_type="application/json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


def test_json_nan_is_400_parse_error(api, payload):
    response = api.post(
        EVENTS_URL,
        b'{"spirit_id": "%s", "event_type": "system", "content": "x", "importance_score": NaN}'
        % payload()["spirit_id"].encode(),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


def test_absurdly_nested_json_is_400_parse_error(api):
    response = api.post(EVENTS_URL, b"[" * 100_000, content_type="application/json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


def test_form_encoded_body_is_415(api, payload):
    response = api.post(
        EVENTS_URL, urlencode(payload()), content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"
    assert not Event.all_objects.exists()


def test_multipart_body_is_415(api, payload):
    response = api.post(EVENTS_URL, payload(), format="multipart")

    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"
    assert not Event.all_objects.exists()
