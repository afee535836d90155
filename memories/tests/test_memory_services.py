import pytest

from elephantasm.api.errors import ValidationFailed
from events.tests.factories import EventFactory
from memories.models import AuditEntry, Memory, MemoryStatus
from memories.services import memories as svc
from memories.tests.factories import MemoryFactory
from spirits.tests.factories import SpiritFactory
from teams.actors import Actor

ACTOR = Actor("api_key", "k1", "test key")


def entries(obj):
    return list(AuditEntry.objects.filter(object_id=obj.pk).values_list("action", flat=True))


def test_create_links_provenance_sets_span_and_logs_once(spirit):
    e1, e2 = EventFactory(spirit=spirit), EventFactory(spirit=spirit)
    memory = svc.memory_create(
        spirit=spirit,
        data={"content": "c"},
        tags=["x", "y"],
        event_ids=[e1.pk, e2.pk],
        actor=ACTOR,
    )
    assert set(memory.events.all()) == {e1, e2}
    assert memory.time_start == min(e1.occurred_at, e2.occurred_at)
    assert sorted(memory.tags.values_list("name", flat=True)) == ["x", "y"]
    assert entries(memory) == ["create"]
    entry = AuditEntry.objects.get(object_id=memory.pk)
    assert (entry.actor_type, entry.actor_id) == ("api_key", "k1")


def test_create_refuses_events_of_another_spirit(spirit):
    foreign = EventFactory(spirit=SpiritFactory())
    with pytest.raises(ValidationFailed):
        svc.memory_create(spirit=spirit, data={"content": "c"}, event_ids=[foreign.pk], actor=ACTOR)
    assert not Memory.all_objects.exists() and not AuditEntry.objects.exists()


def test_create_refuses_invalid_fields_and_writes_nothing(spirit):
    with pytest.raises(ValidationFailed) as exc:
        svc.memory_create(spirit=spirit, data={"content": "c", "importance": 2}, actor=ACTOR)
    assert "importance" in exc.value.details
    assert not Memory.all_objects.exists()


def test_create_refuses_read_only_fields(spirit):
    with pytest.raises(ValidationFailed) as exc:
        svc.memory_create(spirit=spirit, data={"content": "c", "access_count": 9}, actor=ACTOR)
    assert "access_count" in exc.value.details


def test_editing_content_marks_the_embedding_stale_and_logs_once(spirit):
    memory = MemoryFactory(spirit=spirit, embedding_stale=False)
    memory = svc.memory_update(memory=memory, data={"content": "new"}, actor=ACTOR)
    assert memory.embedding_stale is True
    assert entries(memory) == ["update"]


def test_update_without_change_logs_nothing(spirit):
    memory = MemoryFactory(spirit=spirit)
    svc.memory_update(memory=memory, data={"content": memory.content}, actor=ACTOR)
    assert entries(memory) == []


@pytest.mark.parametrize(
    ("operation", "action", "field", "value"),
    [
        (lambda m: svc.memory_pin(memory=m, actor=ACTOR), "pin", "pinned", True),
        (lambda m: svc.memory_archive(memory=m, actor=ACTOR), "archive", "status", "archived"),
        (lambda m: svc.memory_soft_delete(memory=m, actor=ACTOR), "delete", "is_deleted", True),
    ],
)
def test_small_operations_change_the_memory_and_log_once(spirit, operation, action, field, value):
    memory = operation(MemoryFactory(spirit=spirit))
    memory.refresh_from_db()
    assert getattr(memory, field) == value
    assert entries(memory) == [action]


def test_restore_undoes_a_soft_delete(spirit):
    memory = svc.memory_soft_delete(memory=MemoryFactory(spirit=spirit), actor=ACTOR)
    memory = svc.memory_restore(memory=memory, actor=ACTOR)
    assert memory.deleted_at is None
    assert entries(memory) == ["delete", "restore"]


def test_pinned_memory_cannot_be_archived(spirit):
    memory = MemoryFactory(spirit=spirit, pinned=True)
    with pytest.raises(ValidationFailed):
        svc.memory_archive(memory=memory, actor=ACTOR)


def test_mark_disputed_links_the_conflicting_memory(spirit):
    a, b = MemoryFactory(spirit=spirit), MemoryFactory(spirit=spirit)
    a = svc.memory_mark_disputed(memory=a, conflicting=b, actor=ACTOR, reason="conflict")
    assert a.status == MemoryStatus.DISPUTED
    assert list(b.contradicts.all()) == [a]
    entry = AuditEntry.objects.get(object_id=a.pk)
    assert entry.related_ids == [str(b.pk)] and entry.reason == "conflict"


def test_mark_disputed_refuses_a_memory_of_another_spirit(spirit):
    with pytest.raises(ValidationFailed):
        svc.memory_mark_disputed(
            memory=MemoryFactory(spirit=spirit), conflicting=MemoryFactory(), actor=ACTOR
        )


def test_supersede_makes_a_new_version_and_retires_the_old(spirit):
    event = EventFactory(spirit=spirit)
    old = svc.memory_create(
        spirit=spirit, data={"content": "v1"}, event_ids=[event.pk], actor=ACTOR
    )
    new = svc.memory_supersede(memory=old, data={"content": "v2"}, actor=ACTOR)
    old.refresh_from_db()
    assert (new.version, old.status, old.superseded_by_id) == (2, "superseded", new.pk)
    assert list(new.events.all()) == [event]
    assert entries(new) == ["supersede"]


def test_merge_unions_provenance_and_tags_and_logs_one_entry_naming_all(spirit):
    e1, e2, e3 = (EventFactory(spirit=spirit) for _ in range(3))
    a = svc.memory_create(
        spirit=spirit,
        data={"content": "a", "importance": 0.2},
        tags=["x"],
        event_ids=[e1.pk, e2.pk],
        actor=ACTOR,
    )
    b = svc.memory_create(
        spirit=spirit,
        data={"content": "b", "importance": 0.9},
        tags=["y"],
        event_ids=[e2.pk, e3.pk],
        actor=ACTOR,
    )
    before = AuditEntry.objects.count()
    merged = svc.memory_merge(memories=[a, b], actor=ACTOR, reason="duplicates")
    assert set(merged.events.all()) == {e1, e2, e3}
    assert sorted(merged.tags.values_list("name", flat=True)) == ["x", "y"]
    assert merged.importance == 0.9 and merged.source_type == "consolidation"
    for source in (a, b):
        source.refresh_from_db()
        assert (source.status, source.superseded_by_id) == ("superseded", merged.pk)
    assert AuditEntry.objects.count() == before + 1
    entry = AuditEntry.objects.latest("id")
    assert entry.action == "merge" and set(entry.related_ids) == {str(a.pk), str(b.pk)}


def test_merge_refuses_memories_of_different_spirits(spirit):
    with pytest.raises(ValidationFailed):
        svc.memory_merge(memories=[MemoryFactory(spirit=spirit), MemoryFactory()], actor=ACTOR)


def test_merge_needs_two_distinct_memories(spirit):
    memory = MemoryFactory(spirit=spirit)
    with pytest.raises(ValidationFailed):
        svc.memory_merge(memories=[memory, memory], actor=ACTOR)


def test_split_narrows_provenance_per_part_and_supersedes_the_original(spirit):
    e1, e2 = EventFactory(spirit=spirit), EventFactory(spirit=spirit)
    original = svc.memory_create(
        spirit=spirit,
        data={"content": "a and b"},
        event_ids=[e1.pk, e2.pk],
        tags=["t"],
        actor=ACTOR,
    )
    first, second = svc.memory_split(
        memory=original,
        parts=[{"content": "a", "event_ids": [e1.pk]}, {"content": "b"}],
        actor=ACTOR,
    )
    assert list(first.events.all()) == [e1]
    assert set(second.events.all()) == {e1, e2}
    assert list(second.tags.values_list("name", flat=True)) == ["t"]
    original.refresh_from_db()
    assert original.status == "superseded" and original.superseded_by_id == first.pk
    split_entry = AuditEntry.objects.latest("id")
    assert split_entry.action == "split" and split_entry.object_id == original.pk
    assert set(split_entry.related_ids) == {str(first.pk), str(second.pk)}


def test_split_with_an_invalid_part_writes_nothing(spirit):
    original = MemoryFactory(spirit=spirit)
    with pytest.raises(ValidationFailed) as exc:
        svc.memory_split(memory=original, parts=[{"content": "a"}, {"content": ""}], actor=ACTOR)
    assert "parts[1]" in exc.value.details
    assert Memory.all_objects.count() == 1


def test_soft_delete_with_a_stale_copy_still_deletes(spirit):
    memory = MemoryFactory(spirit=spirit)
    svc.memory_soft_delete(memory=memory, actor=ACTOR)
    stale = Memory.all_objects.get(pk=memory.pk)
    svc.memory_restore(memory=memory, actor=ACTOR)
    svc.memory_soft_delete(memory=stale, actor=ACTOR)  # stale copy says "deleted": it is live
    assert Memory.all_objects.get(pk=memory.pk).deleted_at is not None
    assert entries(memory) == ["delete", "restore", "delete"]


def test_restore_with_a_stale_copy_still_restores(spirit):
    memory = MemoryFactory(spirit=spirit)
    stale = Memory.all_objects.get(pk=memory.pk)
    svc.memory_soft_delete(memory=memory, actor=ACTOR)
    svc.memory_restore(memory=stale, actor=ACTOR)  # stale copy says "live": it is deleted
    assert Memory.all_objects.get(pk=memory.pk).deleted_at is None
