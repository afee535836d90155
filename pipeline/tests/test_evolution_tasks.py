"""Identity evolution in Celery: the task, extraction enqueueing it, and a real worker on Redis."""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError

from elephantasm.tests.routing import queue_of
from elephantasm.tests.waiting import real_worker, wait_until
from memories.models import AuditAction, AuditEntry, Identity, Knowledge, Lesson
from memories.tests.factories import MemoryFactory
from pipeline import flow, tasks

CONVERSATION = (
    "My name is Ada. I live in Paris. I work at Acme. Always answer briefly. Never guess."
)


@pytest.fixture
def evolutions(sent_tasks):
    """The spirit ids sent to evolve_identity, instead of publishing them."""
    return sent_tasks(flow.EVOLVE_IDENTITY, lambda args, countdown: args[0])


def test_evolution_task_is_routed_with_safe_delivery():
    task = tasks.evolve_identity
    assert task.name == "memories.tasks.evolve_identity"
    assert queue_of(task.name) == "synthesis"
    assert task.acks_late is True and task.reject_on_worker_lost is True
    assert set(task.autoretry_for) == {OperationalError, InterfaceError}


@pytest.mark.django_db
def test_extraction_enqueues_evolution_of_its_spirit_on_commit(
    spirit, evolutions, django_capture_on_commit_callbacks
):
    memory = MemoryFactory(spirit=spirit, content=CONVERSATION)

    with django_capture_on_commit_callbacks(execute=True):
        tasks.extract_memories([str(memory.pk)])

    assert evolutions == [str(spirit.pk)]


@pytest.mark.django_db
def test_extraction_that_writes_nothing_enqueues_no_evolution(
    spirit, evolutions, django_capture_on_commit_callbacks
):
    memory = MemoryFactory(spirit=spirit, content="The sky is blue.")

    with django_capture_on_commit_callbacks(execute=True):
        tasks.extract_memories([str(memory.pk)])

    assert evolutions == []


@pytest.mark.django_db
def test_the_task_respects_the_gate_and_is_idempotent(spirit):
    memory = MemoryFactory(spirit=spirit, content="My name is Ada. Always be brief.")
    tasks.extract_memories([str(memory.pk)])
    assert tasks.evolve_identity(str(spirit.pk)) is None  # 2 items < 5

    more = MemoryFactory(spirit=spirit, content="I live in Oslo. I use Vim. Never guess.")
    tasks.extract_memories([str(more.pk)])

    assert tasks.evolve_identity(str(spirit.pk)) == 2
    assert tasks.evolve_identity(str(spirit.pk)) is None


@pytest.fixture
def private_queue(route_to_private_queue):
    """Route extraction and evolution to a queue of this test only (a `make run` worker consumes
    "synthesis" on the same Redis)."""
    return route_to_private_queue(flow.EXTRACT_MEMORIES, flow.EVOLVE_IDENTITY)


@pytest.mark.django_db(transaction=True)
def test_extracted_facts_and_lessons_evolve_the_identity_in_a_real_worker(spirit, private_queue):
    memory = MemoryFactory(spirit=spirit, content=CONVERSATION)
    flow.enqueue_extraction([memory.pk])  # autocommit: published at once

    with real_worker(private_queue):
        wait_until(lambda: Identity.objects.filter(spirit=spirit, version__gte=2).exists())

    document = Identity.objects.get(spirit=spirit).document
    assert document["principles"] == ["Always answer briefly.", "Never guess."]
    assert document["relationships"] == [
        {
            "name": "Ada",
            "kind": "user",
            "notes": "The user lives in Paris. The user works at Acme.",
        }
    ]
    assert document["communication_style"] == {"verbosity": "terse"}
    entry = AuditEntry.objects.get(object_type="identity", action=AuditAction.REVISE)
    assert entry.reason == "evolved from 3 knowledge items and 2 lessons"
    sources = [
        *Knowledge.objects.filter(spirit=spirit).order_by("created_at", "id"),
        *Lesson.objects.filter(spirit=spirit).order_by("created_at", "id"),
    ]
    assert entry.related_ids == [str(item.pk) for item in sources]
