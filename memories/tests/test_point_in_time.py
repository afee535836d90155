"""Point-in-time reconstruction from the audit log, checked against random edit sequences."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from elephantasm.api.errors import ValidationFailed
from memories import audit
from memories.models import Memory
from memories.services import memories as svc
from memories.tests.factories import MemoryFactory
from teams.actors import Actor

ACTOR = Actor.system("test")
FIELDS_CHECKED = ("content", "summary", "importance", "pinned", "status", "deleted_at", "tags")


def _visible(memory: Memory) -> dict:
    snap = audit.snapshot(memory)
    return {k: snap[k] for k in FIELDS_CHECKED}


def _random_step(rng: random.Random, memory: Memory, spirit) -> Memory:
    """One random operation; one the services refuse (e.g. pinning a deleted memory) must
    change nothing, which the comparison of states then checks too."""
    memory.refresh_from_db()
    try:
        return _operation(rng, memory)
    except ValidationFailed:
        return memory


def _operation(rng: random.Random, memory: Memory) -> Memory:
    choice = rng.choice(["edit", "tags", "pin", "unpin", "delete", "restore", "importance"])
    if choice == "edit":
        return svc.memory_update(
            memory=memory, data={"content": f"text {rng.random()}"}, actor=ACTOR
        )
    if choice == "tags":
        tags = rng.sample(["a", "b", "c", "d"], rng.randint(0, 3))
        return svc.memory_update(memory=memory, data={}, tags=tags, actor=ACTOR)
    if choice in ("pin", "unpin"):
        return svc.memory_pin(memory=memory, pinned=choice == "pin", actor=ACTOR)
    if choice == "delete":
        return svc.memory_soft_delete(memory=memory, actor=ACTOR)
    if choice == "restore":
        return svc.memory_restore(memory=memory, actor=ACTOR)
    return svc.memory_update(
        memory=memory, data={"importance": round(rng.random(), 3)}, actor=ACTOR
    )


@pytest.mark.parametrize("seed", range(12))
def test_reconstruction_matches_every_state_of_a_random_edit_sequence(spirit, seed):
    rng = random.Random(seed)
    memory = svc.memory_create(spirit=spirit, data={"content": "start"}, actor=ACTOR)
    states = [(timezone.now(), _visible(memory))]
    for _ in range(rng.randint(5, 25)):
        memory = _random_step(rng, memory, spirit)
        states.append((timezone.now(), _visible(Memory.all_objects.get(pk=memory.pk))))
    for moment, expected in states:
        rebuilt = audit.state_as_of("memory", memory.pk, moment)
        assert {k: rebuilt[k] for k in FIELDS_CHECKED} == expected


def test_reconstruction_before_creation_is_none(spirit):
    before = timezone.now() - timedelta(seconds=1)
    memory = svc.memory_create(spirit=spirit, data={"content": "x"}, actor=ACTOR)
    assert audit.state_as_of("memory", memory.pk, before) is None


def test_reconstruction_follows_a_memory_through_a_merge(spirit):
    a = svc.memory_create(spirit=spirit, data={"content": "a"}, actor=ACTOR)
    b = svc.memory_create(spirit=spirit, data={"content": "b"}, actor=ACTOR)
    before_merge = timezone.now()
    merged = svc.memory_merge(memories=[a, b], actor=ACTOR)
    assert audit.state_as_of("memory", a.pk, before_merge)["status"] == "active"
    after = audit.state_as_of("memory", a.pk, timezone.now())
    assert after["status"] == "superseded" and after["superseded_by_id"] == str(merged.pk)


def test_rows_written_without_services_have_no_history(spirit):
    memory = MemoryFactory(spirit=spirit)
    assert audit.state_as_of("memory", memory.pk, timezone.now()) is None


@pytest.mark.parametrize("seed", range(4))
def test_knowledge_reconstruction_matches_every_state_of_a_random_edit_sequence(spirit, seed):
    from memories.models import Knowledge
    from memories.services import knowledge as ksvc

    rng = random.Random(seed)
    item = ksvc.knowledge_create(
        spirit=spirit, data={"knowledge_type": "FACT", "content": "v0"}, actor=ACTOR
    )
    fields = ("content", "confidence", "valid_to", "deleted_at")

    def visible():
        snap = audit.snapshot(Knowledge.all_objects.get(pk=item.pk))
        return {k: snap[k] for k in fields}

    states = [(timezone.now(), visible())]
    for step in range(rng.randint(4, 12)):
        choice = rng.choice(["content", "confidence", "delete", "restore"])
        if choice == "content":
            ksvc.knowledge_update(knowledge=item, data={"content": f"v{step}"}, actor=ACTOR)
        elif choice == "confidence":
            ksvc.knowledge_update(
                knowledge=item, data={"confidence": round(rng.random(), 3)}, actor=ACTOR
            )
        elif choice == "delete":
            ksvc.knowledge_soft_delete(knowledge=item, actor=ACTOR)
        else:
            ksvc.knowledge_restore(knowledge=item, actor=ACTOR)
        states.append((timezone.now(), visible()))
    ksvc.knowledge_restore(knowledge=item, actor=ACTOR)
    states.append((timezone.now(), visible()))
    ksvc.knowledge_close(knowledge=item, actor=ACTOR)
    states.append((timezone.now(), visible()))
    for moment, expected in states:
        rebuilt = audit.state_as_of("knowledge", item.pk, moment)
        assert {k: rebuilt[k] for k in fields} == expected
