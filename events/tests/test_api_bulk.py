"""POST /api/v1/events/bulk/: many events of one spirit, a result per item in input order."""

from __future__ import annotations

import uuid

import pytest
from django.test import override_settings

from events.models import Event, Session

from .conftest import BULK_URL, EVENTS_URL, error_of, item

pytestmark = pytest.mark.django_db


def bulk(api, spirit, items, **extra):
    return api.post(
        BULK_URL, {"spirit_id": str(spirit.pk), "events": items, **extra}, format="json"
    )


def test_bulk_creates_every_valid_item_with_200(api, spirit):
    response = bulk(api, spirit, [item(content=f"m{i}") for i in range(3)])

    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["duplicates"], body["errors"]) == (3, 0, 0)
    assert [r["index"] for r in body["results"]] == [0, 1, 2]
    assert {r["status"] for r in body["results"]} == {"created"}
    by_id = {str(e.pk): e.content for e in Event.objects.all()}
    assert [by_id[r["id"]] for r in body["results"]] == ["m0", "m1", "m2"]


def test_bulk_reports_mixed_items_in_input_order(api, spirit):
    existing = bulk(api, spirit, [item(dedupe_key="old")]).json()["results"][0]["id"]

    response = bulk(
        api,
        spirit,
        [
            item(content="good"),
            item(dedupe_key="old"),
            item(content=""),
            item(content="also good", dedupe_key="new"),
            "not an object",
        ],
    )

    body = response.json()
    assert response.status_code == 200
    assert [(r["index"], r["status"]) for r in body["results"]] == [
        (0, "created"),
        (1, "duplicate"),
        (2, "error"),
        (3, "created"),
        (4, "error"),
    ]
    assert body["results"][1]["id"] == existing
    assert (body["created"], body["duplicates"], body["errors"]) == (2, 1, 2)


def test_bulk_item_error_names_the_field(api, spirit):
    response = bulk(api, spirit, [item(occurred_at="2025-01-02T03:04:05")])

    result = response.json()["results"][0]
    assert result["status"] == "error"
    assert "id" not in result
    assert result["error"]["code"] == "validation_error"
    assert "occurred_at" in result["error"]["details"]


def test_bulk_bad_item_does_not_lose_the_good_ones(api, spirit):
    bulk(api, spirit, [item(content="a"), item(metadata={"k": "x\x00"}), item(content="c")])

    assert sorted(Event.objects.values_list("content", flat=True)) == ["a", "c"]


def test_resending_the_same_batch_creates_nothing_new(api, spirit):
    batch = [
        item(content="one", dedupe_key="k1"),
        item(content="two", source_uri="mail://1", occurred_at="2025-01-02T03:04:05Z"),
        item(content="three", occurred_at="2025-01-02T03:05:00Z"),
    ]
    first = bulk(api, spirit, batch).json()

    again = bulk(api, spirit, batch).json()

    assert (again["created"], again["duplicates"]) == (0, 3)
    assert [r["id"] for r in again["results"]] == [r["id"] for r in first["results"]]
    assert Event.objects.count() == 3


def test_later_item_with_the_same_key_in_one_batch_is_a_duplicate_of_the_earlier(api, spirit):
    response = bulk(
        api,
        spirit,
        [
            item(content="first", dedupe_key="k"),
            item(content="x"),
            item(content="2nd", dedupe_key="k"),
        ],
    )

    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created", "created", "duplicate"]
    assert results[2]["id"] == results[0]["id"]
    assert Event.objects.get(dedupe_key="k").content == "first"


def test_bulk_updates_session_counters_once_per_session(api, spirit):
    bulk(
        api,
        spirit,
        [
            item(session_id="a", event_type="message.in", token_count=3),
            item(session_id="a", event_type="message.out", token_count=5),
            item(session_id="b", event_type="tool.call", token_count=7),
            item(session_id="", token_count=11),
        ],
    )

    a, b = Session.objects.order_by("session_id")
    assert (a.event_count, a.token_count, a.input_token_count, a.output_token_count) == (2, 8, 3, 5)
    assert (b.event_count, b.token_count, b.input_token_count, b.output_token_count) == (1, 7, 0, 0)


@override_settings(EVENTS_BULK_MAX=3)
def test_more_than_bulk_max_events_is_400_and_writes_nothing(api, spirit):
    response = bulk(api, spirit, [item() for _ in range(4)])

    assert response.status_code == 400
    assert "events" in error_of(response)["details"]
    assert not Event.objects.exists()


def test_1001_events_is_400(api, spirit):
    response = bulk(api, spirit, [item() for _ in range(1001)])

    assert response.status_code == 400
    assert "events" in error_of(response)["details"]


def test_1000_events_are_accepted_in_one_call(api, spirit):
    response = bulk(api, spirit, [item(content=f"m{i}", dedupe_key=f"k{i}") for i in range(1000)])

    assert response.status_code == 200
    assert response.json()["created"] == 1000


def test_empty_batch_is_400(api, spirit):
    response = bulk(api, spirit, [])

    assert response.status_code == 400
    assert "events" in error_of(response)["details"]


@pytest.mark.parametrize("events", [None, "x", {"a": 1}])
def test_events_that_is_not_a_list_is_400(api, spirit, events):
    response = bulk(api, spirit, events)

    assert response.status_code == 400
    assert "events" in error_of(response)["details"]


def test_bulk_with_invalid_spirit_id_is_400(api):
    response = api.post(BULK_URL, {"spirit_id": "nope", "events": [item()]}, format="json")

    assert response.status_code == 400
    assert "spirit_id" in error_of(response)["details"]


def test_bulk_for_unknown_spirit_is_404(api):
    response = api.post(
        BULK_URL, {"spirit_id": str(uuid.uuid4()), "events": [item()]}, format="json"
    )

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_bulk_for_another_teams_spirit_is_404_and_writes_nothing(api, foreign_spirit):
    response = bulk(api, foreign_spirit, [item()])

    assert response.status_code == 404
    assert not Event.all_objects.exists()


def test_bulk_item_may_repeat_the_top_level_spirit_id(api, spirit):
    response = bulk(api, spirit, [item(spirit_id=str(spirit.pk))])

    assert response.json()["results"][0]["status"] == "created"


def test_bulk_item_naming_another_spirit_is_an_item_error(api, spirit, foreign_spirit):
    response = bulk(api, spirit, [item(spirit_id=str(foreign_spirit.pk)), item()])

    results = response.json()["results"]
    assert results[0]["status"] == "error"
    assert "spirit_id" in results[0]["error"]["details"]
    assert results[1]["status"] == "created"
    assert not Event.all_objects.filter(spirit=foreign_spirit).exists()


def test_bulk_with_an_unknown_top_level_field_is_400(api, spirit):
    response = bulk(api, spirit, [item()], mode="fast")

    assert response.status_code == 400
    assert "mode" in error_of(response)["details"]


def test_bulk_uses_a_constant_number_of_queries(api, spirit, django_assert_max_num_queries):
    items = [item(content=f"m{i}", dedupe_key=f"k{i}", session_id="s") for i in range(300)]
    items += [item(content="dup", dedupe_key="k0")]

    # auth (2), spirit lookup, spirit lock, arrival numbers, insert, key lookup, session upsert,
    # savepoints
    with django_assert_max_num_queries(11):
        response = bulk(api, spirit, items)

    assert response.json()["created"] == 300


def test_a_bulk_call_without_times_replays_in_its_input_order(api, spirit):
    texts = [f"message {i}" for i in range(30)]
    items = [{"event_type": "message.in", "content": text, "session_id": "s"} for text in texts]
    response = api.post(BULK_URL, {"spirit_id": str(spirit.pk), "events": items}, format="json")
    assert response.status_code == 200, response.content

    transcript = api.get(EVENTS_URL, {"spirit_id": spirit.pk, "session_id": "s", "limit": 100})
    transcript = transcript.json()["results"]
    assert [e["content"] for e in transcript] == texts
    newest_first = api.get(EVENTS_URL, {"spirit_id": spirit.pk, "limit": 100}).json()["results"]
    assert [e["content"] for e in newest_first] == texts[::-1]
