"""manage.py reembed: in process (--sync) and through a real worker on Redis."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from elephantasm.ai.embeddings import get_embedder
from elephantasm.tests.waiting import real_worker
from events.models import Event, EventEmbedding
from events.tests.factories import EventFactory
from memories.models import Knowledge, Lesson, Memory
from memories.tests.factories import KnowledgeFactory, LessonFactory, MemoryFactory
from pipeline import flow

MODEL = get_embedder().model_name
OLD = [0.0] * 383 + [1.0]


def reembed(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("reembed", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def outdated(spirit):
    """One row of each kind embedded by another model, and one of each up to date."""
    now = timezone.now()
    rows = {
        "events": [embedded_event(spirit, "old", now), embedded_event(spirit, MODEL, now)],
    }
    for kind, factory in [
        ("memories", MemoryFactory),
        ("knowledge", KnowledgeFactory),
        ("lessons", LessonFactory),
    ]:
        old = factory(spirit=spirit, embedding=OLD, embedding_model="old", embedding_stale=False)
        current = factory(
            spirit=spirit, embedding=OLD, embedding_model=MODEL, embedding_stale=False
        )
        rows[kind] = [old, current]
    return rows


def embedded_event(spirit, model: str, now):
    event = EventFactory(spirit=spirit, enriched_at=now)
    EventEmbedding.objects.create(event=event, embedding=OLD, model=model)
    return event


def vector_of(row) -> list[float]:
    """A row's stored vector: events keep theirs in EventEmbedding."""
    row.refresh_from_db()
    return list(row.vector.embedding if isinstance(row, Event) else row.embedding)


def embeddings_by_model() -> set[str]:
    models = set(EventEmbedding.objects.values_list("model", flat=True))
    for model in (Memory, Knowledge, Lesson):
        models |= set(model.all_objects.values_list("embedding_model", flat=True))
    return models


@pytest.mark.django_db
def test_sync_reembeds_only_outdated_rows_with_a_progress_bar(outdated):
    out, err = reembed("--sync", "--batch", "1")

    assert "To embed: events 1, memories 1, knowledge 1, lessons 1" in out
    assert "[##############################] 4/4" in err
    assert "/s" in err
    assert embeddings_by_model() == {MODEL}
    for old, current in outdated.values():
        old.refresh_from_db()
        current.refresh_from_db()
        assert vector_of(old) != OLD  # embedded again
        assert vector_of(current) == OLD  # left alone


@pytest.mark.django_db
def test_sync_with_all_reembeds_every_row_of_the_chosen_model(outdated):
    out, _ = reembed("--sync", "--all", "--model", "memories")

    assert "To embed: memories 2" in out
    for memory in outdated["memories"]:
        memory.refresh_from_db()
        assert list(memory.embedding) != OLD
    event = outdated["events"][0]
    event.refresh_from_db()
    assert event.vector.model == "old"  # other kinds untouched


@pytest.mark.django_db
def test_nothing_to_do_is_reported(spirit):
    out, err = reembed("--sync")

    assert "To embed: events 0, memories 0, knowledge 0, lessons 0" in out
    assert "0/0" in err


@pytest.mark.django_db
def test_batch_must_be_positive():
    with pytest.raises(CommandError, match="--batch"):
        reembed("--batch", "0")


@pytest.mark.django_db(transaction=True)
def test_reembed_enqueues_tasks_and_waits_for_a_real_worker(outdated, route_to_private_queue):
    # not a `make run` worker's queue
    queue = route_to_private_queue(flow.ENRICH_EVENTS, flow.EMBED_STALE)

    with real_worker(queue):
        out, err = reembed("--all", "--batch", "2", "--timeout", "60")

    assert "To embed: events 2, memories 2, knowledge 2, lessons 2" in out
    assert "8/8" in err
    assert "Embedded 8 rows." in out
    assert embeddings_by_model() == {MODEL}
    for rows in outdated.values():
        for row in rows:
            row.refresh_from_db()
            assert vector_of(row) != OLD


@pytest.mark.django_db
def test_reembed_times_out_when_no_worker_answers(outdated, sent_tasks):
    # Results that never become ready (unknown task ids), without leaving messages on Redis.

    with pytest.raises(CommandError, match="Timed out"):
        reembed("--model", "lessons", "--timeout", "0.3")
