"""Extraction in Celery: the task, and synthesis enqueueing it after commit."""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError

from elephantasm.ai.llm import TransientLanguageModelError
from elephantasm.tests.routing import queue_of
from events.tests.factories import EventFactory
from memories.models import Knowledge, Memory
from memories.tests.factories import MemoryFactory
from pipeline import flow, tasks
from pipeline.synthesis import synthesize_spirit


@pytest.fixture
def extractions(sent_tasks):
    """The id lists sent to extract_memories, instead of publishing them."""
    return sent_tasks(flow.EXTRACT_MEMORIES, lambda args, countdown: args[0])


def test_extraction_task_is_routed_with_safe_delivery():
    task = tasks.extract_memories
    assert queue_of(task.name) == "synthesis"
    assert task.acks_late is True and task.reject_on_worker_lost is True
    assert set(task.autoretry_for) == {
        OperationalError,
        InterfaceError,
        TransientLanguageModelError,
    }


@pytest.mark.django_db
def test_the_task_extracts_and_is_idempotent(spirit):
    memory = MemoryFactory(spirit=spirit, content="My name is Ada. Always be brief.")

    assert tasks.extract_memories([str(memory.pk)]) == {
        "created": 1,
        "strengthened": 0,
        "closed": 0,
        "lessons": 1,
    }
    assert tasks.extract_memories([str(memory.pk)]) == {
        "created": 0,
        "strengthened": 0,
        "closed": 0,
        "lessons": 0,
    }


@pytest.mark.django_db
def test_synthesis_enqueues_extraction_of_its_memories_on_commit(
    spirit, extractions, django_capture_on_commit_callbacks
):
    EventFactory(spirit=spirit, role="user", content="I live in Paris.")

    with django_capture_on_commit_callbacks(execute=True):
        memories = synthesize_spirit(spirit_id=spirit.pk, force=True)
        assert extractions == []  # nothing before the commit

    assert extractions == [[str(m.pk) for m in memories]] and len(memories) == 1
    tasks.extract_memories(extractions[0])
    assert Knowledge.objects.get(spirit=spirit).content == "The user lives in Paris."
    assert Memory.objects.get().extracted_at is not None


@pytest.mark.django_db
def test_synthesis_without_new_memories_enqueues_nothing(
    spirit, extractions, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert synthesize_spirit(spirit_id=spirit.pk, force=True) == []

    assert extractions == []
