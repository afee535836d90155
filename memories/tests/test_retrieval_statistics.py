"""BM25's statistics (memories.retrieval.statistics): row counts, and the words too common to
scan, from PostgreSQL's column statistics."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from events.tests.factories import EventFactory
from memories.models import Memory
from memories.retrieval import SearchQuery, search, statistics
from spirits.tests.factories import SpiritFactory

from .factories import MemoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh():
    statistics.forget()
    yield
    statistics.forget()


def analyse():
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Memory._meta.db_table}")
        cursor.execute("ANALYZE events_event")


def test_row_counts_count_the_live_rows_of_each_kind(spirit):
    MemoryFactory.create_batch(3, spirit=spirit)
    MemoryFactory(spirit=spirit, deleted_at=timezone.now())
    EventFactory.create_batch(2, spirit=spirit)
    MemoryFactory(spirit=SpiritFactory(team=spirit.team))

    counts = statistics.row_counts(spirit.pk)

    assert counts == {"events": 2, "memories": 3, "knowledge": 0, "lessons": 0}


def test_words_in_more_rows_than_the_limit_are_common_after_analyze(spirit, monkeypatch):
    monkeypatch.setattr(statistics, "COMMON_ROWS", 20)
    for n in range(60):
        MemoryFactory(spirit=spirit, content=f"coffee note {n}", summary="")
        EventFactory(spirit=spirit, content=f"coffee again {n}")
    MemoryFactory(spirit=spirit, content="coffee with the astronomer", summary="")

    analyse()
    common = statistics.common_words()

    assert common["memories"]["coffe"] > 0.9 and "astronom" not in common["memories"]
    assert common["events"]["coffe"] > 0.9  # the expression index's statistics
    words = {"'coffe'": "coffe", "'astronom'": "astronom"}
    scanned, skipped, frequencies = statistics.split_words("memories", words, 61)
    assert scanned == ["'astronom'"] and skipped == ["'coffe'"]
    assert 55 <= frequencies[0] <= 61
    only_common = statistics.split_words("memories", {"'coffe'": "coffe"}, 61)
    assert only_common[0] == ["'coffe'"]  # every word common: the least common is scanned


def test_a_common_word_is_not_scanned_yet_counts_for_the_rows_the_others_bring(spirit, monkeypatch):
    monkeypatch.setattr(statistics, "COMMON_ROWS", 20)
    for n in range(60):
        MemoryFactory(spirit=spirit, content=f"coffee note {n}", summary="")
    both = MemoryFactory(spirit=spirit, content="coffee with the astronomer", summary="")
    alone = MemoryFactory(spirit=spirit, content="an astronomer at dinner", summary="")
    analyse()

    result = search(
        spirit,
        SearchQuery(text="coffee astronomer", kinds=("memories",), vector_weight=0, k=20),
    )

    assert [hit.id for hit in result.hits] == [both.pk, alone.pk]  # no "coffee note" scanned
    assert result.hits[0].reasons.text_score > result.hits[1].reasons.text_score
