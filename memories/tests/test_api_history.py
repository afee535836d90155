"""GET /memories/{id}/history/: the audit entries of a memory, and ?as_of= reconstruction."""

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from memories.services import memories as svc
from teams.actors import Actor

pytestmark = pytest.mark.django_db

URL = "/api/v1/memories/"
ACTOR = Actor("user", "7", "ann")
ENTRY_FIELDS = {
    "id",
    "action",
    "object_type",
    "object_id",
    "actor_type",
    "actor_id",
    "actor_label",
    "reason",
    "related_ids",
    "before",
    "after",
    "created_at",
}


def history(memory) -> str:
    return f"{URL}{memory.pk}/history/"


def error(response, status: int, code: str = "validation_error") -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()["error"]
    assert body["code"] == code
    return body


@pytest.fixture
def memory(spirit):
    return svc.memory_create(spirit=spirit, data={"content": "v1"}, actor=ACTOR, reason="new")


def test_history_lists_every_change_in_order(api, memory):
    svc.memory_update(memory=memory, data={"content": "v2"}, actor=ACTOR, reason="typo")
    svc.memory_pin(memory=memory, actor=ACTOR)
    response = api.get(history(memory))
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["action"] for row in rows] == ["create", "update", "pin"]
    assert set(rows[0]) == ENTRY_FIELDS


def test_history_entries_carry_actor_reason_and_states(api, memory):
    svc.memory_update(memory=memory, data={"content": "v2"}, actor=ACTOR, reason="typo")
    update = api.get(history(memory)).json()["results"][1]
    assert (update["actor_type"], update["actor_id"], update["actor_label"]) == ("user", "7", "ann")
    assert update["reason"] == "typo"
    assert (update["before"]["content"], update["after"]["content"]) == ("v1", "v2")


def test_history_of_a_merged_memory_shows_the_merge_with_its_own_states(api, spirit, memory):
    other = svc.memory_create(spirit=spirit, data={"content": "b"}, actor=ACTOR)
    merged = svc.memory_merge(memories=[memory, other], actor=ACTOR, reason="dupes")
    merge = api.get(history(memory)).json()["results"][-1]
    assert (merge["action"], merge["object_id"], merge["reason"]) == (
        "merge",
        str(merged.pk),
        "dupes",
    )
    assert merge["before"]["status"] == "active"
    assert merge["after"]["status"] == "superseded"
    assert merge["after"]["superseded_by_id"] == str(merged.pk)


def test_history_pages_keep_the_before_state_of_an_entry_recorded_elsewhere(api, spirit, memory):
    svc.memory_update(memory=memory, data={"content": "v2"}, actor=ACTOR)
    other = svc.memory_create(spirit=spirit, data={"content": "b"}, actor=ACTOR)
    svc.memory_merge(memories=[memory, other], actor=ACTOR)
    page = api.get(history(memory), {"limit": 1, "offset": 2}).json()
    assert page["count"] == 3
    [merge] = page["results"]
    assert merge["action"] == "merge" and merge["before"]["content"] == "v2"


def test_history_of_a_deleted_memory_needs_include_deleted(api, memory):
    svc.memory_soft_delete(memory=memory, actor=ACTOR)
    error(api.get(history(memory)), 404, "not_found")
    rows = api.get(history(memory), {"include_deleted": "true"}).json()["results"]
    assert [row["action"] for row in rows] == ["create", "delete"]


def test_history_of_another_teams_memory_is_404(other_api, memory):
    error(other_api.get(history(memory)), 404, "not_found")


def test_as_of_returns_the_memory_as_it_was_then(api, memory):
    moment = timezone.now()
    svc.memory_update(memory=memory, data={"content": "v2"}, actor=ACTOR)
    response = api.get(history(memory), {"as_of": moment.isoformat()})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"as_of", "state"}
    assert body["state"]["content"] == "v1"


def test_as_of_now_returns_the_current_state(api, memory):
    svc.memory_update(memory=memory, data={"content": "v2"}, actor=ACTOR)
    state = api.get(history(memory), {"as_of": timezone.now().isoformat()}).json()["state"]
    assert state["content"] == "v2"


def test_as_of_before_the_memory_existed_is_404(api, memory):
    moment = memory.created_at - timedelta(days=1)
    error(api.get(history(memory), {"as_of": moment.isoformat()}), 404, "not_found")


@pytest.mark.parametrize("raw", ["yesterday", "2025-13-01T00:00:00Z", ""])
def test_as_of_that_is_not_a_timestamp_is_400_naming_as_of(api, memory, raw):
    err = error(api.get(history(memory), {"as_of": raw}), 400)
    assert "as_of" in err["details"]


def test_as_of_without_a_timezone_is_utc(api, memory):
    moment = timezone.now().astimezone(UTC).replace(tzinfo=None)
    body = api.get(history(memory), {"as_of": moment.isoformat()}).json()
    assert body["as_of"].endswith("Z") and body["state"]["content"] == "v1"


def test_as_of_with_an_unencoded_plus_offset_is_understood(api, memory):
    moment = timezone.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    response = api.get(f"{history(memory)}?as_of={moment}")  # '+' arrives as a space
    assert response.status_code == 200
    assert response.json()["state"]["content"] == "v1"


def test_as_of_of_another_teams_memory_is_404(other_api, memory):
    response = other_api.get(history(memory), {"as_of": timezone.now().isoformat()})
    error(response, 404, "not_found")
