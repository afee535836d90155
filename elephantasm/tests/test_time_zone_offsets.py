"""An offset PostgreSQL cannot take (beyond ±15:59; Python's datetime takes up to ±23:59) is a
400 naming the field wherever the API reads a moment, never a 500 ("time zone displacement out
of range": the probe's finding); a real one (+14:00) is fine."""

from __future__ import annotations

import pytest
from django.utils import timezone

from elephantasm.tests.test_api_core import assert_error

pytestmark = pytest.mark.django_db
BAD = "2026-01-01T00:00:00-23:14"
GOOD = "2026-01-01T00:00:00+14:00"


def event(spirit, at: str) -> dict:
    return {
        "spirit_id": str(spirit.pk),
        "event_type": "message.in",
        "content": "hi",
        "occurred_at": at,
    }


def test_occurred_at_of_one_event(api, spirit):
    error = assert_error(
        api.post("/api/v1/events/", event(spirit, BAD), format="json"), 400, "validation_error"
    )

    assert "offset" in error["details"]["occurred_at"][0]
    assert api.post("/api/v1/events/", event(spirit, GOOD), format="json").status_code == 201


def test_occurred_at_in_a_bulk_call_is_that_items_error(api, spirit):
    response = api.post(
        "/api/v1/events/bulk/",
        {"spirit_id": str(spirit.pk), "events": [event(spirit, BAD), event(spirit, GOOD)]},
        format="json",
    )

    assert response.status_code in (200, 207)
    first, second = response.json()["results"]
    assert first["status"] == "error" and "occurred_at" in first["error"]["details"]
    assert second["status"] == "created"


@pytest.mark.parametrize("path", ["/api/v1/events/", "/api/v1/events/count/", "/api/v1/memories/"])
@pytest.mark.parametrize("name", ["occurred_after", "occurred_before"])
def test_list_filters(api, spirit, path, name):
    error = assert_error(api.get(path, {name: BAD}), 400, "validation_error")

    assert name in error["details"]
    assert api.get(path, {name: GOOD}).status_code == 200


def test_history_as_of(api, spirit):
    created = api.post(
        "/api/v1/memories/",
        {"spirit_id": str(spirit.pk), "content": "Ada lives in Lisbon."},
        format="json",
    )
    path = f"/api/v1/memories/{created.json()['id']}/history/"

    error = assert_error(api.get(path, {"as_of": BAD}), 400, "validation_error")

    assert "offset" in error["details"]["as_of"][0]
    now_in_kiribati = timezone.now().astimezone(timezone.get_fixed_timezone(14 * 60))
    assert api.get(path, {"as_of": now_in_kiribati.isoformat()}).status_code == 200
