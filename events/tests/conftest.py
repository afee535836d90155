"""Fixtures and helpers of the events tests (the shared ones are in the root conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

EVENTS_URL = "/api/v1/events/"
BULK_URL = "/api/v1/events/bulk/"
COUNT_URL = "/api/v1/events/count/"
SESSIONS_URL = "/api/v1/sessions/"

T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def at(minutes: float) -> datetime:
    """A fixed, timezone-aware time `minutes` after T0."""
    return T0 + timedelta(minutes=minutes)


def iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def event_url(event_id) -> str:
    return f"{EVENTS_URL}{event_id}/"


def item(**overrides) -> dict:
    """One event as the API takes it (without spirit_id)."""
    data = {"event_type": "message.in", "role": "user", "content": "hello there"}
    data.update(overrides)
    return data


@pytest.fixture
def payload(spirit):
    """A valid POST /events/ body for `spirit`, with overrides: payload(content="...")."""

    def make(**overrides) -> dict:
        return {"spirit_id": str(spirit.pk), **item(**overrides)}

    return make


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]
