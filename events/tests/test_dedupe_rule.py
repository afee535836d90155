"""The dedupe rule of the API: an event without `occurred_at` gets the server's time before its key
is derived (the specification's order), so genuinely repeated messages are never merged; with the
same time (or a dedupe_key) a repeat is a duplicate."""

from __future__ import annotations

import pytest

from events.dedupe import derive_dedupe_key, derive_event_key, derive_identity_key
from events.models import Event

from .conftest import BULK_URL, EVENTS_URL, at, error_of, iso

pytestmark = pytest.mark.django_db


def create(api, spirit, **fields):
    body = {"spirit_id": str(spirit.pk), "event_type": "message.in", "content": "ok", **fields}
    return api.post(EVENTS_URL, body, format="json")


def bulk(api, spirit, items):
    body = {"spirit_id": str(spirit.pk), "events": items}
    return api.post(BULK_URL, body, format="json").json()


def test_two_identical_messages_without_a_time_are_two_events(api, spirit):
    first = create(api, spirit)
    second = create(api, spirit)

    assert (first.status_code, second.status_code) == (201, 201)
    assert Event.objects.count() == 2
    assert first.json()["dedupe_key"] != second.json()["dedupe_key"]


def test_two_identical_messages_with_the_same_time_are_one_event(api, spirit):
    first = create(api, spirit, occurred_at=iso(at(0)))
    second = create(api, spirit, occurred_at=iso(at(0)))

    assert first.status_code == 201
    assert second.status_code == 409
    assert error_of(second)["details"]["existing_id"] == first.json()["id"]
    assert Event.objects.count() == 1


def test_the_same_source_without_a_time_is_two_events(api, spirit):
    create(api, spirit, source_uri="mail://inbox/1")

    assert create(api, spirit, source_uri="mail://inbox/1").status_code == 201
    assert Event.objects.count() == 2


def test_the_same_source_with_the_same_time_is_one_event(api, spirit):
    create(api, spirit, source_uri="mail://inbox/1", occurred_at=iso(at(0)))

    response = create(api, spirit, source_uri="mail://inbox/1", occurred_at=iso(at(0)))

    assert response.status_code == 409
    assert Event.objects.count() == 1


def test_the_same_dedupe_key_without_a_time_is_one_event(api, spirit):
    create(api, spirit, dedupe_key="client-1")

    assert create(api, spirit, dedupe_key="client-1").status_code == 409
    assert Event.objects.count() == 1


def test_a_source_key_is_the_specification_formula_over_the_assigned_time(api, spirit):
    body = create(api, spirit, source_uri="mail://inbox/1").json()

    stored = Event.objects.get()
    assert body["dedupe_key"] == derive_dedupe_key(
        spirit_id=spirit.pk,
        event_type="message.in",
        content="ok",
        occurred_at=stored.occurred_at,
        source_uri="mail://inbox/1",
    )


def test_a_key_without_a_source_is_the_identity_key_over_the_assigned_time(api, spirit):
    body = create(api, spirit, role="user", session_id="s").json()

    stored = Event.objects.get()
    assert body["dedupe_key"] == derive_identity_key(
        spirit_id=spirit.pk,
        event_type="message.in",
        role="user",
        session_id="s",
        content="ok",
        occurred_at=stored.occurred_at,
    )


def test_identical_items_without_a_time_in_one_batch_are_distinct_events(api, spirit):
    body = bulk(api, spirit, [{"event_type": "message.in", "content": "ok"}] * 3)

    assert (body["created"], body["duplicates"]) == (3, 0)
    times = list(Event.objects.order_by("arrival").values_list("occurred_at", flat=True))
    assert times == sorted(set(times))  # distinct, in input order


def test_a_batch_resent_without_times_is_recorded_again(api, spirit):
    items = [{"event_type": "message.in", "content": "ok", "source_uri": "mail://1"}]
    bulk(api, spirit, items)

    again = bulk(api, spirit, items)

    assert (again["created"], again["duplicates"]) == (1, 0)
    assert Event.objects.count() == 2


def test_identical_items_with_one_time_in_one_batch_are_one_event(api, spirit):
    item = {"event_type": "message.in", "content": "ok", "occurred_at": iso(at(0))}

    body = bulk(api, spirit, [item, item])

    assert [r["status"] for r in body["results"]] == ["created", "duplicate"]
    assert Event.objects.count() == 1


def test_the_key_follows_the_source_when_there_is_one():
    fields = {
        "spirit_id": "12345678-1234-5678-1234-567812345678",
        "event_type": "message.in",
        "role": "user",
        "session_id": "s",
        "content": "ok",
        "occurred_at": at(0),
    }
    sourced = {k: v for k, v in fields.items() if k not in ("role", "session_id")}

    assert derive_event_key(**fields, source_uri="mail://1") == derive_dedupe_key(
        **sourced, source_uri="mail://1"
    )
    assert derive_event_key(**fields, source_uri="") == derive_identity_key(**fields)
