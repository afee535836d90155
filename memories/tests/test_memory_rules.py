"""The rules that keep a memory's history one line: superseded memories are frozen, status moves
only through their operations, operations that change nothing log nothing."""

import pytest
from django.utils import timezone

from elephantasm.api.errors import ValidationFailed
from events.tests.factories import EventFactory
from memories import audit
from memories.models import AuditEntry, Memory
from memories.services import knowledge as ksvc
from memories.services import memories as svc
from memories.tests.factories import KnowledgeFactory, MemoryFactory
from teams.actors import Actor

ACTOR = Actor.system("test")


def entries(obj) -> list[str]:
    return list(AuditEntry.objects.filter(object_id=obj.pk).values_list("action", flat=True))


@pytest.fixture
def superseded(spirit):
    old = svc.memory_create(spirit=spirit, data={"content": "v1"}, actor=ACTOR)
    svc.memory_supersede(memory=old, data={"content": "v2"}, actor=ACTOR)
    old.refresh_from_db()
    return old


@pytest.mark.parametrize(
    "operation",
    [
        lambda m: svc.memory_update(memory=m, data={"status": "active"}, actor=ACTOR),
        lambda m: svc.memory_update(memory=m, data={"content": "edited"}, actor=ACTOR),
        lambda m: svc.memory_supersede(memory=m, data={"content": "v2-bis"}, actor=ACTOR),
        lambda m: svc.memory_archive(memory=m, actor=ACTOR),
        lambda m: svc.memory_pin(memory=m, actor=ACTOR),
        lambda m: svc.memory_split(
            memory=m, parts=[{"content": "a"}, {"content": "b"}], actor=ACTOR
        ),
    ],
)
def test_a_superseded_memory_is_frozen(superseded, operation):
    before = audit.snapshot(superseded)
    with pytest.raises(ValidationFailed):
        operation(superseded)
    assert audit.snapshot(Memory.all_objects.get(pk=superseded.pk)) == before


def test_a_superseded_memory_cannot_be_disputed_or_merged(spirit, superseded):
    other = MemoryFactory(spirit=spirit)
    with pytest.raises(ValidationFailed):
        svc.memory_mark_disputed(memory=other, conflicting=superseded, actor=ACTOR)
    with pytest.raises(ValidationFailed):
        svc.memory_merge(memories=[other, superseded], actor=ACTOR)


def test_a_deleted_memory_cannot_be_merged(spirit):
    a, b = MemoryFactory(spirit=spirit), MemoryFactory(spirit=spirit)
    svc.memory_soft_delete(memory=b, actor=ACTOR)
    with pytest.raises(ValidationFailed):
        svc.memory_merge(memories=[a, b], actor=ACTOR)


@pytest.mark.parametrize("status", ["superseded", "disputed"])
def test_update_cannot_set_statuses_that_belong_to_operations(spirit, status):
    memory = MemoryFactory(spirit=spirit)
    with pytest.raises(ValidationFailed) as exc:
        svc.memory_update(memory=memory, data={"status": status}, actor=ACTOR)
    assert "status" in exc.value.details


def test_update_cannot_archive_a_pinned_memory(spirit):
    memory = MemoryFactory(spirit=spirit, pinned=True)
    with pytest.raises(ValidationFailed):
        svc.memory_update(memory=memory, data={"status": "archived"}, actor=ACTOR)


def test_archive_decides_on_the_locked_row_not_a_stale_copy(spirit):
    memory = MemoryFactory(spirit=spirit)
    stale = Memory.all_objects.get(pk=memory.pk)
    svc.memory_pin(memory=memory, actor=ACTOR)
    with pytest.raises(ValidationFailed):
        svc.memory_archive(memory=stale, actor=ACTOR)  # the copy says unpinned: it is pinned


def test_pinning_twice_logs_once(spirit):
    memory = MemoryFactory(spirit=spirit)
    svc.memory_pin(memory=memory, actor=ACTOR)
    svc.memory_pin(memory=memory, actor=ACTOR)
    assert entries(memory) == ["pin"]


def test_dispute_entry_shows_the_link_appear_and_a_repeat_logs_nothing(spirit):
    a, b = MemoryFactory(spirit=spirit), MemoryFactory(spirit=spirit)
    svc.memory_mark_disputed(memory=a, conflicting=b, actor=ACTOR)
    svc.memory_mark_disputed(memory=a, conflicting=b, actor=ACTOR)
    [entry] = AuditEntry.objects.filter(object_id=a.pk)
    assert entry.before["contradicts"] == [] and entry.after["contradicts"] == [str(b.pk)]


def test_as_of_the_creation_instant_shows_the_new_memory(spirit):
    memory = svc.memory_create(spirit=spirit, data={"content": "born"}, actor=ACTOR)
    state = audit.state_as_of("memory", memory.pk, memory.created_at)
    assert state is not None and state["content"] == "born"


def test_as_of_the_update_instant_shows_the_updated_content(spirit):
    memory = svc.memory_create(spirit=spirit, data={"content": "v1"}, actor=ACTOR)
    memory = svc.memory_update(memory=memory, data={"content": "v2"}, actor=ACTOR)
    assert audit.state_as_of("memory", memory.pk, memory.updated_at)["content"] == "v2"


def test_snapshots_record_provenance(spirit):
    event = EventFactory(spirit=spirit)
    memory = svc.memory_create(
        spirit=spirit, data={"content": "c"}, event_ids=[event.pk], actor=ACTOR
    )
    assert AuditEntry.objects.get(object_id=memory.pk).after["event_ids"] == [str(event.pk)]


def test_split_refuses_events_outside_the_original(spirit):
    inside, outside = EventFactory(spirit=spirit), EventFactory(spirit=spirit)
    original = svc.memory_create(
        spirit=spirit, data={"content": "ab"}, event_ids=[inside.pk], actor=ACTOR
    )
    with pytest.raises(ValidationFailed):
        svc.memory_split(
            memory=original,
            parts=[{"content": "a", "event_ids": [outside.pk]}, {"content": "b"}],
            actor=ACTOR,
        )
    assert Memory.all_objects.count() == 1


def test_related_memories_are_set_and_audited(spirit):
    a, b = MemoryFactory(spirit=spirit), MemoryFactory(spirit=spirit)
    a = svc.memory_update(memory=a, data={}, related_ids=[b.pk], actor=ACTOR)
    assert list(a.related_to.all()) == [b]
    assert AuditEntry.objects.get(object_id=a.pk).after["related_to"] == [str(b.pk)]
    # the relation goes both ways: b's history shows it too
    assert audit.state_as_of("memory", b.pk, timezone.now())["related_to"] == [str(a.pk)]


def test_related_memory_of_another_spirit_is_refused(spirit):
    a = MemoryFactory(spirit=spirit)
    with pytest.raises(ValidationFailed):
        svc.memory_update(memory=a, data={}, related_ids=[MemoryFactory().pk], actor=ACTOR)


def test_knowledge_cannot_be_closed_in_favour_of_a_closed_item(spirit):
    old = KnowledgeFactory(spirit=spirit)
    closed = KnowledgeFactory(spirit=spirit, valid_to=timezone.now())
    with pytest.raises(ValidationFailed):
        ksvc.knowledge_close(knowledge=old, superseded_by=closed, actor=ACTOR)


def test_mark_stale_is_not_an_audited_content_change(spirit):
    memory = MemoryFactory(spirit=spirit, embedding_stale=False)
    assert svc.memory_mark_stale(memories=[memory], actor=ACTOR) == 1
    memory.refresh_from_db()
    assert memory.embedding_stale is True and entries(memory) == []


def test_pipeline_bookkeeping_fields_are_not_part_of_the_audited_state(spirit):
    memory = MemoryFactory(spirit=spirit)
    snapshot = audit.snapshot(memory)
    assert not {"embedding_stale", "embedding_model", "extracted_at"} & set(snapshot)
