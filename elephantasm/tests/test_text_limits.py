"""Every text a caller writes has a documented limit and is a 400 past it (elephantasm
.validators): the probe stored 30 MB memories, after which every search and list answered 30 MB,
and ~1.5 MB of words made PostgreSQL fail to build a tsvector (a 500)."""

from __future__ import annotations

import pytest

from elephantasm.tests.test_api_core import assert_error
from elephantasm.validators import LONG_TEXT_MAX_CHARS, METADATA_MAX_BYTES, TEXT_MAX_CHARS
from memories.models import Knowledge, Lesson, Memory

pytestmark = pytest.mark.django_db


def words(chars: int) -> str:
    """Distinct words (the worst case for a tsvector), `chars` characters in all."""
    text = " ".join(f"w{n}x" for n in range(chars // 4 + 1))
    return text[:chars].rstrip() + "z" * (chars - len(text[:chars].rstrip()))


@pytest.mark.parametrize(
    ("path", "field", "limit", "others"),
    [
        ("/api/v1/memories/", "content", LONG_TEXT_MAX_CHARS, {}),
        ("/api/v1/memories/", "summary", TEXT_MAX_CHARS, {"content": "ok"}),
        ("/api/v1/knowledge/", "content", TEXT_MAX_CHARS, {"knowledge_type": "FACT"}),
        ("/api/v1/lessons/", "statement", TEXT_MAX_CHARS, {}),
        ("/api/v1/lessons/", "rationale", TEXT_MAX_CHARS, {"statement": "ok"}),
    ],
)
def test_curated_texts_have_a_limit(api, spirit, path, field, limit, others):
    body = {"spirit_id": str(spirit.pk), **others}
    models = {"memories": Memory, "knowledge": Knowledge, "lessons": Lesson}
    model = models[path.split("/")[3]]

    over = api.post(path, {**body, field: words(limit + 1)}, format="json")
    at_limit = api.post(path, {**body, field: words(limit)}, format="json")

    error = assert_error(over, 400, "validation_error")
    assert f"at most {limit} characters" in error["details"][field][0]
    assert at_limit.status_code == 201, at_limit.content[:300]  # and searchable: no 500
    assert model.objects.filter(spirit=spirit).count() == 1


def test_an_events_summary_and_a_spirits_description_have_a_limit(api, spirit):
    event = {"spirit_id": str(spirit.pk), "event_type": "message.in", "content": "hi"}

    too_long = api.post(
        "/api/v1/events/", {**event, "meta_summary": "x" * (TEXT_MAX_CHARS + 1)}, format="json"
    )
    description = api.patch(
        f"/api/v1/spirits/{spirit.pk}/", {"description": "x" * (TEXT_MAX_CHARS + 1)}, format="json"
    )

    assert "meta_summary" in assert_error(too_long, 400, "validation_error")["details"]
    assert "description" in assert_error(description, 400, "validation_error")["details"]


def test_metadata_has_a_size_limit(api, spirit):
    big = {"blob": "x" * METADATA_MAX_BYTES}
    event = {"spirit_id": str(spirit.pk), "event_type": "message.in", "content": "hi"}

    on_event = api.post("/api/v1/events/", {**event, "metadata": big}, format="json")
    on_spirit = api.patch(f"/api/v1/spirits/{spirit.pk}/", {"metadata": big}, format="json")
    fits = api.post("/api/v1/events/", {**event, "metadata": {"blob": "x" * 1000}}, format="json")

    for response in (on_event, on_spirit):
        error = assert_error(response, 400, "validation_error")
        assert f"At most {METADATA_MAX_BYTES} bytes" in error["details"]["metadata"][0]
    assert fits.status_code == 201


def test_search_finds_a_memory_at_the_limit(api, spirit):
    text = "The zygomorphic orchid blooms in March. " + words(LONG_TEXT_MAX_CHARS - 60)
    created = api.post(
        "/api/v1/memories/", {"spirit_id": str(spirit.pk), "content": text}, format="json"
    )

    found = api.post(
        f"/api/v1/spirits/{spirit.pk}/search/",
        {"query": "zygomorphic orchid", "vector_weight": 0},
        format="json",
    )

    assert created.status_code == 201
    assert found.status_code == 200
    assert [hit["id"] for hit in found.json()["results"]] == [created.json()["id"]]
