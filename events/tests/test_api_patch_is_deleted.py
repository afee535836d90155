"""PATCH /api/v1/events/{id}/ with `is_deleted`: a soft delete or a restore, as DELETE and
POST .../restore/ do, alone or with the curation fields in one transaction."""

from __future__ import annotations

import pytest
from django.utils import timezone

from events.models import Event, Session
from events.services import event_create
from spirits.services import spirit_soft_delete
from teams.models import Role

from .conftest import error_of, event_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(spirit):
    return event_create(
        spirit=spirit,
        data={"event_type": "message.in", "content": "hi", "session_id": "s", "token_count": 4},
    )


def patch(client, event, body):
    return client.patch(event_url(event.pk), body, format="json")


def deleted(event) -> bool:
    return Event.all_objects.get(pk=event.pk).deleted_at is not None


def test_an_event_shows_is_deleted(api, event):
    assert api.get(event_url(event.pk)).json()["is_deleted"] is False


def test_is_deleted_true_soft_deletes_like_delete(api, event):
    response = patch(api, event, {"is_deleted": True})

    assert response.status_code == 200
    body = response.json()
    assert body["is_deleted"] is True
    assert body["deleted_at"] is not None
    assert deleted(event)
    assert api.get(event_url(event.pk)).status_code == 404
    assert Session.objects.get(session_id="s").event_count == 0  # as DELETE does


def test_is_deleted_false_restores_a_soft_deleted_event(api, event):
    api.delete(event_url(event.pk))

    response = patch(api, event, {"is_deleted": False})

    assert response.status_code == 200
    assert response.json()["is_deleted"] is False
    assert response.json()["deleted_at"] is None
    assert api.get(event_url(event.pk)).status_code == 200
    session = Session.objects.get(session_id="s")
    assert (session.event_count, session.token_count) == (1, 4)  # as restore does


def test_restored_event_is_listed_again(api, spirit, event):
    api.delete(event_url(event.pk))
    patch(api, event, {"is_deleted": False})

    listed = api.get("/api/v1/events/", {"spirit_id": str(spirit.pk)}).json()["results"]

    assert [e["id"] for e in listed] == [str(event.pk)]


def test_restore_and_curation_fields_apply_together(api, event):
    api.delete(event_url(event.pk))

    response = patch(api, event, {"is_deleted": False, "meta_summary": "greeting"})

    assert response.status_code == 200
    event.refresh_from_db()
    assert (event.deleted_at, event.meta_summary) == (None, "greeting")


def test_delete_and_curation_fields_apply_together(api, event):
    response = patch(api, event, {"is_deleted": True, "importance_score": 0.8})

    assert response.status_code == 200
    event.refresh_from_db()
    assert event.deleted_at is not None
    assert event.importance_score == 0.8


def test_an_invalid_field_with_a_restore_changes_nothing(api, event):
    api.delete(event_url(event.pk))

    response = patch(api, event, {"is_deleted": False, "importance_score": 2})

    assert response.status_code == 400
    assert "importance_score" in error_of(response)["details"]
    assert deleted(event)


def test_a_failing_change_rolls_the_restore_back(api, event):
    api.delete(event_url(event.pk))

    # The serializer accepts it; the service refuses a NUL in the text: one transaction.
    response = patch(api, event, {"is_deleted": False, "meta_summary": "a\x00b"})

    assert response.status_code == 400
    assert "meta_summary" in error_of(response)["details"]
    assert deleted(event)
    assert Session.objects.get(session_id="s").event_count == 0


def test_is_deleted_false_on_a_live_event_is_200_and_changes_nothing(api, event):
    before = Event.all_objects.get(pk=event.pk).updated_at

    response = patch(api, event, {"is_deleted": False})

    assert response.status_code == 200
    assert response.json()["is_deleted"] is False
    assert Event.all_objects.get(pk=event.pk).updated_at == before


def test_a_deleted_event_is_404_to_a_patch_that_does_not_restore_it(api, event):
    api.delete(event_url(event.pk))

    assert patch(api, event, {"is_deleted": True}).status_code == 404
    assert patch(api, event, {"meta_summary": "x"}).status_code == 404


@pytest.mark.parametrize("value", ["false", 0, None, "yes"])
def test_is_deleted_must_be_a_json_boolean(api, event, value):
    response = patch(api, event, {"is_deleted": value})

    assert response.status_code == 400
    assert "is_deleted" in error_of(response)["details"]
    assert not deleted(event)


def test_an_event_of_a_deleted_spirit_comes_back_only_with_its_spirit(api, spirit, event):
    spirit_soft_delete(spirit=spirit)

    assert patch(api, event, {"is_deleted": False}).status_code == 404
    assert deleted(event)


@pytest.mark.parametrize("body", [{"is_deleted": True}, {"is_deleted": False}])
def test_a_viewer_may_not_delete_or_restore_by_patch(role_api, event, body):
    if body["is_deleted"] is False:
        Event.all_objects.filter(pk=event.pk).update(deleted_at=timezone.now())
    was_deleted = deleted(event)

    response = patch(role_api(Role.VIEWER), event, body)

    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "permission_denied"
    assert error["details"] == {"required_role": "member", "role": "viewer"}
    assert deleted(event) is was_deleted


def test_a_member_may_delete_and_restore_by_patch(role_api, event):
    member = role_api(Role.MEMBER)

    assert patch(member, event, {"is_deleted": True}).status_code == 200
    assert patch(member, event, {"is_deleted": False}).status_code == 200
    assert not deleted(event)


def test_a_read_only_key_may_not_patch_is_deleted(role_api, event):
    response = patch(role_api(Role.OWNER, scopes=["read"]), event, {"is_deleted": True})

    assert response.status_code == 403
    assert error_of(response)["details"]["required_scope"] == "write"
    assert not deleted(event)


def test_another_teams_event_is_404_to_a_restoring_patch(api, other_api, event):
    api.delete(event_url(event.pk))

    assert patch(other_api, event, {"is_deleted": False}).status_code == 404
    assert deleted(event)
