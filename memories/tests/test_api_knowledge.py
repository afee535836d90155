"""The knowledge API: create with source memories, list and filters, PATCH, delete, history."""

import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from memories.models import AuditEntry, Knowledge
from memories.services import knowledge as svc
from memories.tests.factories import KnowledgeFactory, MemoryFactory
from spirits.tests.factories import SpiritFactory
from teams.actors import Actor

pytestmark = pytest.mark.django_db

URL = "/api/v1/knowledge/"
ACTOR = Actor.system("test")


def detail(item, suffix: str = "") -> str:
    return f"{URL}{item.pk}/{suffix}"


def error(response, status: int, code: str = "validation_error") -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()["error"]
    assert body["code"] == code
    return body


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return [row["id"] for row in response.json()["results"]]


def make(spirit, content: str = "Water boils at 100C.", **data):
    data = {"knowledge_type": "FACT", "content": content, **data}
    return svc.knowledge_create(spirit=spirit, data=data, actor=ACTOR)


# --- create --------------------------------------------------------------------------------------


def test_create_returns_201_and_links_source_memories(api, spirit):
    memory = MemoryFactory(spirit=spirit)
    body = {
        "spirit_id": str(spirit.pk),
        "knowledge_type": "FACT",
        "content": "Tea is hot.",
        "memory_ids": [str(memory.pk)],
        "reason": "observed",
    }
    response = api.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    item = Knowledge.objects.get(pk=response.json()["id"])
    assert list(item.memories.all()) == [memory]
    assert response.json()["is_current"] is True
    assert AuditEntry.objects.get(object_id=item.pk).reason == "observed"


def test_create_with_memories_of_another_team_is_400_naming_memory_ids(api, spirit):
    body = {
        "spirit_id": str(spirit.pk),
        "knowledge_type": "FACT",
        "content": "x",
        "memory_ids": [str(MemoryFactory().pk)],
    }
    err = error(api.post(URL, body, format="json"), 400)
    assert "memory_ids" in err["details"]
    assert not Knowledge.all_objects.exists()


def test_create_with_a_spirit_of_another_team_is_404(api, foreign_spirit):
    body = {"spirit_id": str(foreign_spirit.pk), "knowledge_type": "FACT", "content": "x"}
    error(api.post(URL, body, format="json"), 404, "not_found")
    assert not Knowledge.all_objects.exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"knowledge_type": "RUMOUR"}, "knowledge_type"),
        ({"confidence": 1.01}, "confidence"),
        ({"confidence": "sure"}, "confidence"),
        ({"topic": "a\x00b"}, "topic"),
        ({"source_type": "internet"}, "source_type"),
        ({"valid_to": "soon"}, "valid_to"),
        ({"superseded_by_id": None}, "superseded_by_id"),
        ({"embedding": [0.1]}, "embedding"),
    ],
)
def test_create_with_an_invalid_field_is_400_naming_it_and_writes_nothing(
    api, spirit, extra, field
):
    body = {"spirit_id": str(spirit.pk), "knowledge_type": "FACT", "content": "x", **extra}
    response = api.generic("POST", URL, json.dumps(body), content_type="application/json")
    assert field in error(response, 400)["details"]
    assert not Knowledge.all_objects.exists()


@pytest.mark.parametrize("field", ["spirit_id", "memory_ids"])
def test_create_refuses_ids_sent_as_json_numbers_naming_the_field(api, team, field):
    # Each number is the int form of a real row's UUID: coerced, it would match.
    spirit = SpiritFactory(team=team, id=uuid.UUID(int=5))
    MemoryFactory(spirit=spirit, id=uuid.UUID(int=6))
    numbers = {"spirit_id": 5, "memory_ids": [6]}
    body = {"spirit_id": str(spirit.pk), "knowledge_type": "FACT", "content": "x"}
    err = error(api.post(URL, {**body, field: numbers[field]}, format="json"), 400)
    assert list(err["details"]) == [field]
    assert not Knowledge.all_objects.exists()


def test_create_with_validity_ending_before_it_starts_is_400(api, spirit):
    now = timezone.now()
    body = {
        "spirit_id": str(spirit.pk),
        "knowledge_type": "FACT",
        "content": "x",
        "valid_from": now.isoformat(),
        "valid_to": (now - timedelta(days=1)).isoformat(),
    }
    error(api.post(URL, body, format="json"), 400)
    assert not Knowledge.all_objects.exists()


# --- list and get --------------------------------------------------------------------------------


def test_list_shows_only_the_callers_live_knowledge(api, spirit, foreign_spirit):
    mine = KnowledgeFactory(spirit=spirit)
    KnowledgeFactory(spirit=spirit, deleted_at=timezone.now())
    KnowledgeFactory(spirit=foreign_spirit)
    assert ids(api.get(URL)) == [str(mine.pk)]


def test_list_with_current_true_shows_only_items_still_valid(api, spirit):
    current = KnowledgeFactory(spirit=spirit)
    KnowledgeFactory(spirit=spirit, valid_to=timezone.now())
    assert ids(api.get(URL, {"current": "true"})) == [str(current.pk)]


def test_list_with_current_false_shows_only_closed_items(api, spirit):
    KnowledgeFactory(spirit=spirit)
    closed = KnowledgeFactory(spirit=spirit, valid_to=timezone.now())
    assert ids(api.get(URL, {"current": "false"})) == [str(closed.pk)]


def test_list_filters_by_type(api, spirit):
    method = KnowledgeFactory(spirit=spirit, knowledge_type="METHOD")
    KnowledgeFactory(spirit=spirit, knowledge_type="FACT")
    assert ids(api.get(URL, {"type": "METHOD"})) == [str(method.pk)]


def test_list_filters_by_spirit_id(api, team, spirit):
    mine = KnowledgeFactory(spirit=spirit)
    KnowledgeFactory(spirit=SpiritFactory(team=team))
    assert ids(api.get(URL, {"spirit_id": str(spirit.pk)})) == [str(mine.pk)]


def test_list_filters_by_creation_time(api, spirit):
    old = KnowledgeFactory(spirit=spirit, created_at=timezone.now() - timedelta(days=5))
    KnowledgeFactory(spirit=spirit)
    before = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(api.get(URL, {"created_before": before})) == [str(old.pk)]


def test_list_with_an_invalid_type_is_400(api):
    assert "type" in error(api.get(URL, {"type": "RUMOUR"}), 400)["details"]


def test_list_does_not_query_per_item(api, spirit, django_assert_max_num_queries):
    KnowledgeFactory.create_batch(25, spirit=spirit)
    api.get(URL)
    with django_assert_max_num_queries(4):
        assert len(api.get(URL).json()["results"]) == 25


def test_get_of_another_teams_knowledge_is_404(other_api, spirit):
    error(other_api.get(detail(KnowledgeFactory(spirit=spirit))), 404, "not_found")


# --- PATCH, DELETE, restore ----------------------------------------------------------------------


def test_patch_changes_editable_fields(api, spirit):
    item = make(spirit)
    response = api.patch(detail(item), {"confidence": 0.95, "topic": "physics"}, format="json")
    assert response.status_code == 200
    assert (response.json()["confidence"], response.json()["topic"]) == (0.95, "physics")


def test_patch_cannot_set_valid_to_closing_goes_through_close(api, spirit):
    item = make(spirit)
    body = {"valid_to": timezone.now().isoformat(), "reason": "no longer true"}
    err = error(api.patch(detail(item), body, format="json"), 400)
    assert "valid_to" in err["details"]
    item.refresh_from_db()
    assert item.valid_to is None


@pytest.mark.parametrize("body", [{"spirit_id": None}, {"is_current": True}, {"memory_ids": []}])
def test_patch_of_a_read_only_or_unknown_field_is_400_naming_it(api, spirit, body):
    item = make(spirit)
    err = error(api.patch(detail(item), {"content": "changed", **body}, format="json"), 400)
    assert set(body) <= set(err["details"])
    item.refresh_from_db()
    assert item.content == "Water boils at 100C."


def test_patch_by_another_team_is_404(other_api, spirit):
    item = make(spirit)
    error(other_api.patch(detail(item), {"content": "x"}, format="json"), 404, "not_found")


def test_delete_is_204_and_restore_brings_it_back(api, spirit):
    item = make(spirit)
    assert api.delete(detail(item)).status_code == 204
    assert api.get(detail(item)).status_code == 404
    response = api.post(detail(item, "restore/"), format="json")
    assert response.status_code == 200 and response.json()["deleted_at"] is None


def test_delete_by_another_team_is_404(other_api, spirit):
    item = make(spirit)
    error(other_api.delete(detail(item)), 404, "not_found")
    assert Knowledge.objects.filter(pk=item.pk).exists()


# --- history -------------------------------------------------------------------------------------


def test_history_lists_changes_in_order(api, spirit):
    item = make(spirit)
    svc.knowledge_update(knowledge=item, data={"content": "y"}, actor=ACTOR)
    svc.knowledge_close(knowledge=item, actor=ACTOR)
    rows = api.get(detail(item, "history/")).json()["results"]
    assert [row["action"] for row in rows] == ["create", "update", "close"]


def test_history_as_of_returns_the_item_as_it_was(api, spirit):
    item = make(spirit)
    moment = timezone.now()
    svc.knowledge_update(knowledge=item, data={"content": "y"}, actor=ACTOR)
    body = api.get(detail(item, "history/"), {"as_of": moment.isoformat()}).json()
    assert body["state"]["content"] == "Water boils at 100C."


def test_history_as_of_before_creation_is_404(api, spirit):
    item = make(spirit)
    moment = (item.created_at - timedelta(hours=1)).isoformat()
    error(api.get(detail(item, "history/"), {"as_of": moment}), 404, "not_found")


def test_history_of_another_teams_item_is_404(other_api, spirit):
    error(other_api.get(detail(make(spirit), "history/")), 404, "not_found")
