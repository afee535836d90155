"""GET|PATCH|DELETE /api/v1/events/{id}/ and POST /api/v1/events/{id}/restore/."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from events.models import Event, Session
from events.services import event_create
from spirits.tests.factories import SpiritFactory

from .conftest import EVENTS_URL, at, error_of, event_url
from .factories import EventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(spirit):
    return event_create(
        spirit=spirit,
        data={"event_type": "message.in", "content": "hi", "session_id": "s", "token_count": 4},
    )


def test_get_returns_the_event(api, event):
    response = api.get(event_url(event.pk))

    assert response.status_code == 200
    assert response.json()["id"] == str(event.pk)


def test_get_unknown_event_is_404(api):
    response = api.get(event_url(uuid.uuid4()))

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("bad", ["not-a-uuid", "123", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"])
def test_invalid_uuid_in_the_path_is_404(api, bad):
    response = api.get(f"{EVENTS_URL}{bad}/")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_get_soft_deleted_event_is_404(api, event):
    Event.all_objects.filter(pk=event.pk).update(deleted_at=timezone.now())

    assert api.get(event_url(event.pk)).status_code == 404


def test_get_soft_deleted_event_with_include_deleted_returns_it(api, event):
    Event.all_objects.filter(pk=event.pk).update(deleted_at=timezone.now())

    response = api.get(event_url(event.pk), {"include_deleted": "true"})

    assert response.status_code == 200
    assert response.json()["deleted_at"] is not None


def test_get_with_malformed_include_deleted_is_400(api, event):
    response = api.get(event_url(event.pk), {"include_deleted": "sometimes"})

    assert response.status_code == 400
    assert "include_deleted" in error_of(response)["details"]


def test_get_event_of_soft_deleted_spirit_is_404(api, team):
    gone = SpiritFactory(team=team, deleted_at=timezone.now())
    event = EventFactory(spirit=gone)

    assert api.get(event_url(event.pk)).status_code == 404


def test_patch_changes_curation_fields(api, event):
    response = api.patch(
        event_url(event.pk),
        {"meta_summary": "greeting", "importance_score": 0.9, "metadata": {"tag": "hello"}},
        format="json",
    )

    assert response.status_code == 200
    event.refresh_from_db()
    assert (event.meta_summary, event.importance_score, event.metadata) == (
        "greeting",
        0.9,
        {"tag": "hello"},
    )
    assert response.json()["importance_score"] == 0.9


def test_patch_may_clear_the_importance_score(api, event):
    api.patch(event_url(event.pk), {"importance_score": 0.5}, format="json")

    response = api.patch(event_url(event.pk), {"importance_score": None}, format="json")

    assert response.json()["importance_score"] is None


@pytest.mark.parametrize("field", ["content", "event_type", "session_id", "occurred_at", "id"])
def test_patch_of_any_other_field_is_400_naming_it(api, event, field):
    response = api.patch(event_url(event.pk), {field: "x", "meta_summary": "y"}, format="json")

    assert response.status_code == 400
    assert field in error_of(response)["details"]
    event.refresh_from_db()
    assert event.meta_summary == ""


@pytest.mark.parametrize(
    ("field", "value"),
    [("importance_score", 2), ("metadata", [1]), ("metadata", {"k\x00": 1}), ("meta_summary", 5)],
)
def test_patch_with_an_invalid_value_is_400(api, event, field, value):
    response = api.patch(event_url(event.pk), {field: value}, format="json")

    assert response.status_code == 400
    assert field in error_of(response)["details"]


def test_patch_of_soft_deleted_event_is_404(api, event):
    Event.all_objects.filter(pk=event.pk).update(deleted_at=timezone.now())

    response = api.patch(event_url(event.pk), {"meta_summary": "x"}, format="json")

    assert response.status_code == 404


def test_put_is_405(api, event):
    response = api.put(event_url(event.pk), {"meta_summary": "x"}, format="json")

    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_delete_soft_deletes_with_204(api, event):
    response = api.delete(event_url(event.pk))

    assert response.status_code == 204
    assert Event.all_objects.get(pk=event.pk).deleted_at is not None


def test_delete_drops_the_event_from_its_session_counters(api, event):
    api.delete(event_url(event.pk))

    session = Session.objects.get(session_id="s")
    assert (session.event_count, session.token_count, session.input_token_count) == (0, 0, 0)


def test_delete_of_a_deleted_event_is_404(api, event):
    api.delete(event_url(event.pk))

    assert api.delete(event_url(event.pk)).status_code == 404


def test_restore_brings_the_event_back_with_200(api, event):
    api.delete(event_url(event.pk))

    response = api.post(f"{event_url(event.pk)}restore/")

    assert response.status_code == 200
    assert response.json()["deleted_at"] is None
    assert api.get(event_url(event.pk)).status_code == 200


def test_restore_counts_the_event_in_its_session_again(api, event):
    api.delete(event_url(event.pk))

    api.post(f"{event_url(event.pk)}restore/")

    session = Session.objects.get(session_id="s")
    assert (session.event_count, session.token_count, session.input_token_count) == (1, 4, 4)


def test_restore_of_a_live_event_is_200_and_changes_nothing(api, event):
    response = api.post(f"{event_url(event.pk)}restore/")

    assert response.status_code == 200
    assert Session.objects.get(session_id="s").event_count == 1


def test_restore_of_unknown_event_is_404(api):
    assert api.post(f"{event_url(uuid.uuid4())}restore/").status_code == 404


@pytest.mark.parametrize(
    "call",
    [
        lambda client, url: client.get(url),
        lambda client, url: client.get(url, {"include_deleted": "true"}),
        lambda client, url: client.patch(url, {"meta_summary": "x"}, format="json"),
        lambda client, url: client.delete(url),
        lambda client, url: client.post(f"{url}restore/"),
    ],
    ids=["get", "get-include-deleted", "patch", "delete", "restore"],
)
def test_another_teams_event_is_404_and_unchanged(other_api, event, call):
    response = call(other_api, event_url(event.pk))

    assert response.status_code == 404
    event.refresh_from_db()
    assert (event.meta_summary, event.deleted_at) == ("", None)


def test_restore_of_another_teams_deleted_event_is_404(other_api, api, event):
    api.delete(event_url(event.pk))

    assert other_api.post(f"{event_url(event.pk)}restore/").status_code == 404
    assert Event.all_objects.get(pk=event.pk).deleted_at is not None


def test_event_times_are_rendered_in_utc(api, spirit):
    event = EventFactory(spirit=spirit, occurred_at=at(0))

    assert api.get(event_url(event.pk)).json()["occurred_at"] == "2025-01-02T03:04:05Z"
