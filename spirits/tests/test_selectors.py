from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import EventType
from events.selectors import spirit_stats
from events.tests.factories import EventFactory
from spirits.tests.factories import SpiritFactory

pytestmark = pytest.mark.django_db


def test_stats_of_a_spirit_without_events_are_zero_with_every_type(spirit):
    assert spirit_stats(spirit=spirit) == {
        "events_by_type": dict.fromkeys(EventType.values, 0),
        "event_count": 0,
        "session_count": 0,
        "first_activity_at": None,
        "last_activity_at": None,
    }


def test_stats_count_live_events_by_type_sessions_and_activity(
    spirit, team, django_assert_num_queries
):
    t0 = timezone.now() - timedelta(days=3)
    EventFactory(spirit=spirit, event_type=EventType.MESSAGE_IN, session_id="a", occurred_at=t0)
    at = {"occurred_at": t0 + timedelta(hours=1)}
    EventFactory(spirit=spirit, event_type=EventType.MESSAGE_IN, session_id="a", **at)
    EventFactory(spirit=spirit, event_type=EventType.MESSAGE_OUT, session_id="b", **at)
    EventFactory(
        spirit=spirit,
        event_type=EventType.TOOL_CALL,
        session_id="",
        occurred_at=t0 + timedelta(days=2),
    )
    # not counted: a deleted event (the earliest and latest) and another spirit's event
    gone = timezone.now()
    EventFactory(spirit=spirit, session_id="c", occurred_at=t0 - timedelta(1), deleted_at=gone)
    EventFactory(spirit=spirit, session_id="c", occurred_at=t0 + timedelta(3), deleted_at=gone)
    EventFactory(spirit=SpiritFactory(team=team), session_id="d")

    with django_assert_num_queries(1):
        stats = spirit_stats(spirit=spirit)

    assert stats["events_by_type"] == {
        "message.in": 2,
        "message.out": 1,
        "tool.call": 1,
        "tool.result": 0,
        "system": 0,
    }
    assert stats["event_count"] == 4
    assert stats["session_count"] == 2
    assert stats["first_activity_at"] == t0
    assert stats["last_activity_at"] == t0 + timedelta(days=2)
