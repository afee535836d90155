"""POST /api/v1/spirits/{id}/search/: shape, validation errors, scoping, authentication."""

from __future__ import annotations

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from events.tests.factories import EventFactory
from memories.models import Memory, MemoryTag
from pipeline import cortex, embedding

from .factories import MemoryFactory

pytestmark = pytest.mark.django_db


def url(spirit) -> str:
    return f"/api/v1/spirits/{spirit.pk}/search/"


@pytest.fixture
def stored(spirit):
    """One embedded memory (tagged) and one event not embedded yet."""
    memory = MemoryFactory(
        spirit=spirit, content="The user prefers Neovim as their code editor.", summary=""
    )
    MemoryTag.objects.create(memory=memory, name="tools")
    embedding.embed_stale(model=Memory, ids=[memory.pk])
    event = EventFactory(spirit=spirit, content="I switched my code editor to Neovim last week.")
    return memory, event


def test_search_returns_fused_hits_with_their_reasons(api, spirit, stored):
    memory, event = stored

    response = api.post(url(spirit), {"query": "code editor Neovim"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"query", "kinds", "weights", "embedding_model", "text_query", "results"}
    assert body["weights"] == {"vector": 0.5, "text": 0.5, "rrf_k": 60}
    assert body["kinds"] == ["events", "memories", "knowledge", "lessons"]
    by_id = {hit["id"]: hit for hit in body["results"]}
    assert set(by_id) == {str(memory.pk), str(event.pk)}
    hit = by_id[str(memory.pk)]
    assert hit["kind"] == "memory" and hit["tags"] == ["tools"] and hit["status"] == "active"
    plain = by_id[str(event.pk)]  # not embedded: found by text alone
    # One ranking across kinds: the two texts share the text list's ranks 1 and 2.
    assert hit["reasons"]["vector_rank"] == 1
    assert {hit["reasons"]["text_rank"], plain["reasons"]["text_rank"]} == {1, 2}
    assert hit["score"] == pytest.approx(0.5 / 61 + 0.5 / (60 + hit["reasons"]["text_rank"]))
    assert plain["kind"] == "event" and plain["session_id"] == "s-1"
    assert plain["reasons"]["vector_rank"] is None and plain["reasons"]["vector_similarity"] is None


def test_search_filters_and_weights_from_the_body(api, spirit, stored):
    memory, _ = stored

    response = api.post(
        url(spirit),
        {
            "query": "which tool do they write programs with",
            "k": 1,
            "kinds": ["memories", "events"],
            "tags": ["tools"],
            "vector_weight": 1,
            "text_weight": 0,
        },
        format="json",
    )

    body = response.json()
    assert response.status_code == 200, body
    assert body["kinds"] == ["memories"] and body["text_query"] is None
    assert [hit["id"] for hit in body["results"]] == [str(memory.pk)]


def test_enriched_events_are_found_by_vector_too(api, spirit, stored):
    _, event = stored
    cortex.enrich_events(event_ids=[event.pk])

    body = api.post(url(spirit), {"query": "Neovim", "kinds": ["events"]}, format="json").json()

    [hit] = body["results"]
    assert hit["reasons"]["vector_rank"] == 1 and hit["reasons"]["text_rank"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "query"),
        ({"query": ""}, "query"),
        ({"query": "   "}, "query"),
        ({"query": 12}, "query"),
        ({"query": "x", "k": 0}, "k"),
        ({"query": "x", "k": 101}, "k"),
        ({"query": "x", "k": "5"}, "k"),
        ({"query": "x", "kinds": ["events", "dreams"]}, "kinds"),
        ({"query": "x", "kinds": []}, "kinds"),
        ({"query": "x", "types": ["nonsense"]}, "types"),
        ({"query": "x", "kinds": ["lessons"], "types": ["FACT"]}, "types"),
        ({"query": "x", "kinds": ["events"], "tiers": ["hot"]}, "tiers"),
        ({"query": "x", "occurred_after": "yesterday"}, "occurred_after"),
        (
            {
                "query": "x",
                "occurred_after": "2025-02-01T00:00:00Z",
                "occurred_before": "2025-01-01T00:00:00Z",
            },
            "occurred_after",
        ),
        ({"query": "x", "vector_weight": 2}, "vector_weight"),
        ({"query": "x", "vector_weight": 0, "text_weight": 0}, "non_field_errors"),
        ({"query": "x", "include_archived": "yes"}, "include_archived"),
        ({"query": "x", "text_match": "some"}, "text_match"),
        ({"query": "x", "limit": 5}, "limit"),
    ],
)
def test_invalid_bodies_are_400_naming_the_field(api, spirit, body, field):
    response = api.post(url(spirit), body, format="json")

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"], error


def test_another_teams_spirit_is_a_404(api, foreign_spirit):
    response = api.post(url(foreign_spirit), {"query": "anything"}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_deleted_spirit_is_a_404(api, spirit):
    from django.utils import timezone

    spirit.deleted_at = timezone.now()
    spirit.save(update_fields=["deleted_at"])

    assert api.post(url(spirit), {"query": "anything"}, format="json").status_code == 404


def test_no_api_key_is_a_401(spirit):
    response = APIClient().post(url(spirit), {"query": "anything"}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_get_is_not_allowed(api, spirit):
    assert api.get(url(spirit)).status_code == 405


def test_the_schema_documents_search_without_warnings():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    messages = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    GENERATOR_STATS.reset()

    assert [m for m in messages if "search" in m.lower()] == []
    operation = schema["paths"]["/api/v1/spirits/{spirit_id}/search/"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/SearchRequest"
    )
    assert set(operation["responses"]) >= {"200", "400", "404"}
