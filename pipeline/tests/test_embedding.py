"""Embedding stale memories, knowledge and lessons: the service, the tasks, a real worker."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.test import override_settings

from elephantasm.ai.embeddings import get_embedder
from elephantasm.tests.routing import queue_of
from elephantasm.tests.waiting import real_worker, wait_until
from memories.models import AuditEntry, Knowledge, Lesson, Memory
from memories.retrieval import SearchQuery, search
from memories.tests.factories import KnowledgeFactory, LessonFactory, MemoryFactory
from pipeline import embedding, flow, tasks

MODEL = get_embedder().model_name


def test_embedded_text_joins_the_fields_of_each_model():
    memory = Memory(summary="S", subject="", content="C")
    knowledge = Knowledge(topic="T", summary="", content="C")
    lesson = Lesson(statement="Do X.", rationale="Because Y.")

    assert embedding.embedding_text(memory) == "S\nC"
    assert embedding.embedding_text(knowledge) == "T\nC"
    assert embedding.embedding_text(lesson) == "Do X.\nBecause Y."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("factory", "model"),
    [(MemoryFactory, Memory), (KnowledgeFactory, Knowledge), (LessonFactory, Lesson)],
)
def test_embed_stale_embeds_stale_rows_with_the_model_name(spirit, factory, model):
    row = factory(spirit=spirit)
    assert row.embedding_stale is True

    assert embedding.embed_stale(model=model) == 1

    row.refresh_from_db()
    assert len(row.embedding) == 384
    assert row.embedding_model == MODEL
    assert row.embedding_stale is False
    [expected] = get_embedder().embed([embedding.embedding_text(row)])
    assert list(row.embedding) == pytest.approx(expected, abs=1e-5)


@pytest.mark.django_db
def test_embed_stale_writes_no_audit_entries(spirit):
    MemoryFactory(spirit=spirit)
    before = AuditEntry.objects.count()

    embedding.embed_stale(model=Memory)

    assert AuditEntry.objects.count() == before


@pytest.mark.django_db
def test_embed_stale_only_touches_the_given_stale_ids_and_is_idempotent(spirit):
    chosen, other = MemoryFactory.create_batch(2, spirit=spirit)

    assert embedding.embed_stale(model=Memory, ids=[chosen.pk]) == 1
    assert embedding.embed_stale(model=Memory, ids=[chosen.pk]) == 0

    other.refresh_from_db()
    assert other.embedding is None and other.embedding_stale is True


@pytest.mark.django_db
def test_embed_stale_without_ids_embeds_every_stale_row_in_batches(spirit):
    MemoryFactory.create_batch(5, spirit=spirit)

    assert embedding.embed_stale(model=Memory, batch_size=2) == 5
    assert not Memory.all_objects.filter(embedding_stale=True).exists()


@pytest.mark.django_db
def test_mark_for_reembedding_flags_missing_and_foreign_model_vectors(spirit):
    _current, foreign, missing = MemoryFactory.create_batch(3, spirit=spirit)
    embedding.embed_stale(model=Memory)
    Memory.all_objects.filter(pk=foreign.pk).update(embedding_model="old-model")
    Memory.all_objects.filter(pk=missing.pk).update(embedding=None)

    assert embedding.mark_for_reembedding(model=Memory) == 2
    assert set(embedding.stale_ids(model=Memory)) == {foreign.pk, missing.pk}
    assert embedding.mark_for_reembedding(model=Memory, everything=True) == 3


def test_unknown_or_unembeddable_labels_are_refused():
    with pytest.raises(ValueError, match="Unknown"):
        embedding.embeddable_model("memories.nothing")
    with pytest.raises(ValueError, match="not embedded"):
        embedding.embeddable_model("events.session")


def test_tasks_are_routed_with_safe_delivery_and_transient_retries_only():
    for task, queue in [(tasks.embed_stale, "embed"), (tasks.embed_pending, "maintenance")]:
        assert queue_of(task.name) == queue
        assert task.acks_late is True
        assert task.reject_on_worker_lost is True
        assert set(task.autoretry_for) == {OperationalError, InterfaceError}
        assert task.retry_backoff is True
        assert task.max_retries == 5
    beat = settings.CELERY_BEAT_SCHEDULE["memories-embed-pending"]
    assert beat["task"] == tasks.embed_pending.name


@pytest.mark.django_db
@override_settings(EMBED_BATCH_SIZE=2)
def test_sweep_enqueues_stale_rows_of_each_model_in_batches(
    spirit, sent_tasks, django_capture_on_commit_callbacks
):
    calls = sent_tasks(flow.EMBED_STALE)
    memories = MemoryFactory.create_batch(3, spirit=spirit)
    lesson = LessonFactory(spirit=spirit)

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.embed_pending() == 4

    assert sorted(len(ids) for label, ids in calls if label == "memories.memory") == [1, 2]
    assert {i for label, ids in calls if label == "memories.memory" for i in ids} == {
        str(m.pk) for m in memories
    }
    assert ("memories.lesson", [str(lesson.pk)]) in calls


@pytest.mark.django_db(transaction=True)
def test_a_stale_memory_is_embedded_by_a_real_worker(spirit, route_to_private_queue):
    queue = route_to_private_queue(flow.EMBED_STALE)  # not a `make run` worker's queue
    memory = MemoryFactory(spirit=spirit)
    knowledge = KnowledgeFactory(spirit=spirit)

    with real_worker(queue):
        tasks.embed_pending.apply()  # the sweep, here; it enqueues to the worker's queue
        wait_until(
            lambda: (
                not Memory.all_objects.filter(embedding_stale=True).exists()
                and not Knowledge.all_objects.filter(embedding_stale=True).exists()
            ),
            "stale rows embedded",
            timeout=60,
        )

    for row in (memory, knowledge):
        row.refresh_from_db()
        assert row.embedding is not None
        assert row.embedding_model == MODEL


@pytest.mark.django_db
def test_each_row_gets_the_vector_of_its_own_text_whatever_the_lengths(spirit):
    rows = [
        MemoryFactory(spirit=spirit, summary="", content="word " * n + "end") for n in (40, 1, 12)
    ]

    embedding.embed_stale(model=Memory)

    expected = get_embedder().embed([embedding.embedding_text(row) for row in rows])
    for row, vector in zip(rows, expected, strict=True):
        row.refresh_from_db()
        assert list(row.embedding) == pytest.approx(vector, abs=1e-5)


@pytest.mark.django_db(transaction=True)
def test_a_memory_written_through_the_api_is_embedded_at_once_and_vector_searchable(
    spirit, api, route_to_private_queue
):
    queue = route_to_private_queue(flow.EMBED_STALE, flow.EXTRACT_MEMORIES)
    with real_worker(queue):
        body = {"spirit_id": str(spirit.pk), "content": "Biscuit is the family's golden retriever."}
        response = api.post("/api/v1/memories/", body, format="json")
        assert response.status_code == 201, response.content
        memory = Memory.objects.get(pk=response.json()["id"])
        # no sweep runs here: the write itself sent the embedding (how fast: make bench)
        wait_until(lambda: not Memory.objects.filter(pk=memory.pk, embedding_stale=True).exists())

    found = search(spirit, SearchQuery(text="which dog do they have", kinds=("memories",), k=1))
    assert [hit.id for hit in found.hits] == [memory.pk]
    assert found.hits[0].reasons.vector_rank == 1
