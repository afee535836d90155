"""Retries create nothing new: events with an explicit occurred_at get a derived identity key."""

from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import Event

pytestmark = pytest.mark.django_db
URL = "/api/v1/events/"


def item(**extra):
    return {
        "event_type": "message.in",
        "role": "user",
        "content": "Hello",
        "session_id": "s1",
        "occurred_at": "2026-01-02T03:04:05.123456Z",
        **extra,
    }


def test_resending_a_batch_without_keys_but_with_times_creates_nothing_new(api, spirit):
    batch = {"spirit_id": str(spirit.pk), "events": [item(), item(content="Bye")]}
    first = api.post(URL + "bulk/", batch, format="json").json()
    second = api.post(URL + "bulk/", batch, format="json").json()
    assert first["created"] == 2
    assert (second["created"], second["duplicates"]) == (0, 2)
    assert [r["id"] for r in second["results"]] == [r["id"] for r in first["results"]]
    assert Event.all_objects.filter(spirit=spirit).count() == 2


def test_retrying_a_single_post_with_a_time_is_a_409_with_the_first_id(api, spirit):
    body = {"spirit_id": str(spirit.pk), **item()}
    first = api.post(URL, body, format="json")
    second = api.post(URL, body, format="json")
    assert second.status_code == 409
    assert second.json()["error"]["details"]["existing_id"] == first.json()["id"]


@pytest.mark.parametrize(
    "change",
    [
        {"content": "Hello!"},
        {"session_id": "s2"},
        {"role": "assistant"},
        {"occurred_at": "2026-01-02T03:04:05.123457Z"},
    ],
)
def test_events_differing_in_content_session_role_or_time_are_distinct(api, spirit, change):
    batch = {"spirit_id": str(spirit.pk), "events": [item(), item(**change)]}
    assert api.post(URL + "bulk/", batch, format="json").json()["created"] == 2


def test_events_without_a_time_are_not_deduplicated(api, spirit):
    body = {"spirit_id": str(spirit.pk), "event_type": "message.in", "content": "ok"}
    assert api.post(URL, body, format="json").status_code == 201
    assert api.post(URL, body, format="json").status_code == 201


def test_duplicate_of_a_soft_deleted_event_says_so(api, spirit):
    body = {"spirit_id": str(spirit.pk), **item()}
    event_id = api.post(URL, body, format="json").json()["id"]
    api.delete(f"{URL}{event_id}/")
    details = api.post(URL, body, format="json").json()["error"]["details"]
    assert details == {"existing_id": event_id, "existing_deleted": True}


def test_an_event_dated_more_than_a_day_ahead_is_400(api, spirit):
    later = (timezone.now() + timedelta(days=2)).isoformat()
    response = api.post(
        URL, {"spirit_id": str(spirit.pk), **item(occurred_at=later)}, format="json"
    )
    assert response.status_code == 400
    assert "occurred_at" in response.json()["error"]["details"]
