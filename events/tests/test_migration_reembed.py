"""Migration 0011: events embedded by the offline model's previous products are set to be
enriched again, so the pipeline's sweep embeds them (run here on the current models)."""

import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from events.models import Event, EventEmbedding

from .factories import EventFactory

migration = importlib.import_module("events.migrations.0011_reembed_int8_products")

pytestmark = pytest.mark.django_db


def _enriched(model_name: str | None) -> Event:
    event = EventFactory(enriched_at=timezone.now(), meta_summary="a summary")
    if model_name:
        EventEmbedding.objects.create(event=event, embedding=[0.0] * 383 + [1.0], model=model_name)
    return event


def test_events_of_the_previous_model_are_enriched_again_and_no_other():
    previous = _enriched(migration.PREVIOUS_MODEL)
    current = _enriched("all-MiniLM-L6-v2-onnx-int8-dq")

    migration.mark_for_enrichment(apps, None)

    previous.refresh_from_db()
    current.refresh_from_db()
    assert previous.enriched_at is None
    assert previous.meta_summary == "a summary"  # the Cortex keeps it when it comes back
    assert current.enriched_at is not None
