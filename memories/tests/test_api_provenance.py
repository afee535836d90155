"""Provenance both ways: a memory's events, an event's memories, knowledge and lesson sources."""

from datetime import timedelta

import pytest
from django.utils import timezone

from events.tests.factories import EventFactory
from memories.services import knowledge as knowledge_svc
from memories.services import lessons as lesson_svc
from memories.services import memories as memory_svc
from memories.tests.factories import MemoryFactory
from teams.actors import Actor

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")


def error(response, status: int, code: str = "not_found") -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()["error"]
    assert body["code"] == code
    return body


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content[:500]
    return response.json()["results"]


def memory_from(spirit, events: dict, content: str = "c"):
    """A memory made from `events` ({event: link strength})."""
    return memory_svc.memory_create(
        spirit=spirit,
        data={"content": content},
        event_ids={event.pk: strength for event, strength in events.items()},
        actor=ACTOR,
    )


# --- memory -> events ----------------------------------------------------------------------------


def test_memory_events_lists_the_source_events_with_link_strength_oldest_first(api, spirit):
    older = EventFactory(spirit=spirit, occurred_at=timezone.now() - timedelta(hours=1))
    newer = EventFactory(spirit=spirit)
    memory = memory_from(spirit, {newer: 0.4, older: 1.0})
    rows = results(api.get(f"/api/v1/memories/{memory.pk}/events/"))
    assert [(r["id"], r["link_strength"]) for r in rows] == [
        (str(older.pk), 1.0),
        (str(newer.pk), 0.4),
    ]
    assert rows[0]["content"] == older.content


def test_memory_events_leaves_out_deleted_events(api, spirit):
    kept, deleted = EventFactory(spirit=spirit), EventFactory(spirit=spirit)
    memory = memory_from(spirit, {kept: 1.0, deleted: 1.0})
    deleted.deleted_at = timezone.now()
    deleted.save()
    rows = results(api.get(f"/api/v1/memories/{memory.pk}/events/"))
    assert [r["id"] for r in rows] == [str(kept.pk)]


def test_memory_events_of_another_teams_memory_is_404(other_api, spirit):
    memory = memory_from(spirit, {EventFactory(spirit=spirit): 1.0})
    error(other_api.get(f"/api/v1/memories/{memory.pk}/events/"), 404)


# --- event -> memories ---------------------------------------------------------------------------


def test_event_memories_lists_the_memories_made_from_it_with_link_strength(api, spirit):
    event = EventFactory(spirit=spirit)
    strong = memory_from(spirit, {event: 0.9}, "strong")
    weak = memory_from(spirit, {event: 0.2}, "weak")
    memory_from(spirit, {EventFactory(spirit=spirit): 1.0}, "unrelated")
    rows = results(api.get(f"/api/v1/events/{event.pk}/memories/"))
    assert {(r["id"], r["link_strength"]) for r in rows} == {
        (str(strong.pk), 0.9),
        (str(weak.pk), 0.2),
    }


def test_event_memories_leaves_out_deleted_memories(api, spirit):
    event = EventFactory(spirit=spirit)
    memory = memory_from(spirit, {event: 1.0})
    memory_svc.memory_soft_delete(memory=memory, actor=ACTOR)
    assert results(api.get(f"/api/v1/events/{event.pk}/memories/")) == []


def test_event_memories_of_another_teams_event_is_404(other_api, spirit):
    event = EventFactory(spirit=spirit)
    memory_from(spirit, {event: 1.0})
    error(other_api.get(f"/api/v1/events/{event.pk}/memories/"), 404)


def test_event_memories_of_a_deleted_event_is_404(api, spirit):
    event = EventFactory(spirit=spirit, deleted_at=timezone.now())
    error(api.get(f"/api/v1/events/{event.pk}/memories/"), 404)


def test_event_memories_does_not_query_per_memory(api, spirit, django_assert_max_num_queries):
    event = EventFactory(spirit=spirit)
    related = MemoryFactory(spirit=spirit)
    for index in range(15):
        memory_svc.memory_create(
            spirit=spirit,
            data={"content": f"m{index}"},
            tags=[f"t{index}"],
            event_ids=[event.pk],
            related_ids=[related.pk],
            actor=ACTOR,
        )
    api.get(f"/api/v1/events/{event.pk}/memories/")
    with django_assert_max_num_queries(7):
        rows = results(api.get(f"/api/v1/events/{event.pk}/memories/"))
    assert len(rows) == 15 and all(row["tags"] and row["related_ids"] for row in rows)


# --- knowledge and lessons -> memories -----------------------------------------------------------


def test_knowledge_memories_lists_its_source_memories(api, spirit):
    source, _other = MemoryFactory(spirit=spirit), MemoryFactory(spirit=spirit)
    item = knowledge_svc.knowledge_create(
        spirit=spirit,
        data={"knowledge_type": "FACT", "content": "x"},
        memory_ids=[source.pk],
        actor=ACTOR,
    )
    rows = results(api.get(f"/api/v1/knowledge/{item.pk}/memories/"))
    assert [r["id"] for r in rows] == [str(source.pk)]


def test_knowledge_memories_of_another_teams_item_is_404(other_api, spirit):
    item = knowledge_svc.knowledge_create(
        spirit=spirit, data={"knowledge_type": "FACT", "content": "x"}, actor=ACTOR
    )
    error(other_api.get(f"/api/v1/knowledge/{item.pk}/memories/"), 404)


def test_lesson_memories_lists_its_source_memories(api, spirit):
    source = MemoryFactory(spirit=spirit)
    lesson = lesson_svc.lesson_create(
        spirit=spirit, data={"statement": "x"}, memory_ids=[source.pk], actor=ACTOR
    )
    rows = results(api.get(f"/api/v1/lessons/{lesson.pk}/memories/"))
    assert [r["id"] for r in rows] == [str(source.pk)]


def test_lesson_memories_of_another_teams_lesson_is_404(other_api, spirit):
    lesson = lesson_svc.lesson_create(spirit=spirit, data={"statement": "x"}, actor=ACTOR)
    error(other_api.get(f"/api/v1/lessons/{lesson.pk}/memories/"), 404)


@pytest.mark.parametrize("kind", ["knowledge", "lessons"])
def test_source_memories_do_not_query_per_memory(api, spirit, kind, django_assert_max_num_queries):
    related = MemoryFactory(spirit=spirit)
    sources = [
        memory_svc.memory_create(
            spirit=spirit,
            data={"content": f"m{index}"},
            tags=[f"t{index}"],
            related_ids=[related.pk],
            actor=ACTOR,
        ).pk
        for index in range(15)
    ]
    if kind == "knowledge":
        data = {"knowledge_type": "FACT", "content": "x"}
        owner = knowledge_svc.knowledge_create(
            spirit=spirit, data=data, memory_ids=sources, actor=ACTOR
        )
    else:
        owner = lesson_svc.lesson_create(
            spirit=spirit, data={"statement": "x"}, memory_ids=sources, actor=ACTOR
        )
    url = f"/api/v1/{kind}/{owner.pk}/memories/"
    api.get(url)
    with django_assert_max_num_queries(7):
        rows = results(api.get(url))
    assert len(rows) == 15 and all(row["related_ids"] == [str(related.pk)] for row in rows)


def test_source_memories_leave_out_deleted_memories(api, spirit):
    source = MemoryFactory(spirit=spirit)
    lesson = lesson_svc.lesson_create(
        spirit=spirit, data={"statement": "x"}, memory_ids=[source.pk], actor=ACTOR
    )
    memory_svc.memory_soft_delete(memory=source, actor=ACTOR)
    assert results(api.get(f"/api/v1/lessons/{lesson.pk}/memories/")) == []
