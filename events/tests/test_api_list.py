"""GET /api/v1/events/ and /api/v1/events/count/: filters, ordering, pagination, scoping."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from events.models import EventType
from spirits.tests.factories import SpiritFactory

from .conftest import COUNT_URL, EVENTS_URL, at, error_of, iso
from .factories import EventFactory

pytestmark = pytest.mark.django_db


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [e["id"] for e in response.json()["results"]]


def test_list_returns_newest_first_with_pagination_envelope(api, spirit):
    old = EventFactory(spirit=spirit, occurred_at=at(1))
    new = EventFactory(spirit=spirit, occurred_at=at(2))

    response = api.get(EVENTS_URL, {"spirit_id": spirit.pk})

    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    assert ids(response) == [str(new.pk), str(old.pk)]


def test_list_breaks_ties_on_occurred_at_by_arrival_newest_first(api, spirit):
    events = [EventFactory(spirit=spirit, occurred_at=at(1)) for _ in range(4)]

    response = api.get(EVENTS_URL, {"spirit_id": spirit.pk})

    assert ids(response) == [str(e.pk) for e in reversed(events)]


def test_list_of_one_session_is_chronological(api, spirit):
    later = EventFactory(spirit=spirit, session_id="s", occurred_at=at(2))
    earlier = EventFactory(spirit=spirit, session_id="s", occurred_at=at(1))
    EventFactory(spirit=spirit, session_id="other", occurred_at=at(3))

    response = api.get(EVENTS_URL, {"spirit_id": spirit.pk, "session_id": "s"})

    assert ids(response) == [str(earlier.pk), str(later.pk)]


def test_list_filters_by_event_type(api, spirit):
    call = EventFactory(spirit=spirit, event_type=EventType.TOOL_CALL)
    EventFactory(spirit=spirit, event_type=EventType.MESSAGE_IN)

    assert ids(api.get(EVENTS_URL, {"event_type": "tool.call"})) == [str(call.pk)]


def test_list_filters_by_min_importance_leaving_out_unscored_events(api, spirit):
    high = EventFactory(spirit=spirit, importance_score=0.8)
    EventFactory(spirit=spirit, importance_score=0.2)
    EventFactory(spirit=spirit, importance_score=None)
    edge = EventFactory(spirit=spirit, importance_score=0.5, occurred_at=at(-5))

    assert ids(api.get(EVENTS_URL, {"min_importance": "0.5"})) == [str(high.pk), str(edge.pk)]


def test_list_filters_strictly_between_occurred_after_and_before(api, spirit):
    for minute in (1, 2, 3, 4):
        EventFactory(spirit=spirit, occurred_at=at(minute), content=f"m{minute}")

    response = api.get(EVENTS_URL, {"occurred_after": iso(at(1)), "occurred_before": iso(at(4))})

    assert [e["content"] for e in response.json()["results"]] == ["m3", "m2"]


def test_list_accepts_an_unencoded_plus_in_a_time_offset(api, spirit):
    EventFactory(spirit=spirit, occurred_at=at(10))

    response = api.get(f"{EVENTS_URL}?occurred_after=2025-01-02T05:04:05+02:00")

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_list_hides_soft_deleted_events(api, spirit):
    live = EventFactory(spirit=spirit)
    EventFactory(spirit=spirit, deleted_at=timezone.now())

    assert ids(api.get(EVENTS_URL)) == [str(live.pk)]


def test_list_with_include_deleted_shows_soft_deleted_events(api, spirit):
    EventFactory(spirit=spirit)
    EventFactory(spirit=spirit, deleted_at=timezone.now())

    assert api.get(EVENTS_URL, {"include_deleted": "true"}).json()["count"] == 2


def test_list_without_spirit_id_hides_events_of_soft_deleted_spirits(api, team, spirit):
    gone = SpiritFactory(team=team, deleted_at=timezone.now())
    EventFactory(spirit=gone)
    live = EventFactory(spirit=spirit)

    assert ids(api.get(EVENTS_URL)) == [str(live.pk)]


def test_list_of_a_soft_deleted_spirit_is_404(api, team):
    gone = SpiritFactory(team=team, deleted_at=timezone.now())
    EventFactory(spirit=gone)

    assert api.get(EVENTS_URL, {"spirit_id": gone.pk}).status_code == 404


def test_list_of_a_soft_deleted_spirit_with_include_deleted_shows_its_events(api, team):
    gone = SpiritFactory(team=team, deleted_at=timezone.now())
    EventFactory(spirit=gone)

    response = api.get(EVENTS_URL, {"spirit_id": gone.pk, "include_deleted": "true"})

    assert response.json()["count"] == 1


def test_list_without_spirit_id_covers_all_the_callers_spirits_only(api, team, spirit):
    second = SpiritFactory(team=team)
    mine = {str(EventFactory(spirit=spirit).pk), str(EventFactory(spirit=second).pk)}
    EventFactory()  # another team's

    assert set(ids(api.get(EVENTS_URL))) == mine


def test_list_for_another_teams_spirit_is_404(api, foreign_spirit):
    EventFactory(spirit=foreign_spirit)

    response = api.get(EVENTS_URL, {"spirit_id": foreign_spirit.pk})

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_list_for_unknown_spirit_is_404(api):
    assert api.get(EVENTS_URL, {"spirit_id": uuid.uuid4()}).status_code == 404


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("spirit_id", "nope"),
        ("event_type", "message.sideways"),
        ("min_importance", "high"),
        ("min_importance", "1.5"),
        ("occurred_after", "yesterday"),
        ("occurred_before", "2025-01-02T03:04:05"),
        ("include_deleted", "perhaps"),
        ("session_id", "a\x00b"),
        ("session_id", "s" * 256),
    ],
)
def test_list_with_a_malformed_filter_is_400_naming_it(api, param, value):
    response = api.get(EVENTS_URL, {param: value})

    assert response.status_code == 400
    assert param in error_of(response)["details"]


@pytest.mark.parametrize("limit", ["0", "201", "x", "-1"])
def test_list_with_limit_out_of_bounds_is_400(api, spirit, limit):
    response = api.get(EVENTS_URL, {"limit": limit})

    assert response.status_code == 400
    assert "limit" in error_of(response)["details"]


def test_list_with_negative_offset_is_400(api):
    response = api.get(EVENTS_URL, {"offset": "-1"})

    assert response.status_code == 400
    assert "offset" in error_of(response)["details"]


def test_list_defaults_to_50_per_page(api, spirit):
    EventFactory.create_batch(51, spirit=spirit)

    body = api.get(EVENTS_URL).json()

    assert len(body["results"]) == 50
    assert body["next"] is not None


def test_list_pages_with_limit_and_offset(api, spirit):
    for minute in range(5):
        EventFactory(spirit=spirit, occurred_at=at(minute), content=f"m{minute}")

    body = api.get(EVENTS_URL, {"limit": 2, "offset": 1}).json()

    assert [e["content"] for e in body["results"]] == ["m3", "m2"]
    assert body["count"] == 5
    assert body["previous"] is not None


def test_list_accepts_limit_200(api, spirit):
    assert api.get(EVENTS_URL, {"limit": 200}).status_code == 200


@pytest.mark.parametrize("n", [3, 30])
def test_list_query_count_does_not_grow_with_the_page(
    api, spirit, n, django_assert_max_num_queries
):
    EventFactory.create_batch(n, spirit=spirit)

    with django_assert_max_num_queries(5):  # key, key last-used, spirit, count, page
        response = api.get(EVENTS_URL, {"spirit_id": spirit.pk, "limit": 200})

    assert len(response.json()["results"]) == n


def test_count_returns_the_number_of_matching_events(api, spirit):
    EventFactory.create_batch(3, spirit=spirit, event_type=EventType.SYSTEM)
    EventFactory(spirit=spirit, event_type=EventType.TOOL_CALL)

    response = api.get(COUNT_URL, {"spirit_id": spirit.pk, "event_type": "system"})

    assert response.status_code == 200
    assert response.json() == {"count": 3}


def test_count_excludes_soft_deleted_events(api, spirit):
    EventFactory(spirit=spirit)
    EventFactory(spirit=spirit, deleted_at=timezone.now())

    assert api.get(COUNT_URL).json() == {"count": 1}


def test_count_with_include_deleted_counts_soft_deleted_events(api, spirit):
    EventFactory(spirit=spirit)
    EventFactory(spirit=spirit, deleted_at=timezone.now())

    assert api.get(COUNT_URL, {"include_deleted": "true"}).json() == {"count": 2}


def test_count_with_a_malformed_filter_is_400(api):
    response = api.get(COUNT_URL, {"occurred_after": "soon"})

    assert response.status_code == 400
    assert "occurred_after" in error_of(response)["details"]


def test_count_for_another_teams_spirit_is_404(api, foreign_spirit):
    EventFactory(spirit=foreign_spirit)

    assert api.get(COUNT_URL, {"spirit_id": foreign_spirit.pk}).status_code == 404


def test_count_without_spirit_id_ignores_other_teams_events(other_api, spirit):
    EventFactory.create_batch(2, spirit=spirit)

    assert other_api.get(COUNT_URL).json() == {"count": 0}
