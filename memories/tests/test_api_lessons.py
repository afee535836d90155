"""The lesson API: create with source memories, list and filters, PATCH, delete, history."""

import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from memories.models import AuditEntry, Lesson
from memories.services import lessons as svc
from memories.tests.factories import LessonFactory, MemoryFactory
from spirits.tests.factories import SpiritFactory
from teams.actors import Actor

pytestmark = pytest.mark.django_db

URL = "/api/v1/lessons/"
ACTOR = Actor.system("test")


def detail(lesson, suffix: str = "") -> str:
    return f"{URL}{lesson.pk}/{suffix}"


def error(response, status: int, code: str = "validation_error") -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()["error"]
    assert body["code"] == code
    return body


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return [row["id"] for row in response.json()["results"]]


def make(spirit, statement: str = "Ask before deleting files.", **data):
    return svc.lesson_create(spirit=spirit, data={"statement": statement, **data}, actor=ACTOR)


def test_create_returns_201_and_links_source_memories(api, spirit):
    memory = MemoryFactory(spirit=spirit)
    body = {
        "spirit_id": str(spirit.pk),
        "statement": "Confirm before sending email.",
        "confidence": 0.9,
        "memory_ids": [str(memory.pk)],
    }
    response = api.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    lesson = Lesson.objects.get(pk=response.json()["id"])
    assert list(lesson.memories.all()) == [memory]
    assert (response.json()["status"], response.json()["confidence"]) == ("active", 0.9)


def test_create_with_a_spirit_of_another_team_is_404(api, foreign_spirit):
    body = {"spirit_id": str(foreign_spirit.pk), "statement": "x"}
    error(api.post(URL, body, format="json"), 404, "not_found")
    assert not Lesson.all_objects.exists()


def test_create_with_memories_of_another_spirit_is_400_naming_memory_ids(api, team, spirit):
    other = MemoryFactory(spirit__team=team)
    body = {"spirit_id": str(spirit.pk), "statement": "x", "memory_ids": [str(other.pk)]}
    assert "memory_ids" in error(api.post(URL, body, format="json"), 400)["details"]
    assert not Lesson.all_objects.exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"statement": ""}, "statement"),
        ({"statement": "a\x00b"}, "statement"),
        ({"confidence": 2}, "confidence"),
        ({"status": "forgotten"}, "status"),
        ({"memory_ids": "all"}, "memory_ids"),
        ({"deleted_at": None}, "deleted_at"),
    ],
)
def test_create_with_an_invalid_field_is_400_naming_it_and_writes_nothing(
    api, spirit, extra, field
):
    body = {"spirit_id": str(spirit.pk), "statement": "x", **extra}
    response = api.generic("POST", URL, json.dumps(body), content_type="application/json")
    assert field in error(response, 400)["details"]
    assert not Lesson.all_objects.exists() and not AuditEntry.objects.exists()


@pytest.mark.parametrize("field", ["spirit_id", "memory_ids"])
def test_create_refuses_ids_sent_as_json_numbers_naming_the_field(api, team, field):
    # Each number is the int form of a real row's UUID: coerced, it would match.
    spirit = SpiritFactory(team=team, id=uuid.UUID(int=5))
    MemoryFactory(spirit=spirit, id=uuid.UUID(int=6))
    numbers = {"spirit_id": 5, "memory_ids": [6]}
    body = {"spirit_id": str(spirit.pk), "statement": "x", field: numbers[field]}
    err = error(api.post(URL, body, format="json"), 400)
    assert list(err["details"]) == [field]
    assert not Lesson.all_objects.exists()


def test_list_shows_only_the_callers_live_lessons(api, spirit, foreign_spirit):
    mine = LessonFactory(spirit=spirit)
    LessonFactory(spirit=spirit, deleted_at=timezone.now())
    LessonFactory(spirit=foreign_spirit)
    assert ids(api.get(URL)) == [str(mine.pk)]


def test_list_filters_by_status(api, spirit):
    proposed = LessonFactory(spirit=spirit, status="proposed")
    LessonFactory(spirit=spirit, status="active")
    assert ids(api.get(URL, {"status": "proposed"})) == [str(proposed.pk)]


def test_list_filters_by_creation_time(api, spirit):
    LessonFactory(spirit=spirit, created_at=timezone.now() - timedelta(days=5))
    recent = LessonFactory(spirit=spirit)
    after = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(api.get(URL, {"created_after": after})) == [str(recent.pk)]


def test_list_with_include_deleted_shows_deleted_lessons(api, spirit):
    deleted = LessonFactory(spirit=spirit, deleted_at=timezone.now())
    assert ids(api.get(URL, {"include_deleted": "true"})) == [str(deleted.pk)]


def test_list_for_another_team_is_empty(other_api, spirit):
    LessonFactory(spirit=spirit)
    assert ids(other_api.get(URL)) == []


def test_list_does_not_query_per_lesson(api, spirit, django_assert_max_num_queries):
    LessonFactory.create_batch(25, spirit=spirit)
    api.get(URL)
    with django_assert_max_num_queries(4):
        assert len(api.get(URL).json()["results"]) == 25


def test_get_returns_the_lesson(api, spirit):
    lesson = make(spirit)
    assert api.get(detail(lesson)).json()["statement"] == "Ask before deleting files."


def test_get_of_another_teams_lesson_is_404(other_api, spirit):
    error(other_api.get(detail(make(spirit))), 404, "not_found")


def test_patch_retires_a_lesson_and_logs_the_reason(api, spirit):
    lesson = make(spirit)
    body = {"status": "retired", "reason": "no longer applies"}
    assert api.patch(detail(lesson), body, format="json").json()["status"] == "retired"
    entry = AuditEntry.objects.filter(object_id=lesson.pk).last()
    assert (entry.action, entry.reason) == ("update", "no longer applies")


def test_patch_of_an_unknown_field_is_400_naming_it(api, spirit):
    lesson = make(spirit)
    err = error(api.patch(detail(lesson), {"statement": "y", "weight": 1}, format="json"), 400)
    assert "weight" in err["details"]
    lesson.refresh_from_db()
    assert lesson.statement == "Ask before deleting files."


def test_patch_by_another_team_is_404(other_api, spirit):
    lesson = make(spirit)
    error(other_api.patch(detail(lesson), {"statement": "y"}, format="json"), 404, "not_found")


def test_delete_is_204_and_restore_brings_it_back(api, spirit):
    lesson = make(spirit)
    assert api.delete(detail(lesson)).status_code == 204
    assert Lesson.all_objects.get(pk=lesson.pk).deleted_at is not None
    assert api.post(detail(lesson, "restore/")).json()["deleted_at"] is None


def test_delete_by_another_team_is_404(other_api, spirit):
    lesson = make(spirit)
    error(other_api.delete(detail(lesson)), 404, "not_found")
    assert Lesson.objects.filter(pk=lesson.pk).exists()


def test_history_lists_changes_in_order(api, spirit):
    lesson = make(spirit)
    lesson = svc.lesson_update(lesson=lesson, data={"confidence": 0.1}, actor=ACTOR)
    lesson = svc.lesson_soft_delete(lesson=lesson, actor=ACTOR)
    lesson = svc.lesson_restore(lesson=lesson, actor=ACTOR)
    rows = api.get(detail(lesson, "history/")).json()["results"]
    assert [row["action"] for row in rows] == ["create", "update", "delete", "restore"]


def test_history_as_of_returns_the_lesson_as_it_was(api, spirit):
    lesson = make(spirit)
    moment = timezone.now()
    svc.lesson_update(lesson=lesson, data={"statement": "changed"}, actor=ACTOR)
    body = api.get(detail(lesson, "history/"), {"as_of": moment.isoformat()}).json()
    assert body["state"]["statement"] == "Ask before deleting files."


def test_history_with_a_bad_as_of_is_400(api, spirit):
    err = error(api.get(detail(make(spirit), "history/"), {"as_of": "now-ish"}), 400)
    assert "as_of" in err["details"]
