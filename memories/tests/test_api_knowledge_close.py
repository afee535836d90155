"""POST /api/v1/knowledge/{id}/close/: a fact that stops being true is closed, not erased."""

import uuid

import pytest

from memories.models import AuditEntry
from memories.tests.factories import KnowledgeFactory
from spirits.tests.factories import SpiritFactory

pytestmark = pytest.mark.django_db


def close(api, item, **body):
    return api.post(f"/api/v1/knowledge/{item.pk}/close/", body, format="json")


def test_close_sets_valid_to_and_successor_and_logs_with_the_reason(api, spirit):
    old, new = KnowledgeFactory(spirit=spirit), KnowledgeFactory(spirit=spirit)
    response = close(api, old, superseded_by_id=str(new.pk), reason="moved to Lyon")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["valid_to"] is not None and body["superseded_by_id"] == str(new.pk)
    assert body["is_current"] is False
    entry = AuditEntry.objects.get(object_id=old.pk)
    assert (entry.action, entry.reason, entry.actor_type) == ("close", "moved to Lyon", "api_key")


def test_closed_item_leaves_the_current_list_but_stays_readable(api, spirit):
    item = KnowledgeFactory(spirit=spirit)
    close(api, item)
    current = api.get("/api/v1/knowledge/", {"spirit_id": str(spirit.pk), "current": "true"})
    assert current.json()["count"] == 0
    assert api.get(f"/api/v1/knowledge/{item.pk}/").status_code == 200


def test_closing_twice_is_400(api, spirit):
    item = KnowledgeFactory(spirit=spirit)
    close(api, item)
    response = close(api, item)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_successor_of_another_team_is_400_naming_the_field(api, spirit):
    item = KnowledgeFactory(spirit=spirit)
    foreign = KnowledgeFactory(spirit=SpiritFactory())
    response = close(api, item, superseded_by_id=str(foreign.pk))
    assert response.status_code == 400
    assert "superseded_by_id" in response.json()["error"]["details"]
    item.refresh_from_db()
    assert item.valid_to is None


def test_successor_sent_as_a_json_number_is_400_naming_the_field(api, spirit):
    item = KnowledgeFactory(spirit=spirit)
    KnowledgeFactory(spirit=spirit, id=uuid.UUID(int=5))
    response = close(api, item, superseded_by_id=5)
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["superseded_by_id"]
    item.refresh_from_db()
    assert item.valid_to is None


def test_unknown_body_field_is_400(api, spirit):
    response = close(api, KnowledgeFactory(spirit=spirit), valid_until="2030-01-01T00:00:00Z")
    assert response.status_code == 400
    assert "valid_until" in response.json()["error"]["details"]


def test_another_teams_item_cannot_be_closed(other_api, spirit):
    item = KnowledgeFactory(spirit=spirit)
    assert close(other_api, item).status_code == 404
    item.refresh_from_db()
    assert item.valid_to is None
