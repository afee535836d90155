"""event_update, soft delete and restore (one event, or a spirit's), and session recompute."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from events.models import Event, Session
from events.services import (
    event_create,
    event_restore,
    event_soft_delete,
    event_update,
    events_restore_for_spirit,
    events_soft_delete_for_spirit,
    sessions_recompute,
)

from .conftest import at
from .factories import EventFactory

pytestmark = pytest.mark.django_db


def make(spirit, minute, *, session_id="s", event_type="message.in", tokens=1):
    return event_create(
        spirit=spirit,
        data={
            "event_type": event_type,
            "content": "x",
            "session_id": session_id,
            "occurred_at": at(minute),
            "token_count": tokens,
        },
    )


def counters(session_id="s"):
    s = Session.objects.get(session_id=session_id)
    return (
        s.event_count,
        s.token_count,
        s.input_token_count,
        s.output_token_count,
        s.first_event_at,
        s.last_event_at,
    )


def test_event_update_changes_only_the_given_fields(spirit):
    event = make(spirit, 0)

    event_update(event=event, data={"importance_score": 0.7})

    event.refresh_from_db()
    assert (event.importance_score, event.meta_summary, event.metadata) == (0.7, "", {})


def test_event_update_refuses_other_fields(spirit):
    event = make(spirit, 0)

    with pytest.raises(ValidationError) as raised:
        event_update(event=event, data={"content": "rewritten"})

    assert "content" in raised.value.message_dict
    event.refresh_from_db()
    assert event.content == "x"


@pytest.mark.parametrize(
    ("field", "value"),
    [("importance_score", 1.5), ("metadata", ["a"]), ("metadata", {"k": float("nan")})],
)
def test_event_update_refuses_invalid_values(spirit, field, value):
    event = make(spirit, 0)

    with pytest.raises(ValidationError) as raised:
        event_update(event=event, data={field: value})

    assert field in raised.value.message_dict


def test_soft_delete_recomputes_the_session_from_live_events(spirit):
    first = make(spirit, 1, tokens=2)
    make(spirit, 2, event_type="message.out", tokens=3)
    make(spirit, 3, tokens=4)

    event_soft_delete(event=first)

    assert counters() == (2, 7, 4, 3, at(2), at(3))


def test_soft_delete_of_the_last_live_event_zeroes_the_session(spirit):
    event = make(spirit, 1, tokens=2)

    event_soft_delete(event=event)

    assert counters() == (0, 0, 0, 0, None, None)


def test_soft_delete_twice_keeps_the_first_deletion_time(spirit):
    event = make(spirit, 1)
    first = event_soft_delete(event=event).deleted_at

    again = event_soft_delete(event=Event.all_objects.get(pk=event.pk))

    assert again.deleted_at == first
    assert counters()[0] == 0


def test_restore_counts_the_event_again(spirit):
    event = make(spirit, 1, tokens=2)
    make(spirit, 2, tokens=3)
    event_soft_delete(event=event)

    restored = event_restore(event=event)

    assert restored.deleted_at is None
    assert counters() == (2, 5, 5, 0, at(1), at(2))


def test_restore_of_a_live_event_changes_nothing(spirit):
    event = make(spirit, 1, tokens=2)

    event_restore(event=event)

    assert counters() == (1, 2, 2, 0, at(1), at(1))


def test_soft_delete_of_an_event_without_session_touches_no_session(spirit):
    event = make(spirit, 1, session_id="")

    event_soft_delete(event=event)

    assert not Session.objects.exists()


def test_spirit_cascade_soft_deletes_live_events_at_exactly_the_given_time(spirit):
    make(spirit, 1)
    make(spirit, 2, session_id="t")
    when = timezone.now()

    count = events_soft_delete_for_spirit(spirit=spirit, deleted_at=when)

    assert count == 2
    assert set(Event.all_objects.values_list("deleted_at", flat=True)) == {when}
    assert counters("s")[0] == counters("t")[0] == 0


def test_spirit_cascade_leaves_already_deleted_events_alone(spirit):
    earlier = event_soft_delete(event=make(spirit, 1))
    make(spirit, 2)

    count = events_soft_delete_for_spirit(spirit=spirit, deleted_at=timezone.now())

    assert count == 1
    assert Event.all_objects.get(pk=earlier.pk).deleted_at == earlier.deleted_at


def test_spirit_restore_brings_back_only_the_cascaded_events(spirit):
    alone = event_soft_delete(event=make(spirit, 1, tokens=5))
    make(spirit, 2, tokens=3)
    when = timezone.now()
    events_soft_delete_for_spirit(spirit=spirit, deleted_at=when)

    count = events_restore_for_spirit(spirit=spirit, deleted_at=when)

    assert count == 1
    assert Event.all_objects.get(pk=alone.pk).deleted_at is not None
    assert counters() == (1, 3, 3, 0, at(2), at(2))


def test_spirit_cascade_does_not_touch_other_spirits(spirit, foreign_spirit):
    make(foreign_spirit, 1)

    events_soft_delete_for_spirit(spirit=spirit, deleted_at=timezone.now())

    assert Event.objects.filter(spirit=foreign_spirit).count() == 1


def test_recompute_creates_a_missing_session_from_its_events(spirit):
    EventFactory(spirit=spirit, session_id="raw", occurred_at=at(1), token_count=4)
    EventFactory(spirit=spirit, session_id="raw", occurred_at=at(2), token_count=6)

    sessions_recompute(spirit_id=spirit.pk)

    assert counters("raw") == (2, 10, 10, 0, at(1), at(2))


def test_recompute_repairs_drifted_counters(spirit):
    make(spirit, 1, tokens=2)
    Session.objects.update(event_count=99, token_count=99, first_event_at=None)

    sessions_recompute(spirit_id=spirit.pk, session_ids=["s"])

    assert counters() == (1, 2, 2, 0, at(1), at(1))
