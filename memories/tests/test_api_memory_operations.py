"""Memory operations over the API: pin, unpin, archive, dispute, supersede, split, merge."""

import json
import uuid

import pytest

from events.tests.factories import EventFactory
from memories.models import AuditEntry, Memory
from memories.services import memories as svc
from memories.tests.factories import MemoryFactory
from teams.actors import Actor

pytestmark = pytest.mark.django_db

URL = "/api/v1/memories/"
MERGE = f"{URL}merge/"
ACTOR = Actor.system("test")


def op(memory, name: str) -> str:
    return f"{URL}{memory.pk}/{name}/"


def error(response, status: int, code: str = "validation_error") -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()["error"]
    assert body["code"] == code
    return body


def make(spirit, content: str = "c", **kwargs):
    return svc.memory_create(spirit=spirit, data={"content": content}, actor=ACTOR, **kwargs)


def last_entry(memory) -> AuditEntry:
    return AuditEntry.objects.filter(object_id=memory.pk).last()


# --- pin, unpin, archive -------------------------------------------------------------------------


def test_pin_pins_the_memory_and_logs_a_pin_with_the_reason(api, spirit):
    memory = make(spirit)
    response = api.post(op(memory, "pin"), {"reason": "important"}, format="json")
    assert response.status_code == 200 and response.json()["pinned"] is True
    assert (last_entry(memory).action, last_entry(memory).reason) == ("pin", "important")


def test_pin_without_a_body_is_accepted(api, spirit):
    assert api.post(op(make(spirit), "pin")).status_code == 200


def test_unpin_unpins_the_memory(api, spirit):
    memory = svc.memory_pin(memory=make(spirit), actor=ACTOR)
    response = api.post(op(memory, "unpin"))
    assert response.status_code == 200 and response.json()["pinned"] is False
    assert last_entry(memory).action == "unpin"


def test_archive_archives_the_memory(api, spirit):
    memory = make(spirit)
    response = api.post(op(memory, "archive"))
    assert response.status_code == 200 and response.json()["status"] == "archived"


def test_archive_of_a_pinned_memory_is_400(api, spirit):
    memory = svc.memory_pin(memory=make(spirit), actor=ACTOR)
    error(api.post(op(memory, "archive")), 400)
    memory.refresh_from_db()
    assert memory.status == "active"


def test_an_operation_with_an_unknown_body_field_is_400_naming_it(api, spirit):
    memory = make(spirit)
    err = error(api.post(op(memory, "pin"), {"why": "x"}, format="json"), 400)
    assert "why" in err["details"]
    memory.refresh_from_db()
    assert memory.pinned is False


# --- dispute -------------------------------------------------------------------------------------


def test_dispute_marks_the_memory_disputed_and_links_both(api, spirit):
    memory, conflicting = make(spirit, "sky is blue"), make(spirit, "sky is green")
    body = {"conflicting_id": str(conflicting.pk), "reason": "contradiction"}
    response = api.post(op(memory, "dispute"), body, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "disputed"
    assert response.json()["contradicts"] == [str(conflicting.pk)]
    assert last_entry(memory).related_ids == [str(conflicting.pk)]


def test_dispute_with_another_teams_memory_is_400_naming_conflicting_id(api, spirit):
    memory, foreign = make(spirit), MemoryFactory()
    body = {"conflicting_id": str(foreign.pk)}
    err = error(api.post(op(memory, "dispute"), body, format="json"), 400)
    assert "conflicting_id" in err["details"]
    memory.refresh_from_db()
    assert memory.status == "active"


def test_dispute_with_a_memory_of_another_spirit_is_400(api, team, spirit):
    other = MemoryFactory(spirit__team=team)
    body = {"conflicting_id": str(other.pk)}
    error(api.post(op(make(spirit), "dispute"), body, format="json"), 400)


def test_dispute_refuses_a_conflicting_id_sent_as_a_json_number(api, spirit):
    memory = make(spirit)
    MemoryFactory(spirit=spirit, id=uuid.UUID(int=5))
    err = error(api.post(op(memory, "dispute"), {"conflicting_id": 5}, format="json"), 400)
    assert list(err["details"]) == ["conflicting_id"]
    memory.refresh_from_db()
    assert memory.status == "active"


def test_dispute_without_conflicting_id_is_400(api, spirit):
    err = error(api.post(op(make(spirit), "dispute"), {}, format="json"), 400)
    assert "conflicting_id" in err["details"]


# --- supersede -----------------------------------------------------------------------------------


def test_supersede_creates_the_new_version_with_201(api, spirit):
    event = EventFactory(spirit=spirit)
    old = make(spirit, "v1", tags=["t"], event_ids=[event.pk])
    response = api.post(op(old, "supersede"), {"content": "v2", "reason": "fix"}, format="json")
    assert response.status_code == 201
    new = response.json()
    assert (new["content"], new["version"], new["tags"]) == ("v2", 2, ["t"])
    assert list(Memory.objects.get(pk=new["id"]).events.all()) == [event]


def test_supersede_retires_the_old_version_pointing_to_the_new(api, spirit):
    old = make(spirit, "v1")
    new_id = api.post(op(old, "supersede"), {"content": "v2"}, format="json").json()["id"]
    old.refresh_from_db()
    assert (old.status, str(old.superseded_by_id)) == ("superseded", new_id)


def test_supersede_of_a_superseded_memory_is_400_and_writes_nothing(api, spirit):
    old = make(spirit, "v1")
    svc.memory_supersede(memory=old, data={"content": "v2"}, actor=ACTOR)
    count = Memory.all_objects.count()
    error(api.post(op(old, "supersede"), {"content": "v2b"}, format="json"), 400)
    assert Memory.all_objects.count() == count


def test_supersede_with_invalid_fields_is_400_and_keeps_the_old_active(api, spirit):
    old = make(spirit)
    err = error(api.post(op(old, "supersede"), {"importance": 7}, format="json"), 400)
    assert "importance" in err["details"]
    old.refresh_from_db()
    assert old.status == "active" and Memory.all_objects.count() == 1


# --- split ---------------------------------------------------------------------------------------


def test_split_returns_the_parts_with_201_and_narrows_provenance(api, spirit):
    e1, e2 = EventFactory(spirit=spirit), EventFactory(spirit=spirit)
    original = make(spirit, "a and b", event_ids=[e1.pk, e2.pk])
    body = {"parts": [{"content": "a", "event_ids": [str(e1.pk)]}, {"content": "b"}]}
    response = api.post(op(original, "split"), body, format="json")
    assert response.status_code == 201
    first, second = response.json()
    assert (first["content"], second["content"]) == ("a", "b")
    assert list(Memory.objects.get(pk=first["id"]).events.all()) == [e1]
    assert set(Memory.objects.get(pk=second["id"]).events.all()) == {e1, e2}


def test_split_supersedes_the_original_by_the_first_part(api, spirit):
    original = make(spirit, "a and b")
    body = {"parts": [{"content": "a"}, {"content": "b"}], "reason": "two facts"}
    first = api.post(op(original, "split"), body, format="json").json()[0]
    original.refresh_from_db()
    assert (original.status, str(original.superseded_by_id)) == ("superseded", first["id"])
    assert (last_entry(original).action, last_entry(original).reason) == ("split", "two facts")


def test_split_into_one_part_is_400(api, spirit):
    original = make(spirit)
    err = error(api.post(op(original, "split"), {"parts": [{"content": "a"}]}, format="json"), 400)
    assert "parts" in err["details"]


@pytest.mark.parametrize(
    "bad_part", [{"content": ""}, {"content": "x", "importance": 3}, {"content": "x", "pin": 1}]
)
def test_split_with_an_invalid_part_is_400_and_writes_nothing(api, spirit, bad_part):
    original = make(spirit)
    body = json.dumps({"parts": [{"content": "a"}, bad_part]})
    response = api.generic("POST", op(original, "split"), body, content_type="application/json")
    err = error(response, 400)
    assert "parts" in err["details"]
    assert Memory.all_objects.count() == 1


def test_split_refuses_a_parts_event_ids_sent_as_json_numbers(api, spirit):
    event = EventFactory(spirit=spirit, id=uuid.UUID(int=5))
    original = make(spirit, event_ids=[event.pk])
    body = {"parts": [{"content": "a", "event_ids": [5]}, {"content": "b"}]}
    err = error(api.post(op(original, "split"), body, format="json"), 400)
    assert list(err["details"]) == ["parts"]
    assert Memory.all_objects.count() == 1


# --- merge ---------------------------------------------------------------------------------------


def test_merge_creates_the_merged_memory_with_201(api, spirit):
    a = make(spirit, "a", tags=["x"])
    b = make(spirit, "b", tags=["y"])
    body = {"memory_ids": [str(a.pk), str(b.pk)], "reason": "duplicates"}
    response = api.post(MERGE, body, format="json")
    assert response.status_code == 201
    merged = response.json()
    assert (merged["tags"], merged["source_type"]) == (["x", "y"], "consolidation")
    for source in (a, b):
        source.refresh_from_db()
        assert (source.status, str(source.superseded_by_id)) == ("superseded", merged["id"])


def test_merge_takes_given_fields_for_the_merged_memory(api, spirit):
    a, b = make(spirit, "a"), make(spirit, "b")
    body = {"memory_ids": [str(a.pk), str(b.pk)], "content": "a+b", "summary": "both"}
    merged = api.post(MERGE, body, format="json").json()
    assert (merged["content"], merged["summary"]) == ("a+b", "both")


def test_merge_logs_one_entry_naming_all_sources(api, spirit):
    a, b = make(spirit, "a"), make(spirit, "b")
    before = AuditEntry.objects.count()
    api.post(MERGE, {"memory_ids": [str(a.pk), str(b.pk)]}, format="json")
    assert AuditEntry.objects.count() == before + 1
    assert set(AuditEntry.objects.latest("id").related_ids) == {str(a.pk), str(b.pk)}


def test_merge_with_another_teams_memory_is_400_naming_memory_ids_and_changes_nothing(api, spirit):
    mine, foreign = make(spirit), MemoryFactory()
    body = {"memory_ids": [str(mine.pk), str(foreign.pk)]}
    err = error(api.post(MERGE, body, format="json"), 400)
    assert "memory_ids" in err["details"]
    mine.refresh_from_db()
    assert mine.status == "active" and Memory.all_objects.count() == 2


def test_merge_refuses_memory_ids_sent_as_json_numbers(api, spirit):
    MemoryFactory(spirit=spirit, id=uuid.UUID(int=5))
    MemoryFactory(spirit=spirit, id=uuid.UUID(int=6))
    err = error(api.post(MERGE, {"memory_ids": [5, 6]}, format="json"), 400)
    assert list(err["details"]) == ["memory_ids"]
    assert Memory.all_objects.count() == 2
    assert not Memory.all_objects.filter(status="superseded").exists()


def test_merge_of_a_single_memory_is_400(api, spirit):
    err = error(api.post(MERGE, {"memory_ids": [str(make(spirit).pk)]}, format="json"), 400)
    assert "memory_ids" in err["details"]


def test_merge_of_the_same_memory_twice_is_400(api, spirit):
    memory = make(spirit)
    error(api.post(MERGE, {"memory_ids": [str(memory.pk)] * 2}, format="json"), 400)


# --- scoping -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("pin", {}),
        ("unpin", {}),
        ("archive", {}),
        ("supersede", {"content": "hijack"}),
        ("split", {"parts": [{"content": "a"}, {"content": "b"}]}),
        ("dispute", None),
        ("restore", {}),
        ("history", None),
        ("events", None),
    ],
)
def test_another_team_gets_404_for_every_operation_and_nothing_changes(
    other_api, spirit, name, body
):
    memory, conflicting = make(spirit), make(spirit)
    if name in ("history", "events"):
        response = other_api.get(op(memory, name))
    else:
        if name == "dispute":
            body = {"conflicting_id": str(conflicting.pk)}
        response = other_api.post(op(memory, name), body, format="json")
    error(response, 404, "not_found")
    memory.refresh_from_db()
    assert (memory.status, memory.pinned, memory.content) == ("active", False, "c")
    assert Memory.all_objects.count() == 2


def test_another_team_cannot_merge_our_memories(other_api, spirit):
    a, b = make(spirit), make(spirit)
    error(other_api.post(MERGE, {"memory_ids": [str(a.pk), str(b.pk)]}, format="json"), 400)
    assert Memory.all_objects.count() == 2


def test_operations_on_a_deleted_memory_are_404(api, spirit):
    memory = svc.memory_soft_delete(memory=make(spirit), actor=ACTOR)
    error(api.post(op(memory, "pin")), 404, "not_found")
