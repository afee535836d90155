"""Selectors: which rows each read returns, and history rows as the object lived them."""

import pytest
from django.utils import timezone

from elephantasm.api.errors import NotFound, ValidationFailed
from events.tests.factories import EventFactory
from memories import selectors
from memories.models import AuditEntry
from memories.services import memories as svc
from memories.tests.factories import KnowledgeFactory, LessonFactory, MemoryFactory
from spirits.tests.factories import SpiritFactory
from teams.actors import Actor

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")


def test_memory_queryset_hides_deleted_memories(spirit):
    live = MemoryFactory(spirit=spirit)
    MemoryFactory(spirit=spirit, deleted_at=timezone.now())
    assert list(selectors.memory_queryset()) == [live]


def test_memory_queryset_hides_memories_of_a_deleted_spirit(team):
    MemoryFactory(spirit=SpiritFactory(team=team, deleted_at=timezone.now()))
    assert list(selectors.memory_queryset()) == []


def test_memory_queryset_with_include_deleted_shows_everything(team):
    deleted = MemoryFactory(deleted_at=timezone.now())
    of_deleted_spirit = MemoryFactory(spirit=SpiritFactory(deleted_at=timezone.now()))
    assert set(selectors.memory_queryset(include_deleted=True)) == {deleted, of_deleted_spirit}


@pytest.mark.parametrize(
    ("selector", "factory"),
    [(selectors.knowledge_queryset, KnowledgeFactory), (selectors.lesson_queryset, LessonFactory)],
)
def test_knowledge_and_lesson_querysets_hide_deleted_rows(spirit, selector, factory):
    live = factory(spirit=spirit)
    factory(spirit=spirit, deleted_at=timezone.now())
    assert list(selector()) == [live]


def test_spirit_for_write_returns_a_live_spirit_of_the_callers_team(team, spirit):
    assert selectors.spirit_for_write(spirit_id=spirit.pk, team_ids=[team.pk]) == spirit


def test_spirit_for_write_refuses_a_deleted_spirit_with_not_found(team):
    spirit = SpiritFactory(team=team, deleted_at=timezone.now())
    with pytest.raises(NotFound):
        selectors.spirit_for_write(spirit_id=spirit.pk, team_ids=[team.pk])


def test_spirit_for_write_refuses_another_teams_spirit_with_not_found(team, foreign_spirit):
    with pytest.raises(NotFound):
        selectors.spirit_for_write(spirit_id=foreign_spirit.pk, team_ids=[team.pk])


def test_memories_by_ids_keeps_the_order_asked(team, spirit):
    a, b = MemoryFactory(spirit=spirit), MemoryFactory(spirit=spirit)
    found = selectors.memories_by_ids(ids=[b.pk, a.pk], team_ids=[team.pk], field="memory_ids")
    assert found == [b, a]


def test_memories_by_ids_names_the_field_for_a_foreign_id(team, spirit):
    foreign = MemoryFactory()
    with pytest.raises(ValidationFailed) as exc:
        selectors.memories_by_ids(ids=[foreign.pk], team_ids=[team.pk], field="conflicting_id")
    assert exc.value.details == {"conflicting_id": [f"No such memory among yours: {foreign.pk}."]}


def test_memories_by_ids_refuses_a_deleted_memory(team, spirit):
    deleted = MemoryFactory(spirit=spirit, deleted_at=timezone.now())
    with pytest.raises(ValidationFailed):
        selectors.memories_by_ids(ids=[deleted.pk], team_ids=[team.pk], field="memory_ids")


def test_event_memories_annotates_the_link_strength(spirit):
    event = EventFactory(spirit=spirit)
    svc.memory_create(spirit=spirit, data={"content": "x"}, event_ids={event.pk: 0.3}, actor=ACTOR)
    [memory] = selectors.event_memories(event=event)
    assert memory.link_strength == 0.3


def test_memory_source_events_joins_each_event_once(spirit):
    event = EventFactory(spirit=spirit)
    memory = svc.memory_create(
        spirit=spirit, data={"content": "x"}, event_ids=[event.pk], actor=ACTOR
    )
    svc.memory_create(spirit=spirit, data={"content": "y"}, event_ids=[event.pk], actor=ACTOR)
    assert [e.pk for e in selectors.memory_source_events(memory=memory)] == [event.pk]


def test_history_rows_give_a_merged_source_its_own_states(spirit):
    a = svc.memory_create(spirit=spirit, data={"content": "a"}, actor=ACTOR)
    b = svc.memory_create(spirit=spirit, data={"content": "b"}, actor=ACTOR)
    svc.memory_merge(memories=[a, b], actor=ACTOR)
    entries = list(selectors.object_history(object_type="memory", object_id=a.pk))
    create, merge = selectors.history_rows(entries=entries, object_id=a.pk, previous=None)
    assert merge["before"] == create["after"]
    assert merge["after"]["status"] == "superseded"


def test_history_rows_take_the_before_state_from_the_previous_entry(spirit):
    a = svc.memory_create(spirit=spirit, data={"content": "a"}, actor=ACTOR)
    b = svc.memory_create(spirit=spirit, data={"content": "b"}, actor=ACTOR)
    svc.memory_merge(memories=[a, b], actor=ACTOR)
    entries = selectors.object_history(object_type="memory", object_id=a.pk)
    merge = entries.last()
    previous = selectors.entry_before(entries=entries, entry=merge)
    assert previous == AuditEntry.objects.get(object_id=a.pk, action="create")
    [row] = selectors.history_rows(entries=[merge], object_id=a.pk, previous=previous)
    assert row["before"]["content"] == "a"
