import pytest
from django.utils import timezone

from elephantasm.api.errors import ValidationFailed
from memories.models import AuditEntry
from memories.services import identity as identity_svc
from memories.services import knowledge as knowledge_svc
from memories.services import lessons as lesson_svc
from memories.tests.factories import KnowledgeFactory, MemoryFactory
from teams.actors import Actor

ACTOR = Actor.system("test")


def actions(obj):
    return list(AuditEntry.objects.filter(object_id=obj.pk).values_list("action", flat=True))


def test_knowledge_create_links_source_memories_and_logs_once(spirit):
    memory = MemoryFactory(spirit=spirit)
    item = knowledge_svc.knowledge_create(
        spirit=spirit,
        data={"knowledge_type": "FACT", "content": "Water boils at 100C."},
        memory_ids=[memory.pk],
        actor=ACTOR,
    )
    assert list(item.memories.all()) == [memory]
    assert actions(item) == ["create"]


def test_knowledge_create_refuses_an_unknown_type(spirit):
    with pytest.raises(ValidationFailed) as exc:
        knowledge_svc.knowledge_create(
            spirit=spirit, data={"knowledge_type": "RUMOUR", "content": "x"}, actor=ACTOR
        )
    assert "knowledge_type" in exc.value.details


def test_closing_a_fact_keeps_it_with_valid_to_and_successor(spirit):
    old, new = KnowledgeFactory(spirit=spirit), KnowledgeFactory(spirit=spirit)
    closed = knowledge_svc.knowledge_close(knowledge=old, superseded_by=new, actor=ACTOR)
    assert closed.valid_to is not None and closed.superseded_by_id == new.pk
    assert closed.deleted_at is None and not closed.is_current
    assert actions(closed) == ["close"]


def test_a_closed_fact_cannot_be_closed_again(spirit):
    item = KnowledgeFactory(spirit=spirit, valid_to=timezone.now())
    with pytest.raises(ValidationFailed):
        knowledge_svc.knowledge_close(knowledge=item, actor=ACTOR)


def test_knowledge_update_soft_delete_and_restore_each_log_once(spirit):
    item = KnowledgeFactory(spirit=spirit)
    item = knowledge_svc.knowledge_update(knowledge=item, data={"content": "y"}, actor=ACTOR)
    item = knowledge_svc.knowledge_soft_delete(knowledge=item, actor=ACTOR)
    item = knowledge_svc.knowledge_restore(knowledge=item, actor=ACTOR)
    assert actions(item) == ["update", "delete", "restore"]
    assert item.embedding_stale is True


def test_lesson_lifecycle_is_logged(spirit):
    memory = MemoryFactory(spirit=spirit)
    lesson = lesson_svc.lesson_create(
        spirit=spirit,
        data={"statement": "Ask before deleting files."},
        memory_ids=[memory.pk],
        actor=ACTOR,
    )
    lesson = lesson_svc.lesson_update(lesson=lesson, data={"confidence": 0.9}, actor=ACTOR)
    lesson = lesson_svc.lesson_soft_delete(lesson=lesson, actor=ACTOR)
    assert list(lesson.memories.all()) == [memory]
    assert actions(lesson) == ["create", "update", "delete"]


def test_identity_revision_bumps_version_and_logs_with_reason(spirit):
    identity = identity_svc.identity_revise(
        spirit=spirit, document={"essence": "A careful helper."}, actor=ACTOR, reason="r"
    )
    identity = identity_svc.identity_revise(
        spirit=spirit, document={"purpose": "Help."}, partial=True, actor=ACTOR
    )
    assert identity.document == {"essence": "A careful helper.", "purpose": "Help."}
    assert identity.version == 3
    assert actions(identity) == ["create", "revise", "revise"]


def test_identity_refuses_a_document_outside_the_schema(spirit):
    with pytest.raises(ValidationFailed):
        identity_svc.identity_revise(spirit=spirit, document={"mood": "x"}, actor=ACTOR)
