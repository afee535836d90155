"""POST /spirits/import/: a document that cannot be imported is refused whole, naming why."""

from __future__ import annotations

import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from spirits.portability.export import export_chunks
from teams.models import Role

from .portability_fixtures import all_rows, fill_spirit

pytestmark = pytest.mark.django_db

URL = "/api/v1/spirits/import/"


@pytest.fixture
def document(spirit) -> dict:
    fill_spirit(spirit)
    return json.loads("".join(export_chunks(spirit=spirit)))


def post(api, body, content_type: str = "application/json"):
    return api.generic("POST", URL, data=body, content_type=content_type)


def refused(api, document) -> dict:
    """POST the document; assert a 400 that wrote nothing; return the error."""
    before = all_rows()
    response = post(api, json.dumps(document))
    assert response.status_code == 400, response.json()
    assert all_rows() == before
    return response.json()["error"]


def test_the_valid_document_is_imported(api, document):
    assert post(api, json.dumps(document)).status_code == 201


def test_malformed_json_is_a_parse_error_and_writes_nothing(api, document):
    before = all_rows()
    response = post(api, json.dumps(document)[:-20])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert "JSON parse error" in response.json()["error"]["message"]
    assert all_rows() == before


def test_another_format_is_refused(api, document):
    document["format"] = "someone.else"
    error = refused(api, document)
    assert error["code"] == "validation_error"
    assert list(error["details"]) == ["format"]


def test_an_unknown_version_is_refused(api, document):
    document["version"] = 2
    error = refused(api, document)
    assert error["details"] == {"version": ["Unsupported version 2: this server reads version 1."]}


def test_a_missing_section_is_named(api, document):
    del document["memories"]
    assert refused(api, document)["details"] == {"memories": ["This section is missing."]}


def test_a_provenance_link_to_an_event_not_in_the_document_is_named(api, document):
    stranger = str(uuid.uuid4())
    document["memories"][0]["events"][0]["event"] = stranger
    details = refused(api, document)["details"]
    assert details == {
        "memories[0].events[0].event": [f"Names {stranger}, which is not in events."]
    }


def test_a_link_to_a_memory_not_in_the_document_is_named(api, document):
    document["knowledge"][0]["memories"].append(str(uuid.uuid4()))
    document["memories"][1]["superseded_by"] = str(uuid.uuid4())
    details = refused(api, document)["details"]
    assert set(details) == {"knowledge[0].memories[2]", "memories[1].superseded_by"}


def test_a_duplicate_id_is_named(api, document):
    document["events"][3]["id"] = document["events"][1]["id"]
    details = refused(api, document)["details"]
    assert details == {
        "events[3].id": [f"Duplicate id {document['events'][1]['id']} (first at events[1].id)."]
    }


def test_an_id_shared_by_two_sections_is_a_duplicate(api, document):
    document["lessons"][0]["id"] = document["memories"][0]["id"]
    assert list(refused(api, document)["details"]) == ["lessons[0].id"]


def test_a_wrong_type_is_named(api, document):
    document["events"][0]["occurred_at"] = 12
    document["memories"][0]["importance"] = "high"
    document["sessions"][0]["event_count"] = -1
    details = refused(api, document)["details"]
    assert details == {
        "events[0].occurred_at": ["Must be an ISO 8601 time."],
        "memories[0].importance": ["Must be a number from 0 to 1."],
        "sessions[0].event_count": ["Must be from 0 to 2147483647."],
    }


def test_unknown_fields_and_sections_are_refused_by_name(api, document):
    document["extra"] = {}
    document["events"][0]["colour"] = "blue"
    details = refused(api, document)["details"]
    assert details == {"extra": ["Unknown section."], "events[0].colour": ["Unknown field."]}


def test_a_missing_field_is_named(api, document):
    del document["lessons"][0]["statement"]
    assert refused(api, document)["details"] == {
        "lessons[0].statement": ["This field is required."]
    }


def test_repeated_dedupe_keys_are_named(api, document):
    document["events"][3]["dedupe_key"] = document["events"][0]["dedupe_key"]
    assert list(refused(api, document)["details"]) == ["events[3].dedupe_key"]


def test_an_invalid_config_and_identity_are_named(api, document):
    document["spirit"]["config"] = {"synthesis": {"enabled": "yes"}}
    document["identity"]["current"]["document"] = {"essence": 5}
    details = refused(api, document)["details"]
    assert set(details) == {"spirit.config", "identity.current.document"}


def test_null_characters_are_refused_not_a_500(api, document):
    document["events"][0]["content"] = "a\u0000b"
    assert list(refused(api, document)["details"]) == ["events[0].content"]


def test_every_problem_is_listed_at_once(api, document):
    for event in document["events"]:
        event["content"] = ""
    assert len(refused(api, document)["details"]) == 6


def test_a_document_that_is_not_an_object_is_refused(api):
    assert refused(api, [1, 2])["details"] == {"document": ["The document must be a JSON object."]}


def test_a_multipart_upload_is_imported(api, document):
    upload = SimpleUploadedFile("export.json", json.dumps(document).encode(), "application/json")
    response = api.post(URL, {"file": upload}, format="multipart")
    assert response.status_code == 201, response.json()


def test_an_upload_that_is_not_json_is_named(api):
    before = all_rows()
    upload = SimpleUploadedFile("export.json", b"{not json", "application/json")
    response = api.post(URL, {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["file"]
    assert all_rows() == before


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MEMBER])
def test_below_admin_is_a_403_and_writes_nothing(role_api, document, role):
    before = all_rows()
    response = post(role_api(role), json.dumps(document))
    assert response.status_code == 403
    assert response.json()["error"]["details"]["required_role"] == "admin"
    assert all_rows() == before


def test_a_team_that_is_not_the_callers_is_refused(api, document, other_team):
    before = all_rows()
    response = api.generic(
        "POST",
        f"{URL}?team={other_team.slug}",
        data=json.dumps(document),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["team"]
    assert all_rows() == before


@pytest.mark.parametrize(
    ("moment", "problem"),
    [
        ("2024-13-01T00:00:00Z", "Must be an ISO 8601 time."),  # the right shape, no such date
        ("2024-01-01T00:00:00+20:00", "Time zone offset out of range"),
    ],
)
def test_an_impossible_time_is_named_not_a_500(api, document, moment, problem):
    document["events"][0]["occurred_at"] = moment

    error = refused(api, document)

    assert problem in error["details"]["events[0].occurred_at"][0]
