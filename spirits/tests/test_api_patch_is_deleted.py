"""PATCH /api/v1/spirits/{id}/ with `is_deleted`: a soft delete (owner role, as DELETE) or a
restore (admin role, as POST .../restore/), with the events, alone or with other fields."""

from __future__ import annotations

import pytest

from events.models import Event
from events.tests.factories import EventFactory
from spirits.models import Spirit
from spirits.services import spirit_soft_delete
from teams.models import Role

pytestmark = pytest.mark.django_db

URL = "/api/v1/spirits/"


def patch(client, spirit, body):
    return client.patch(f"{URL}{spirit.pk}/", body, format="json")


def deleted(spirit) -> bool:
    return Spirit.all_objects.get(pk=spirit.pk).deleted_at is not None


def error(response) -> dict:
    return response.json()["error"]


def test_a_spirit_shows_is_deleted(api, spirit):
    assert api.get(f"{URL}{spirit.pk}/").json()["is_deleted"] is False


def test_is_deleted_true_soft_deletes_the_spirit_and_its_events(api, spirit):
    EventFactory.create_batch(2, spirit=spirit)

    response = patch(api, spirit, {"is_deleted": True})

    assert response.status_code == 200
    assert response.json()["is_deleted"] is True
    deleted_at = Spirit.all_objects.get(pk=spirit.pk).deleted_at
    assert deleted_at is not None
    assert set(Event.all_objects.filter(spirit=spirit).values_list("deleted_at", flat=True)) == {
        deleted_at
    }
    assert api.get(f"{URL}{spirit.pk}/").status_code == 404


def test_is_deleted_false_restores_the_spirit_and_its_events(api, spirit):
    events = EventFactory.create_batch(2, spirit=spirit)
    spirit_soft_delete(spirit=spirit)

    response = patch(api, spirit, {"is_deleted": False})

    assert response.status_code == 200
    assert response.json()["is_deleted"] is False
    assert not deleted(spirit)
    assert api.get(f"{URL}{spirit.pk}/").status_code == 200
    assert set(Event.objects.filter(spirit=spirit)) == set(events)


def test_restore_and_a_change_apply_together(api, spirit):
    spirit_soft_delete(spirit=spirit)

    response = patch(api, spirit, {"is_deleted": False, "name": "back again"})

    assert response.status_code == 200
    spirit.refresh_from_db()
    assert (spirit.deleted_at, spirit.name) == (None, "back again")


def test_a_change_then_delete_apply_together(api, spirit):
    response = patch(api, spirit, {"is_deleted": True, "description": "retired"})

    assert response.status_code == 200
    stored = Spirit.all_objects.get(pk=spirit.pk)
    assert stored.deleted_at is not None
    assert stored.description == "retired"


def test_a_failing_change_rolls_the_restore_back(api, spirit):
    EventFactory(spirit=spirit)
    spirit_soft_delete(spirit=spirit)

    # An unknown setting is refused: nothing of the PATCH is kept, the restore included.
    response = patch(api, spirit, {"is_deleted": False, "config": {"no_such_setting": 1}})

    assert response.status_code == 400
    assert deleted(spirit)
    assert not Event.objects.filter(spirit=spirit).exists()


def test_is_deleted_false_on_a_live_spirit_is_200_and_changes_nothing(api, spirit):
    before = Spirit.objects.get(pk=spirit.pk).updated_at

    response = patch(api, spirit, {"is_deleted": False})

    assert response.status_code == 200
    assert Spirit.objects.get(pk=spirit.pk).updated_at == before


def test_a_deleted_spirit_is_404_to_a_patch_that_does_not_restore_it(api, spirit):
    spirit_soft_delete(spirit=spirit)

    assert patch(api, spirit, {"name": "x"}).status_code == 404
    assert patch(api, spirit, {"is_deleted": True}).status_code == 404


def test_soft_delete_by_patch_needs_the_owner_role(role_api, spirit):
    response = patch(role_api(Role.ADMIN), spirit, {"is_deleted": True, "name": "x"})

    assert response.status_code == 403
    assert error(response)["code"] == "permission_denied"
    assert error(response)["details"] == {"required_role": "owner", "role": "admin"}
    spirit.refresh_from_db()
    assert (spirit.deleted_at, spirit.name == "x") == (None, False)


def test_restore_by_patch_needs_the_admin_role(role_api, spirit):
    spirit_soft_delete(spirit=spirit)

    response = patch(role_api(Role.MEMBER), spirit, {"is_deleted": False})

    assert response.status_code == 403
    assert error(response)["details"] == {"required_role": "admin", "role": "member"}
    assert deleted(spirit)


def test_an_admin_may_restore_by_patch(role_api, spirit):
    spirit_soft_delete(spirit=spirit)

    assert patch(role_api(Role.ADMIN), spirit, {"is_deleted": False}).status_code == 200
    assert not deleted(spirit)


def test_an_owner_may_delete_by_patch(role_api, spirit):
    assert patch(role_api(Role.OWNER), spirit, {"is_deleted": True}).status_code == 200
    assert deleted(spirit)


@pytest.mark.parametrize("value", ["true", 1, None])
def test_is_deleted_must_be_a_json_boolean(api, spirit, value):
    response = patch(api, spirit, {"is_deleted": value})

    assert response.status_code == 400
    assert "is_deleted" in error(response)["details"]
    assert not deleted(spirit)


def test_a_new_spirit_may_not_name_is_deleted(api):
    response = api.post(URL, {"name": "new", "is_deleted": True}, format="json")

    assert response.status_code == 400
    assert "is_deleted" in error(response)["details"]


def test_another_teams_spirit_is_404_to_a_restoring_patch(other_api, spirit):
    spirit_soft_delete(spirit=spirit)

    assert patch(other_api, spirit, {"is_deleted": False}).status_code == 404
    assert deleted(spirit)
