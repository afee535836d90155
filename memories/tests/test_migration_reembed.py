"""Migration 0011: rows embedded by the offline model's previous products are made stale, so the
pipeline's sweep embeds them again (run here on the current models: the migration's data step
reads only fields they still have)."""

import importlib

import pytest
from django.apps import apps

from memories.models import Knowledge, Lesson, Memory

from .factories import KnowledgeFactory, LessonFactory, MemoryFactory

migration = importlib.import_module("memories.migrations.0011_reembed_int8_products")

pytestmark = pytest.mark.django_db


def _embedded(factory, model_name: str):
    row = factory()
    type(row)._base_manager.filter(pk=row.pk).update(
        embedding=[0.0] * 383 + [1.0], embedding_model=model_name, embedding_stale=False
    )
    return row


def test_rows_of_the_previous_model_become_stale_and_no_other():
    previous = [_embedded(f, migration.PREVIOUS_MODEL) for f in (MemoryFactory, KnowledgeFactory)]
    previous.append(_embedded(LessonFactory, migration.PREVIOUS_MODEL))
    current = _embedded(MemoryFactory, "all-MiniLM-L6-v2-onnx-int8-dq")
    remote = _embedded(KnowledgeFactory, "text-embedding-3-small")

    migration.mark_stale(apps, None)

    for row in previous:
        assert type(row)._base_manager.get(pk=row.pk).embedding_stale is True
    assert Memory._base_manager.get(pk=current.pk).embedding_stale is False
    assert Knowledge._base_manager.get(pk=remote.pk).embedding_stale is False
    assert Lesson._base_manager.filter(embedding_stale=False).count() == 0
