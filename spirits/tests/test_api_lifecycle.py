"""The spirit API's soft delete, restore and stats."""

from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import Event, EventType
from events.tests.factories import EventFactory
from spirits.models import Spirit
from spirits.tests.factories import SpiritFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/spirits/"


def detail(spirit, suffix: str = "") -> str:
    return f"{URL}{spirit.id}/{suffix}"


def test_delete_is_204_and_hides_the_spirit(api, spirit):
    response = api.delete(detail(spirit))
    assert response.status_code == 204
    assert response.content == b""
    assert api.get(detail(spirit)).status_code == 404
    assert Spirit.all_objects.get(pk=spirit.pk).deleted_at is not None


def test_delete_cascades_to_the_events_with_the_spirits_timestamp(api, spirit):
    EventFactory.create_batch(2, spirit=spirit)
    api.delete(detail(spirit))
    deleted_at = Spirit.all_objects.get(pk=spirit.pk).deleted_at
    assert set(Event.all_objects.filter(spirit=spirit).values_list("deleted_at", flat=True)) == {
        deleted_at
    }


def test_delete_another_teams_spirit_is_404_and_keeps_it(api, foreign_spirit):
    assert api.delete(detail(foreign_spirit)).status_code == 404
    assert Spirit.objects.filter(pk=foreign_spirit.pk).exists()


def test_delete_an_already_deleted_spirit_is_404(api, spirit):
    api.delete(detail(spirit))
    assert api.delete(detail(spirit)).status_code == 404


def test_restore_is_200_and_brings_back_exactly_the_cascaded_events(api, spirit):
    earlier = timezone.now() - timedelta(days=1)
    deleted_on_its_own = EventFactory(spirit=spirit, deleted_at=earlier)
    cascaded = EventFactory.create_batch(2, spirit=spirit)
    api.delete(detail(spirit))

    response = api.post(detail(spirit, "restore/"))

    assert response.status_code == 200
    assert response.json()["id"] == str(spirit.id)
    assert response.json()["deleted_at"] is None
    assert api.get(detail(spirit)).status_code == 200
    assert set(Event.objects.filter(spirit=spirit)) == set(cascaded)
    deleted_on_its_own.refresh_from_db()
    assert deleted_on_its_own.deleted_at == earlier


def test_restore_a_live_spirit_is_200_and_changes_nothing(api, spirit):
    response = api.post(detail(spirit, "restore/"))
    assert response.status_code == 200
    assert response.json()["deleted_at"] is None


def test_restore_another_teams_spirit_is_404(api, other_api, spirit):
    api.delete(detail(spirit))
    assert other_api.post(detail(spirit, "restore/")).status_code == 404
    assert Spirit.all_objects.get(pk=spirit.pk).deleted_at is not None


def test_stats_report_events_by_type_sessions_and_activity(api, spirit):
    t0 = timezone.now() - timedelta(hours=5)
    EventFactory(spirit=spirit, event_type=EventType.MESSAGE_IN, session_id="a", occurred_at=t0)
    EventFactory(
        spirit=spirit,
        event_type=EventType.TOOL_RESULT,
        session_id="b",
        occurred_at=t0 + timedelta(hours=1),
    )
    response = api.get(detail(spirit, "stats/"))
    assert response.status_code == 200
    body = response.json()
    assert body["events_by_type"] == {
        "message.in": 1,
        "message.out": 0,
        "tool.call": 0,
        "tool.result": 1,
        "system": 0,
    }
    assert body["event_count"] == 2
    assert body["session_count"] == 2
    assert body["first_activity_at"] == t0.isoformat().replace("+00:00", "Z")
    assert body["last_activity_at"] == (t0 + timedelta(hours=1)).isoformat().replace("+00:00", "Z")


def test_stats_run_in_a_fixed_number_of_queries(api, spirit, django_assert_max_num_queries):
    api.get(detail(spirit, "stats/"))  # records the key's use
    with django_assert_max_num_queries(40) as few:
        assert api.get(detail(spirit, "stats/")).status_code == 200
    EventFactory.create_batch(20, spirit=spirit)
    with django_assert_max_num_queries(len(few.captured_queries)):  # as many with more events
        assert api.get(detail(spirit, "stats/")).status_code == 200


def test_stats_of_another_teams_spirit_are_404(api, foreign_spirit):
    assert api.get(detail(foreign_spirit, "stats/")).status_code == 404


def test_stats_of_a_deleted_spirit_need_include_deleted(api, team):
    gone = SpiritFactory(team=team, deleted_at=timezone.now())
    assert api.get(detail(gone, "stats/")).status_code == 404
    assert api.get(detail(gone, "stats/"), {"include_deleted": "true"}).status_code == 200
