"""The memory API answers what its OpenAPI schema declares (issue 18, Schemathesis)."""

from __future__ import annotations

import pytest

from elephantasm.tests.test_api_core import assert_error
from memories.tests.factories import KnowledgeFactory, LessonFactory, MemoryFactory

pytestmark = pytest.mark.django_db

MEMORIES = "/api/v1/memories/"


@pytest.mark.parametrize(
    ("url", "query"),
    [
        (MEMORIES, "status="),
        (MEMORIES, "spirit_id="),
        (MEMORIES, "tag="),
        (MEMORIES, "tag=%20"),
        (MEMORIES, "pinned="),
        (MEMORIES, "created_after="),
        ("/api/v1/knowledge/", "current="),
        ("/api/v1/knowledge/", "type="),
        ("/api/v1/lessons/", "status="),
    ],
)
def test_an_empty_filter_is_refused_not_ignored(api, spirit, url, query):
    # `?status=` answered the whole list as if it were left out.
    MemoryFactory(spirit=spirit)

    response = api.get(f"{url}?{query}")

    assert list(assert_error(response, 400, "validation_error")["details"]) == [query.split("=")[0]]


@pytest.mark.parametrize("limit", ["", "5_0", " 5", "٣", "9" * 5000])
def test_a_limit_that_is_not_a_plain_integer_is_refused(api, spirit, limit):
    response = api.get(MEMORIES, {"limit": limit})

    assert list(assert_error(response, 400, "validation_error")["details"]) == ["limit"]


def test_bad_paging_of_a_past_state_is_refused_too(api, spirit):
    # ?as_of= answers one state, not a page: limit and offset went unchecked.
    memory = MemoryFactory(spirit=spirit)
    url = f"{MEMORIES}{memory.pk}/history/"

    response = api.get(url, {"as_of": "2025-01-02T00:00:00Z", "offset": "-1"})

    assert list(assert_error(response, 400, "validation_error")["details"]) == ["offset"]


def test_a_date_alone_is_not_a_moment(api, spirit):
    # DRF read "2025-01-02" as midnight; the schema declares RFC 3339 date-times.
    body = {"spirit_id": str(spirit.pk), "content": "A fact.", "time_start": "2025-01-02"}

    response = api.post(MEMORIES, body, format="json")

    assert list(assert_error(response, 400, "validation_error")["details"]) == ["time_start"]


def test_a_moment_without_an_offset_is_still_utc_where_documented(api, spirit):
    body = {"spirit_id": str(spirit.pk), "content": "A fact.", "time_start": "2025-01-02T03:04:05"}

    response = api.post(MEMORIES, body, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["time_start"] == "2025-01-02T03:04:05Z"


def test_a_search_refuses_a_moment_the_schema_refuses(api, spirit):
    url = f"/api/v1/spirits/{spirit.pk}/search/"
    body = {"query": "tea", "occurred_after": "2025-01-02T03:04:05+16:30"}

    response = api.post(url, body, format="json")

    assert "occurred_after" in assert_error(response, 400, "validation_error")["details"]


def test_an_empty_reason_on_delete_is_no_reason(api, spirit):
    # Declared as text that may be empty (it was declared non-empty and taken empty).
    for factory, url in (
        (MemoryFactory, MEMORIES),
        (KnowledgeFactory, "/api/v1/knowledge/"),
        (LessonFactory, "/api/v1/lessons/"),
    ):
        obj = factory(spirit=spirit)

        response = api.delete(f"{url}{obj.pk}/?reason=")

        assert response.status_code == 204, (url, response.content)


@pytest.mark.parametrize("body", ["null", "[]", '"x"'])
def test_a_dream_request_that_is_not_an_object_is_refused(api, spirit, body):
    # `null` was read as no body and queued a dream.
    url = f"/api/v1/spirits/{spirit.pk}/dreams/"

    response = api.generic("POST", url, data=body, content_type="application/json")

    assert_error(response, 400, "validation_error")


def test_a_dream_request_without_a_body_is_an_empty_one(api, spirit, sent_tasks):
    sent_tasks("memories.tasks.dream", lambda args, countdown: args)

    response = api.post(f"/api/v1/spirits/{spirit.pk}/dreams/")

    assert response.status_code == 202, response.content


def test_an_identity_replaced_by_an_empty_document_is_refused_as_declared(api, spirit):
    url = f"/api/v1/spirits/{spirit.pk}/identity/"

    response = api.put(url, {"document": {}}, format="json")

    assert list(assert_error(response, 400, "validation_error")["details"]) == ["document"]


def test_an_identity_document_outside_its_schema_is_refused_by_the_field(api, spirit):
    url = f"/api/v1/spirits/{spirit.pk}/identity/"

    response = api.patch(url, {"document": {"values": [{"weight": 2}]}}, format="json")

    error = assert_error(response, 400, "validation_error")
    assert any("values.0" in message for message in error["details"]["document"])
