"""The memory API: create, get, PATCH, DELETE, restore, validation and scoping."""

import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from events.tests.factories import EventFactory
from memories.models import AuditEntry, Memory
from memories.services import memories as svc
from memories.tests.factories import MemoryFactory
from spirits.tests.factories import SpiritFactory
from teams.actors import Actor

pytestmark = pytest.mark.django_db

URL = "/api/v1/memories/"
ACTOR = Actor.system("test")


def detail(memory, suffix: str = "") -> str:
    return f"{URL}{memory.pk}/{suffix}"


def error(response, status: int, code: str = "validation_error") -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()["error"]
    assert body["code"] == code
    return body


def send(client, method: str, url: str, body) -> object:
    """Raw JSON (ASCII-escaped), so bodies may hold what the test client cannot encode."""
    return client.generic(method, url, data=json.dumps(body), content_type="application/json")


def make(spirit, **data):
    tags = data.pop("tags", ())
    return svc.memory_create(spirit=spirit, data={"content": "c", **data}, tags=tags, actor=ACTOR)


# --- create --------------------------------------------------------------------------------------


def test_create_returns_201_with_the_memory(api, spirit):
    response = api.post(
        URL,
        {
            "spirit_id": str(spirit.pk),
            "content": "Likes tea.",
            "importance": 0.9,
            "tags": ["b", "a"],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["spirit_id"] == str(spirit.pk)
    assert (body["content"], body["importance"], body["tags"]) == ("Likes tea.", 0.9, ["a", "b"])
    assert body["source_type"] == "explicit" and body["status"] == "active"
    assert Memory.objects.filter(pk=body["id"], spirit=spirit).exists()


def test_create_logs_the_api_key_as_actor_with_the_reason(api, api_key, spirit):
    response = api.post(
        URL, {"spirit_id": str(spirit.pk), "content": "x", "reason": "user said so"}, format="json"
    )
    entry = AuditEntry.objects.get(object_id=response.json()["id"])
    assert (entry.action, entry.actor_type, entry.actor_id) == (
        "create",
        "api_key",
        str(api_key.pk),
    )
    assert entry.reason == "user said so"


def test_create_as_a_session_user_logs_the_user_as_actor(user_api, member, spirit):
    response = user_api.post(URL, {"spirit_id": str(spirit.pk), "content": "x"}, format="json")
    assert response.status_code == 201
    entry = AuditEntry.objects.get(object_id=response.json()["id"])
    assert (entry.actor_type, entry.actor_id) == ("user", str(member.pk))


def test_create_links_event_ids_as_provenance_and_takes_their_time_span(api, spirit):
    first = EventFactory(spirit=spirit, occurred_at=timezone.now() - timedelta(hours=2))
    last = EventFactory(spirit=spirit)
    response = api.post(
        URL,
        {"spirit_id": str(spirit.pk), "content": "x", "event_ids": [str(first.pk), str(last.pk)]},
        format="json",
    )
    assert response.status_code == 201
    memory = Memory.objects.get(pk=response.json()["id"])
    assert set(memory.events.all()) == {first, last}
    assert (memory.time_start, memory.time_end) == (first.occurred_at, last.occurred_at)


@pytest.mark.parametrize("source_type", ["explicit", "extraction", "feedback", "system"])
def test_create_refuses_a_source_type_because_it_is_always_explicit(api, spirit, source_type):
    body = {"spirit_id": str(spirit.pk), "content": "x", "source_type": source_type}
    err = error(api.post(URL, body, format="json"), 400)
    assert list(err["details"]) == ["source_type"]
    assert not Memory.all_objects.exists()


def test_create_relates_the_memory_to_related_ids(api, spirit):
    first, second = make(spirit), make(spirit)
    related = [str(first.pk), str(second.pk)]
    body = {"spirit_id": str(spirit.pk), "content": "x", "related_ids": related}
    response = api.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["related_ids"] == sorted([str(first.pk), str(second.pk)])
    memory = Memory.objects.get(pk=response.json()["id"])
    assert set(memory.related_to.all()) == {first, second}
    entry = AuditEntry.objects.get(object_id=memory.pk)
    assert entry.after["related_to"] == sorted([str(first.pk), str(second.pk)])


@pytest.mark.parametrize("whose", ["other spirit", "deleted"])
def test_create_with_related_ids_not_live_of_the_spirit_is_400_naming_them(
    api, team, spirit, whose
):
    if whose == "deleted":
        other = svc.memory_soft_delete(memory=make(spirit), actor=ACTOR)
    else:
        other = make(SpiritFactory(team=team))
    body = {"spirit_id": str(spirit.pk), "content": "x", "related_ids": [str(other.pk)]}
    err = error(api.post(URL, body, format="json"), 400)
    assert list(err["details"]) == ["related_ids"]
    assert Memory.all_objects.count() == 1


def test_create_with_a_spirit_of_another_team_is_404(api, foreign_spirit):
    response = api.post(URL, {"spirit_id": str(foreign_spirit.pk), "content": "x"}, format="json")
    error(response, 404, "not_found")
    assert not Memory.all_objects.exists()


def test_create_with_a_deleted_spirit_is_404(api, team):
    spirit = SpiritFactory(team=team, deleted_at=timezone.now())
    response = api.post(URL, {"spirit_id": str(spirit.pk), "content": "x"}, format="json")
    error(response, 404, "not_found")


def test_create_with_an_event_of_another_spirit_is_400_naming_event_ids(api, spirit):
    foreign_event = EventFactory()
    body = {"spirit_id": str(spirit.pk), "content": "x", "event_ids": [str(foreign_event.pk)]}
    err = error(api.post(URL, body, format="json"), 400)
    assert "event_ids" in err["details"]
    assert not Memory.all_objects.exists() and not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"content": "nul\x00here"}, "content"),
        ({"summary": "lone \ud800 surrogate"}, "summary"),
        ({"metadata": {"deep": ["a\x00b"]}}, "metadata"),
        ({"metadata": ["not", "an", "object"]}, "metadata"),
        ({"importance": 1.5}, "importance"),
        ({"importance": -0.1}, "importance"),
        ({"importance": "high"}, "importance"),
        ({"importance": True}, "importance"),
        ({"importance": "0.5"}, "importance"),
        ({"content": 12}, "content"),
        ({"tags": [1]}, "tags"),
        ({"reason": 5}, "reason"),
        ({"pinned": "sometimes"}, "pinned"),
        ({"pinned": "yes"}, "pinned"),
        ({"pinned": "true"}, "pinned"),
        ({"pinned": 1}, "pinned"),
        ({"pinned": 0}, "pinned"),
        ({"pinned": None}, "pinned"),
        ({"spirit_id": 5}, "spirit_id"),
        ({"event_ids": [5]}, "event_ids"),
        ({"related_ids": [5]}, "related_ids"),
        ({"related_ids": ["not-a-uuid"]}, "related_ids"),
        ({"related_ids": "not-a-list"}, "related_ids"),
        ({"tags": "not-a-list"}, "tags"),
        ({"tags": ["x" * 65]}, "tags"),
        ({"memory_type": "dream"}, "memory_type"),
        ({"status": "superseded"}, "status"),
        ({"source_type": "consolidation"}, "source_type"),
        ({"event_ids": ["not-a-uuid"]}, "event_ids"),
        ({"time_start": "yesterday"}, "time_start"),
        ({"access_count": 9}, "access_count"),
        ({"version": 3}, "version"),
        ({"colour": "blue"}, "colour"),
        ({"content": ""}, "content"),
    ],
)
def test_create_with_an_invalid_field_is_400_naming_it_and_writes_nothing(
    api, spirit, extra, field
):
    body = {"spirit_id": str(spirit.pk), "content": "x", **extra}
    err = error(send(api, "POST", URL, body), 400)
    assert field in err["details"]
    assert not Memory.all_objects.exists() and not AuditEntry.objects.exists()


@pytest.mark.parametrize("field", ["spirit_id", "event_ids", "related_ids"])
def test_create_refuses_ids_sent_as_json_numbers_naming_the_field(api, team, field):
    # Each number is the int form of a real row's UUID: coerced, it would match.
    spirit = SpiritFactory(team=team, id=uuid.UUID(int=5))
    EventFactory(spirit=spirit, id=uuid.UUID(int=6))
    MemoryFactory(spirit=spirit, id=uuid.UUID(int=7))
    numbers = {"spirit_id": 5, "event_ids": [6], "related_ids": [7]}
    body = {"spirit_id": str(spirit.pk), "content": "x", field: numbers[field]}
    err = error(api.post(URL, body, format="json"), 400)
    assert list(err["details"]) == [field]
    assert Memory.all_objects.count() == 1


def test_create_without_content_is_400(api, spirit):
    err = error(api.post(URL, {"spirit_id": str(spirit.pk)}, format="json"), 400)
    assert "content" in err["details"]


def test_create_with_a_time_span_ending_before_it_starts_is_400(api, spirit):
    now = timezone.now()
    body = {
        "spirit_id": str(spirit.pk),
        "content": "x",
        "time_start": now.isoformat(),
        "time_end": (now - timedelta(days=1)).isoformat(),
    }
    error(api.post(URL, body, format="json"), 400)
    assert not Memory.all_objects.exists()


def test_create_with_a_json_array_body_is_400(api):
    error(api.post(URL, [{"content": "x"}], format="json"), 400)


def test_create_without_credentials_is_401():
    error(APIClient().post(URL, {"content": "x"}, format="json"), 401, "not_authenticated")


# --- get ------------------------------------------------------------------------------------------


def test_get_returns_the_memory(api, spirit):
    memory = make(spirit, tags=["x"])
    body = api.get(detail(memory)).json()
    assert (body["id"], body["tags"], body["version"]) == (str(memory.pk), ["x"], 1)


def test_get_of_a_deleted_memory_is_404_unless_include_deleted(api, spirit):
    memory = MemoryFactory(spirit=spirit, deleted_at=timezone.now())
    error(api.get(detail(memory)), 404, "not_found")
    assert api.get(detail(memory), {"include_deleted": "true"}).status_code == 200


def test_get_of_another_teams_memory_is_404(other_api, spirit):
    error(other_api.get(detail(MemoryFactory(spirit=spirit))), 404, "not_found")


def test_get_with_a_malformed_id_is_404(api):
    assert api.get(f"{URL}not-a-uuid/").status_code == 404


# --- PATCH ---------------------------------------------------------------------------------------


def test_patch_changes_editable_fields_and_logs_the_reason(api, spirit):
    memory = make(spirit)
    body = {"content": "new", "importance": 0.2, "tier": "warm", "reason": "fix"}
    response = api.patch(detail(memory), body, format="json")
    assert response.status_code == 200
    assert (response.json()["content"], response.json()["tier"]) == ("new", "warm")
    entry = AuditEntry.objects.filter(object_id=memory.pk).last()
    assert (entry.action, entry.reason, entry.before["content"]) == ("update", "fix", "c")


def test_patch_tags_replaces_them(api, spirit):
    memory = make(spirit, tags=["old", "keep"])
    response = api.patch(detail(memory), {"tags": ["keep", "new"]}, format="json")
    assert response.json()["tags"] == ["keep", "new"]


@pytest.mark.parametrize("pinned", [True, False])
def test_create_takes_json_booleans_for_pinned(api, spirit, pinned):
    body = {"spirit_id": str(spirit.pk), "content": "x", "pinned": pinned}
    assert api.post(URL, body, format="json").json()["pinned"] is pinned


def test_get_shows_the_live_related_memories(api, spirit):
    kept, gone = make(spirit), make(spirit)
    memory = svc.memory_create(
        spirit=spirit, data={"content": "x"}, related_ids=[kept.pk, gone.pk], actor=ACTOR
    )
    svc.memory_soft_delete(memory=gone, actor=ACTOR)
    assert api.get(detail(memory)).json()["related_ids"] == [str(kept.pk)]
    assert api.get(detail(kept)).json()["related_ids"] == [str(memory.pk)]
    assert api.get(detail(make(spirit))).json()["related_ids"] == []


def test_patch_related_ids_replaces_the_related_memories_and_logs_it(api, spirit):
    old, new = make(spirit), make(spirit)
    memory = svc.memory_create(
        spirit=spirit, data={"content": "x"}, related_ids=[old.pk], actor=ACTOR
    )
    body = {"related_ids": [str(new.pk)], "reason": "relink"}
    response = api.patch(detail(memory), body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["related_ids"] == [str(new.pk)]
    assert list(memory.related_to.all()) == [new]
    entry = AuditEntry.objects.filter(object_id=memory.pk).last()
    assert (entry.action, entry.reason) == ("update", "relink")
    assert (entry.before["related_to"], entry.after["related_to"]) == ([str(old.pk)], [str(new.pk)])


def test_patch_with_empty_related_ids_clears_them(api, spirit):
    other = make(spirit)
    memory = svc.memory_create(
        spirit=spirit, data={"content": "x"}, related_ids=[other.pk], actor=ACTOR
    )
    response = api.patch(detail(memory), {"related_ids": []}, format="json")
    assert response.json()["related_ids"] == []
    assert not memory.related_to.exists()


def test_patch_without_related_ids_keeps_them(api, spirit):
    other = make(spirit)
    memory = svc.memory_create(
        spirit=spirit, data={"content": "x"}, related_ids=[other.pk], actor=ACTOR
    )
    response = api.patch(detail(memory), {"content": "y"}, format="json")
    assert response.json()["related_ids"] == [str(other.pk)]


def test_patch_with_a_related_memory_of_another_spirit_is_400_and_changes_nothing(
    api, team, spirit
):
    memory = make(spirit)
    foreign = make(SpiritFactory(team=team))
    body = {"content": "changed", "related_ids": [str(foreign.pk)]}
    err = error(api.patch(detail(memory), body, format="json"), 400)
    assert list(err["details"]) == ["related_ids"]
    memory.refresh_from_db()
    assert memory.content == "c" and not memory.related_to.exists()


def test_patch_refuses_related_ids_sent_as_json_numbers(api, spirit):
    memory = make(spirit)
    MemoryFactory(spirit=spirit, id=uuid.UUID(int=7))
    err = error(api.patch(detail(memory), {"related_ids": [7]}, format="json"), 400)
    assert list(err["details"]) == ["related_ids"]
    assert not memory.related_to.exists()


@pytest.mark.parametrize("pinned", ["yes", "no", "true", 1, 0, "on"])
def test_patch_pinned_must_be_a_json_boolean(api, spirit, pinned):
    memory = make(spirit)
    err = error(send(api, "PATCH", detail(memory), {"pinned": pinned}), 400)
    assert list(err["details"]) == ["pinned"]
    memory.refresh_from_db()
    assert memory.pinned is False


def test_patch_can_unarchive_with_status_active(api, spirit):
    memory = MemoryFactory(spirit=spirit, status="archived")
    assert api.patch(detail(memory), {"status": "active"}, format="json").json()["status"] == (
        "active"
    )


@pytest.mark.parametrize(
    "body",
    [
        {"spirit_id": "00000000-0000-0000-0000-000000000000"},
        {"source_type": "system"},
        {"version": 9},
        {"superseded_by_id": None},
        {"created_at": "2020-01-01T00:00:00Z"},
        {"status": "archived"},
        {"importance": 2},
        {"summary": "a\x00b"},
        {"related_ids": [5]},
        {"event_ids": []},
    ],
)
def test_patch_refuses_read_only_unknown_or_invalid_fields_and_changes_nothing(api, spirit, body):
    memory = make(spirit)
    err = error(send(api, "PATCH", detail(memory), {"content": "changed", **body}), 400)
    assert set(body) <= set(err["details"])
    memory.refresh_from_db()
    assert memory.content == "c"
    assert list(
        AuditEntry.objects.filter(object_id=memory.pk).values_list("action", flat=True)
    ) == ["create"]


def test_patch_of_a_deleted_memory_is_404(api, spirit):
    memory = MemoryFactory(spirit=spirit, deleted_at=timezone.now())
    error(api.patch(detail(memory), {"content": "x"}, format="json"), 404, "not_found")


def test_patch_by_another_team_is_404_and_changes_nothing(other_api, spirit):
    memory = make(spirit)
    error(other_api.patch(detail(memory), {"content": "x"}, format="json"), 404, "not_found")
    memory.refresh_from_db()
    assert memory.content == "c"


# --- DELETE and restore --------------------------------------------------------------------------


def test_delete_soft_deletes_with_204_and_hides_the_memory(api, spirit):
    memory = make(spirit)
    response = api.delete(detail(memory))
    assert response.status_code == 204
    assert Memory.all_objects.get(pk=memory.pk).deleted_at is not None
    assert api.get(detail(memory)).status_code == 404


def test_delete_records_the_reason_from_the_query_string(api, spirit):
    memory = make(spirit)
    api.delete(detail(memory) + "?reason=obsolete")
    assert AuditEntry.objects.filter(object_id=memory.pk).last().reason == "obsolete"


def test_delete_records_the_reason_from_the_body(api, spirit):
    memory = make(spirit)
    api.delete(detail(memory), {"reason": "duplicate"}, format="json")
    assert AuditEntry.objects.filter(object_id=memory.pk).last().reason == "duplicate"


def test_delete_by_another_team_is_404_and_deletes_nothing(other_api, spirit):
    memory = make(spirit)
    error(other_api.delete(detail(memory)), 404, "not_found")
    assert Memory.objects.filter(pk=memory.pk).exists()


def test_restore_brings_a_deleted_memory_back(api, spirit):
    memory = svc.memory_soft_delete(memory=make(spirit), actor=ACTOR)
    response = api.post(detail(memory, "restore/"), {"reason": "oops"}, format="json")
    assert response.status_code == 200
    assert response.json()["deleted_at"] is None
    assert AuditEntry.objects.filter(object_id=memory.pk).last().action == "restore"


def test_restore_by_another_team_is_404(other_api, spirit):
    memory = svc.memory_soft_delete(memory=make(spirit), actor=ACTOR)
    error(other_api.post(detail(memory, "restore/")), 404, "not_found")
    assert Memory.objects.filter(pk=memory.pk).count() == 0


def test_restore_of_a_memory_of_a_deleted_spirit_is_404(api, team):
    spirit = SpiritFactory(team=team)
    memory = svc.memory_soft_delete(memory=make(spirit), actor=ACTOR)
    spirit.deleted_at = timezone.now()
    spirit.save()
    error(api.post(detail(memory, "restore/")), 404, "not_found")


def test_a_memory_written_through_the_api_is_embedded_and_extracted_after_commit(
    api, spirit, sent_tasks, django_capture_on_commit_callbacks
):
    from pipeline import flow

    embeds = sent_tasks(flow.EMBED_STALE)
    extractions = sent_tasks(flow.EXTRACT_MEMORIES, lambda args, countdown: args[0])
    body = {"spirit_id": str(spirit.pk), "content": "Ada moved to Porto in May."}
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/memories/", body, format="json")
    assert response.status_code == 201, response.content
    memory_id = response.json()["id"]
    assert embeds == [("memories.memory", [memory_id])]
    assert extractions == [[memory_id]]

    with django_capture_on_commit_callbacks(execute=True):
        changed = {"content": "Ada moved to Braga in June."}
        assert (
            api.patch(f"/api/v1/memories/{memory_id}/", changed, format="json").status_code == 200
        )
    assert len(embeds) == 2 and extractions[-1] == [memory_id]
