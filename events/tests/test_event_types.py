"""Extensible event types: the five known ones, or a custom dotted lower-case name (at most 100
characters), recorded without a migration and carried through the pipeline (Cortex, synthesis,
stats, search, packs)."""

from __future__ import annotations

import pytest

from events.models import (
    EVENT_TYPE_MAX_CHARS,
    Event,
    EventType,
    event_type_problem,
    is_event_type,
)
from events.services import event_create
from memories.retrieval import SearchQuery, search
from pipeline import cortex
from pipeline.synthesis import synthesize_spirit

from .conftest import BULK_URL, COUNT_URL, EVENTS_URL, at, error_of

pytestmark = pytest.mark.django_db

CUSTOM = "calendar.invite.accepted"


def create(api, spirit, event_type, **fields):
    body = {"spirit_id": str(spirit.pk), "event_type": event_type, "content": "x", **fields}
    return api.post(EVENTS_URL, body, format="json")


# --- The rule ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [*EventType.values, CUSTOM, "crm.deal_won", "a.b", "git.v2", "x" + ".y" * 49],
)
def test_valid_event_types(value):
    assert is_event_type(value)


@pytest.mark.parametrize(
    "value",
    [
        "mesage",  # a typo of a known type: custom types need a dot
        "calendar",
        "Calendar.Invite",
        "calendar..invite",
        "calendar.invite.",
        ".calendar",
        "1calendar.invite",
        "calendar-invite.accepted",
        "calendar invite.accepted",
        "message.inn",  # the known types' namespaces are reserved
        "tool.resutl",
        "system.boot",
        "",
        "x" + ".y" * 50,  # 101 characters
    ],
)
def test_invalid_event_types(value):
    assert not is_event_type(value)
    assert event_type_problem(value)


# --- Through the API ---------------------------------------------------------------------------


def test_a_custom_type_is_recorded(api, spirit):
    response = create(api, spirit, CUSTOM)

    assert response.status_code == 201, response.content
    assert response.json()["event_type"] == CUSTOM
    assert Event.objects.get().event_type == CUSTOM


def test_a_custom_type_of_100_characters_is_recorded(api, spirit):
    longest = "a." + "b" * (EVENT_TYPE_MAX_CHARS - 2)

    assert create(api, spirit, longest).status_code == 201
    assert Event.objects.get().event_type == longest


@pytest.mark.parametrize("value", ["mesage", "Calendar.Invite", "tool.resutl", "a b", 5])
def test_an_invalid_type_is_400_listing_the_known_types_and_the_custom_rule(api, spirit, value):
    response = create(api, spirit, value)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error"
    [message] = error["details"]["event_type"]
    if isinstance(value, str):
        for known in EventType.values:
            assert known in message
        assert "dotted lower-case" in message and "calendar.invite.accepted" in message
    assert not Event.objects.exists()


def test_a_type_over_100_characters_is_400_naming_the_limit(api, spirit):
    response = create(api, spirit, "a." + "b" * (EVENT_TYPE_MAX_CHARS - 1))

    assert response.status_code == 400
    assert error_of(response)["details"]["event_type"] == [
        "Ensure this field has no more than 100 characters."
    ]


def test_bulk_records_custom_types_and_refuses_invalid_ones_by_item(api, spirit):
    items = [
        {"event_type": CUSTOM, "content": "accepted"},
        {"event_type": "crm.deal_won", "content": "won"},
        {"event_type": "mesage", "content": "typo"},
    ]

    body = api.post(BULK_URL, {"spirit_id": str(spirit.pk), "events": items}, format="json").json()

    assert [r["status"] for r in body["results"]] == ["created", "created", "error"]
    assert "event_type" in body["results"][2]["error"]["details"]
    assert set(Event.objects.values_list("event_type", flat=True)) == {CUSTOM, "crm.deal_won"}


def test_list_and_count_filter_by_a_custom_type(api, spirit):
    create(api, spirit, CUSTOM)
    create(api, spirit, "message.in")

    listed = api.get(EVENTS_URL, {"event_type": CUSTOM}).json()["results"]
    counted = api.get(COUNT_URL, {"event_type": CUSTOM}).json()

    assert [e["event_type"] for e in listed] == [CUSTOM]
    assert counted == {"count": 1}


def test_list_with_an_invalid_type_is_400(api):
    response = api.get(EVENTS_URL, {"event_type": "mesage"})

    assert response.status_code == 400
    assert "event_type" in error_of(response)["details"]


def test_stats_count_custom_types_after_the_known_ones(api, spirit):
    create(api, spirit, CUSTOM)
    create(api, spirit, CUSTOM, content="y")
    create(api, spirit, "message.in")

    body = api.get(f"/api/v1/spirits/{spirit.pk}/stats/").json()

    assert body["events_by_type"] == {
        "message.in": 1,
        "message.out": 0,
        "tool.call": 0,
        "tool.result": 0,
        "system": 0,
        CUSTOM: 2,
    }
    assert body["event_count"] == 3


# --- Through the pipeline ----------------------------------------------------------------------


def custom_event(spirit, content: str, **fields) -> Event:
    data = {"event_type": CUSTOM, "content": content, "session_id": "s", **fields}
    return event_create(spirit=spirit, data=data)


def test_the_cortex_enriches_a_custom_type_like_a_system_note(spirit):
    content = "Maria accepted the invite to the planning review. It starts at ten."
    event = custom_event(spirit, content)
    note = event_create(spirit=spirit, data={"event_type": "system", "content": content})

    assert cortex.enrich_events(event_ids=[event.pk, note.pk]) == 2

    event.refresh_from_db()
    note.refresh_from_db()
    assert event.enriched_at is not None and event.vector.embedding is not None
    assert event.meta_summary == note.meta_summary != ""
    assert event.importance_score == note.importance_score


def test_synthesis_takes_custom_type_events_into_a_memory(spirit):
    event = custom_event(
        spirit, "Maria accepted the invite to the planning review.", occurred_at=at(0)
    )
    event_create(
        spirit=spirit,
        data={
            "event_type": "message.in",
            "role": "user",
            "content": "Please remind me about the planning review.",
            "session_id": "s",
            "occurred_at": at(1),
        },
    )

    memories = synthesize_spirit(spirit_id=spirit.pk, now=at(60), force=True)

    linked = {e for m in memories for e in m.event_links.values_list("event_id", flat=True)}
    assert event.pk in linked
    event.refresh_from_db()
    assert event.synthesized_at is not None


def test_search_filters_by_a_custom_type(spirit):
    kept = custom_event(spirit, "Invite accepted for the quarterly planning review.")
    event_create(
        spirit=spirit,
        data={"event_type": "message.in", "content": "The quarterly planning review moved."},
    )
    cortex.enrich_events(event_ids=list(Event.objects.values_list("id", flat=True)))

    result = search(spirit, SearchQuery(text="quarterly planning review", types=(CUSTOM,)))

    assert [hit.id for hit in result.hits] == [kept.pk]
    assert result.kinds == ("events",)


def test_the_search_api_takes_a_custom_type_and_refuses_an_invalid_one(api, spirit):
    custom_event(spirit, "Invite accepted for the planning review.")
    url = f"/api/v1/spirits/{spirit.pk}/search/"

    good = api.post(url, {"query": "planning review", "types": [CUSTOM]}, format="json")
    bad = api.post(url, {"query": "planning review", "types": ["mesage"]}, format="json")

    assert good.status_code == 200, good.content
    assert bad.status_code == 400
    assert "types" in error_of(bad)["details"]


def test_a_pack_renders_custom_type_events(api, spirit):
    custom_event(spirit, "Maria accepted the invite to the planning review.", author="Calendar")

    response = api.post(f"/api/v1/spirits/{spirit.pk}/pack/", {"session_id": "s"}, format="json")

    assert response.status_code == 200, response.content
    assert "Calendar: Maria accepted the invite to the planning review." in response.json()["text"]
