"""POST /api/v1/events/: one event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from events.models import Event, Session
from spirits.tests.factories import SpiritFactory

from .conftest import EVENTS_URL, error_of

pytestmark = pytest.mark.django_db


def test_create_returns_201_with_the_event(api, spirit, payload):
    response = api.post(
        EVENTS_URL,
        payload(
            content="Hi, I'm Ada.",
            occurred_at="2025-01-02T03:04:05Z",
            session_id="s-1",
            metadata={"lang": "en"},
            importance_score=0.25,
        ),
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    event = Event.objects.get()
    assert body["id"] == str(event.pk)
    assert body["spirit_id"] == str(spirit.pk)
    assert body["event_type"] == "message.in"
    assert body["content"] == "Hi, I'm Ada."
    assert body["occurred_at"] == "2025-01-02T03:04:05Z"
    assert body["metadata"] == {"lang": "en"}
    assert body["importance_score"] == 0.25
    assert body["deleted_at"] is None


def test_create_estimates_token_count_when_not_given(api, payload):
    response = api.post(EVENTS_URL, payload(content="Hi, I'm Ada."), format="json")

    assert response.json()["token_count"] == 7  # Hi , I ' m Ada .


def test_create_keeps_the_token_count_the_caller_gives(api, payload):
    response = api.post(EVENTS_URL, payload(token_count=42), format="json")

    assert response.json()["token_count"] == 42


def test_create_defaults_occurred_at_to_now(api, payload):
    before = timezone.now()
    response = api.post(EVENTS_URL, payload(), format="json")
    after = timezone.now()

    event = Event.objects.get()
    assert before <= event.occurred_at <= after
    assert parse_datetime(response.json()["occurred_at"]) == event.occurred_at


def test_create_stores_an_occurred_at_with_an_offset_as_that_instant_in_utc(api, payload):
    response = api.post(EVENTS_URL, payload(occurred_at="2025-01-02T05:04:05+02:00"), format="json")

    assert response.status_code == 201, response.json()
    event = Event.objects.get()
    assert event.occurred_at == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert event.occurred_at.utcoffset() == timedelta(0)
    assert response.json()["occurred_at"] == "2025-01-02T03:04:05Z"


def test_create_keeps_content_whitespace_exactly(api, payload):
    response = api.post(EVENTS_URL, payload(content="  line 1\n  line 2\n"), format="json")

    assert response.json()["content"] == "  line 1\n  line 2\n"


def test_create_with_duplicate_dedupe_key_is_409_naming_the_existing_event(api, payload):
    first = api.post(EVENTS_URL, payload(dedupe_key="k-1"), format="json").json()

    response = api.post(EVENTS_URL, payload(dedupe_key="k-1", content="again"), format="json")

    assert response.status_code == 409
    assert error_of(response) == {
        "code": "duplicate_event",
        "message": error_of(response)["message"],
        "details": {"existing_id": first["id"], "existing_deleted": False},
    }
    assert Event.objects.count() == 1


def test_duplicate_does_not_change_session_counters(api, payload):
    api.post(EVENTS_URL, payload(dedupe_key="k-1", session_id="s"), format="json")

    api.post(EVENTS_URL, payload(dedupe_key="k-1", session_id="s"), format="json")

    assert Session.objects.get().event_count == 1


def test_same_dedupe_key_in_two_spirits_is_two_events(api, team, payload):
    other = SpiritFactory(team=team)
    api.post(EVENTS_URL, payload(dedupe_key="k-1"), format="json")

    response = api.post(
        EVENTS_URL, {**payload(dedupe_key="k-1"), "spirit_id": str(other.pk)}, format="json"
    )

    assert response.status_code == 201


def test_create_with_same_source_uri_and_content_is_a_duplicate(api, payload):
    body = payload(source_uri="slack://c/1", occurred_at="2025-01-02T03:04:05Z")
    first = api.post(EVENTS_URL, body, format="json")

    response = api.post(EVENTS_URL, body, format="json")

    assert first.status_code == 201
    assert first.json()["dedupe_key"] is not None
    assert response.status_code == 409
    assert error_of(response)["details"]["existing_id"] == first.json()["id"]


def test_create_for_unknown_spirit_is_404(api, payload):
    response = api.post(EVENTS_URL, {**payload(), "spirit_id": str(uuid.uuid4())}, format="json")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_create_for_soft_deleted_spirit_is_404(api, spirit, payload):
    spirit.deleted_at = spirit.created_at
    spirit.save()

    response = api.post(EVENTS_URL, payload(), format="json")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert not Event.all_objects.exists()


def test_create_for_another_teams_spirit_is_404(api, foreign_spirit, payload):
    response = api.post(
        EVENTS_URL, {**payload(), "spirit_id": str(foreign_spirit.pk)}, format="json"
    )

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert not Event.all_objects.exists()


def test_create_as_a_team_member_with_a_session_login_is_201(user_api, payload):
    response = user_api.post(EVENTS_URL, payload(), format="json")

    assert response.status_code == 201


def test_create_without_credentials_is_401(client, payload):
    response = client.post(EVENTS_URL, payload(), content_type="application/json")

    assert response.status_code == 401
