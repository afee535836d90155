"""GET /api/v1/sessions/ and /api/v1/sessions/{id}/."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from events.models import SessionStatus
from events.services import events_bulk_create
from spirits.tests.factories import SpiritFactory

from .conftest import SESSIONS_URL, at, error_of
from .factories import SessionFactory

pytestmark = pytest.mark.django_db


def ingest(spirit, session_id, *minutes, event_type="message.in", tokens=2):
    events_bulk_create(
        spirit=spirit,
        items=[
            {
                "event_type": event_type,
                "content": "x",
                "session_id": session_id,
                "occurred_at": at(m),
                "token_count": tokens,
            }
            for m in minutes
        ],
    )


def test_list_sessions_newest_activity_first(api, spirit):
    ingest(spirit, "old", 1)
    ingest(spirit, "new", 5)
    ingest(spirit, "mid", 3)

    response = api.get(SESSIONS_URL, {"spirit_id": spirit.pk})

    assert response.status_code == 200
    assert [s["session_id"] for s in response.json()["results"]] == ["new", "mid", "old"]


def test_session_shows_its_counters(api, spirit):
    ingest(spirit, "s", 1, 2, event_type="message.in", tokens=3)
    ingest(spirit, "s", 3, event_type="message.out", tokens=5)

    [session] = api.get(SESSIONS_URL).json()["results"]

    assert session["event_count"] == 3
    assert (session["token_count"], session["input_token_count"]) == (11, 6)
    assert session["output_token_count"] == 5
    assert session["first_event_at"] == "2025-01-02T03:05:05Z"
    assert session["last_event_at"] == "2025-01-02T03:07:05Z"
    assert session["status"] == "active"
    assert session["spirit_id"] == str(spirit.pk)


def test_list_sessions_filters_by_status(api, spirit):
    SessionFactory(spirit=spirit, status=SessionStatus.IDLE, session_id="idle")
    SessionFactory(spirit=spirit, status=SessionStatus.ACTIVE, session_id="active")

    response = api.get(SESSIONS_URL, {"status": "idle"})

    assert [s["session_id"] for s in response.json()["results"]] == ["idle"]


@pytest.mark.parametrize(("param", "value"), [("status", "asleep"), ("spirit_id", "x")])
def test_list_sessions_with_a_malformed_filter_is_400(api, param, value):
    response = api.get(SESSIONS_URL, {param: value})

    assert response.status_code == 400
    assert param in error_of(response)["details"]


def test_list_sessions_of_another_teams_spirit_is_404(api, foreign_spirit):
    SessionFactory(spirit=foreign_spirit)

    assert api.get(SESSIONS_URL, {"spirit_id": foreign_spirit.pk}).status_code == 404


def test_list_sessions_without_spirit_id_shows_only_the_callers(other_api, spirit):
    SessionFactory(spirit=spirit)

    assert other_api.get(SESSIONS_URL).json()["count"] == 0


def test_list_sessions_hides_sessions_of_soft_deleted_spirits(api, team):
    SessionFactory(spirit=SpiritFactory(team=team, deleted_at=timezone.now()))

    assert api.get(SESSIONS_URL).json()["count"] == 0


@pytest.mark.parametrize("limit", ["0", "201", "x"])
def test_list_sessions_with_limit_out_of_bounds_is_400(api, limit):
    assert api.get(SESSIONS_URL, {"limit": limit}).status_code == 400


@pytest.mark.parametrize("n", [2, 20])
def test_list_sessions_query_count_does_not_grow(api, spirit, n, django_assert_max_num_queries):
    SessionFactory.create_batch(n, spirit=spirit)

    with django_assert_max_num_queries(5):
        response = api.get(SESSIONS_URL, {"spirit_id": spirit.pk})

    assert response.json()["count"] == n


def test_get_session_by_its_uuid(api, spirit):
    session = SessionFactory(spirit=spirit)

    response = api.get(f"{SESSIONS_URL}{session.pk}/")

    assert response.status_code == 200
    assert response.json()["session_id"] == session.session_id


def test_get_another_teams_session_is_404(other_api, spirit):
    session = SessionFactory(spirit=spirit)

    assert other_api.get(f"{SESSIONS_URL}{session.pk}/").status_code == 404


@pytest.mark.parametrize("bad", [str(uuid.uuid4()), "not-a-uuid"])
def test_get_unknown_session_is_404(api, bad):
    assert api.get(f"{SESSIONS_URL}{bad}/").status_code == 404


def test_creating_a_session_through_the_api_is_405(api):
    assert api.post(SESSIONS_URL, {}, format="json").status_code == 405


def test_deleting_a_session_through_the_api_is_405(api, spirit):
    session = SessionFactory(spirit=spirit)

    assert api.delete(f"{SESSIONS_URL}{session.pk}/").status_code == 405
