"""events.services.event_create and events_bulk_create, called directly."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from elephantasm.api.errors import NotFound
from events.dedupe import derive_dedupe_key, derive_identity_key
from events.errors import DuplicateEvent
from events.models import Event, Session, SessionStatus
from events.services import ItemStatus, event_create, events_bulk_create

from .conftest import at
from .factories import SessionFactory

pytestmark = pytest.mark.django_db


def data(**overrides):
    values = {"event_type": "message.in", "content": "hello world", "session_id": "s"}
    values.update(overrides)
    return values


def test_event_create_stores_the_event(spirit):
    event = event_create(spirit=spirit, data=data(occurred_at=at(0)))

    stored = Event.objects.get()
    assert stored.pk == event.pk
    assert (stored.content, stored.occurred_at, stored.token_count) == ("hello world", at(0), 2)


def test_event_create_derives_the_dedupe_key_from_source_uri(spirit):
    event = event_create(spirit=spirit, data=data(source_uri="file:///a", occurred_at=at(0)))

    assert event.dedupe_key == derive_dedupe_key(
        spirit_id=spirit.pk,
        event_type="message.in",
        content="hello world",
        occurred_at=at(0),
        source_uri="file:///a",
    )


def test_event_create_keeps_a_given_dedupe_key_over_the_source_uri(spirit):
    event = event_create(spirit=spirit, data=data(source_uri="file:///a", dedupe_key="mine"))

    assert event.dedupe_key == "mine"


def test_event_create_without_key_or_source_uri_derives_one_from_its_identity(spirit):
    event = event_create(spirit=spirit, data=data())

    assert event.dedupe_key == derive_identity_key(
        spirit_id=spirit.pk,
        event_type="message.in",
        role="",
        session_id="s",
        content="hello world",
        occurred_at=event.occurred_at,
    )


def test_empty_dedupe_key_means_derive_one(spirit):
    event_create(spirit=spirit, data=data(dedupe_key=""))
    event_create(spirit=spirit, data=data(dedupe_key=""))

    keys = list(Event.objects.values_list("dedupe_key", flat=True))
    assert len(set(keys)) == 2
    assert all(keys)


def test_event_create_raises_duplicate_with_the_existing_id(spirit):
    first = event_create(spirit=spirit, data=data(dedupe_key="k"))

    with pytest.raises(DuplicateEvent) as raised:
        event_create(spirit=spirit, data=data(dedupe_key="k"))

    assert raised.value.existing_id == first.pk
    assert raised.value.details == {"existing_id": str(first.pk), "existing_deleted": False}


def test_a_soft_deleted_event_still_holds_its_dedupe_key(spirit):
    first = event_create(spirit=spirit, data=data(dedupe_key="k"))
    Event.all_objects.filter(pk=first.pk).update(deleted_at=timezone.now())

    with pytest.raises(DuplicateEvent) as raised:
        event_create(spirit=spirit, data=data(dedupe_key="k"))

    assert raised.value.existing_id == first.pk


def test_event_create_refuses_an_unknown_field_writing_nothing(spirit):
    with pytest.raises(ValidationError) as raised:
        event_create(spirit=spirit, data=data(colour="red"))

    assert set(raised.value.message_dict) == {"colour"}
    assert not Event.all_objects.exists()


def test_event_create_reports_every_invalid_field(spirit):
    with pytest.raises(ValidationError) as raised:
        event_create(
            spirit=spirit,
            data=data(content=" ", metadata={"a": "\x00"}, importance_score=3, event_type="x"),
        )

    assert set(raised.value.message_dict) == {
        "content",
        "metadata",
        "importance_score",
        "event_type",
    }


def test_event_create_refuses_a_naive_time(spirit):
    with pytest.raises(ValidationError) as raised:
        event_create(spirit=spirit, data=data(occurred_at=at(0).replace(tzinfo=None)))

    assert "occurred_at" in raised.value.message_dict


@override_settings(EVENT_CONTENT_MAX_CHARS=10)
def test_event_create_refuses_content_over_the_limit(spirit):
    with pytest.raises(ValidationError) as raised:
        event_create(spirit=spirit, data=data(content="x" * 11))

    assert "content" in raised.value.message_dict


def test_event_create_for_a_soft_deleted_spirit_raises_not_found(spirit):
    spirit.deleted_at = timezone.now()
    spirit.save()

    with pytest.raises(NotFound):
        event_create(spirit=spirit, data=data())

    assert not Event.all_objects.exists()


def test_event_create_raises_the_spirits_last_activity_to_the_latest_event(spirit):
    event_create(spirit=spirit, data=data(occurred_at=at(10)))
    event_create(spirit=spirit, data=data(occurred_at=at(5)))

    spirit.refresh_from_db()
    assert spirit.last_activity_at == at(10)


def test_event_create_opens_a_session_with_its_counters(spirit):
    event_create(spirit=spirit, data=data(occurred_at=at(3), token_count=7))

    session = Session.objects.get()
    assert (session.spirit_id, session.session_id, session.status) == (spirit.pk, "s", "active")
    assert (session.event_count, session.token_count, session.input_token_count) == (1, 7, 7)
    assert (session.first_event_at, session.last_event_at) == (at(3), at(3))


def test_session_counters_split_tokens_by_direction(spirit):
    event_create(spirit=spirit, data=data(event_type="message.in", token_count=1))
    event_create(spirit=spirit, data=data(event_type="message.out", token_count=10))
    event_create(spirit=spirit, data=data(event_type="tool.result", token_count=100))

    session = Session.objects.get()
    assert (session.token_count, session.input_token_count, session.output_token_count) == (
        111,
        1,
        10,
    )


def test_session_first_and_last_event_times_widen_with_out_of_order_events(spirit):
    for minute in (5, 1, 9, 3):
        event_create(spirit=spirit, data=data(occurred_at=at(minute)))

    session = Session.objects.get()
    assert (session.first_event_at, session.last_event_at) == (at(1), at(9))


def test_event_without_session_id_has_no_session(spirit):
    event_create(spirit=spirit, data=data(session_id=""))

    assert not Session.objects.exists()


def test_ingest_into_an_idle_session_makes_it_active(spirit):
    SessionFactory(spirit=spirit, session_id="s", status=SessionStatus.IDLE)

    event_create(spirit=spirit, data=data())

    assert Session.objects.get().status == SessionStatus.ACTIVE


def test_ingest_into_a_closed_session_leaves_it_closed(spirit):
    SessionFactory(spirit=spirit, session_id="s", status=SessionStatus.CLOSED)

    event_create(spirit=spirit, data=data())

    assert Session.objects.get().status == SessionStatus.CLOSED


def test_bulk_returns_one_result_per_item_in_order(spirit):
    results = events_bulk_create(
        spirit=spirit,
        items=[data(dedupe_key="a"), data(content=""), data(dedupe_key="a"), data()],
    )

    assert [(r.index, r.status) for r in results] == [
        (0, ItemStatus.CREATED),
        (1, ItemStatus.ERROR),
        (2, ItemStatus.DUPLICATE),
        (3, ItemStatus.CREATED),
    ]
    assert results[2].id == results[0].id
    assert "content" in results[1].errors


def test_bulk_reports_an_existing_event_as_the_duplicates_id(spirit):
    existing = event_create(spirit=spirit, data=data(dedupe_key="a"))

    [result] = events_bulk_create(spirit=spirit, items=[data(dedupe_key="a")])

    assert (result.status, result.id) == (ItemStatus.DUPLICATE, existing.pk)


def test_bulk_of_only_invalid_items_writes_nothing(spirit):
    results = events_bulk_create(spirit=spirit, items=[data(content=""), data(event_type="?")])

    assert {r.status for r in results} == {ItemStatus.ERROR}
    assert not Event.all_objects.exists()
    spirit.refresh_from_db()
    assert spirit.last_activity_at is None


def test_bulk_session_counters_count_only_created_events(spirit):
    event_create(spirit=spirit, data=data(dedupe_key="a", token_count=5))

    events_bulk_create(
        spirit=spirit,
        items=[data(dedupe_key="a", token_count=5), data(token_count=6), data(token_count=7)],
    )

    session = Session.objects.get()
    assert (session.event_count, session.token_count) == (3, 18)


def test_bulk_query_count_does_not_depend_on_the_batch_size(spirit, django_assert_num_queries):
    items = [data(content=f"m{i}", dedupe_key=f"k{i}") for i in range(200)]

    # savepoint, spirit lock+touch, arrival numbers, insert, key lookup, session upsert, release
    with django_assert_num_queries(7):
        events_bulk_create(spirit=spirit, items=items)
