"""BM25's statistics (memories.retrieval.statistics): row counts, and the words too common to
scan, from PostgreSQL's column statistics."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from events.tests.factories import EventFactory
from memories.models import Memory
from memories.retrieval import SearchQuery, kinds, search, statistics
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
    scanned, skipped, frequencies, pair = statistics.split_words("memories", words, 61)
    assert scanned == ["'astronom'"] and skipped == ["'coffe'"] and pair == []
    assert 55 <= frequencies[0] <= 61
    only_common = statistics.split_words("memories", {"'coffe'": "coffe"}, 61)
    assert only_common[:2] == ([], ["'coffe'"])  # every word common: none is scanned


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


def newest_window(monkeypatch, kind: str, rows: int) -> None:
    """The kind's window of newest rows (for the common words) made `rows` long."""
    monkeypatch.setitem(kinds.KIND_SPECS, kind, replace(kinds.KIND_SPECS[kind], recent_rows=rows))
    kinds._template.cache_clear()  # the window is compiled into the cached SQL


def test_a_common_word_brings_the_rows_holding_it_among_the_newest(spirit, monkeypatch):
    monkeypatch.setattr(statistics, "COMMON_ROWS", 20)
    newest_window(monkeypatch, "memories", 10)
    start = timezone.now() - timedelta(days=100)
    older = MemoryFactory.create_batch(100, spirit=spirit, content="tea and biscuits", summary="")
    Memory.objects.filter(pk__in=[m.pk for m in older]).update(created_at=start)
    notes = []  # a word in half the rows or more would weigh nothing (BM25's IDF)
    for n in range(60):
        note = MemoryFactory(spirit=spirit, content=f"coffee note {n}", summary="")
        Memory.objects.filter(pk=note.pk).update(created_at=start + timedelta(days=n))
        notes.append(note)
    # among the 10 newest rows, 2 do not hold the word: 8 candidates
    for n in range(2):
        other = MemoryFactory(spirit=spirit, content=f"tea with biscuits {n}", summary="")
        Memory.objects.filter(pk=other.pk).update(created_at=start + timedelta(days=90 + n))
    old_rare = MemoryFactory(spirit=spirit, content="coffee with the astronomer", summary="")
    Memory.objects.filter(pk=old_rare.pk).update(created_at=start - timedelta(days=1))
    analyse()

    def found(text: str) -> list:
        query = SearchQuery(text=text, kinds=("memories",), vector_weight=0, k=50)
        try:
            return [hit.id for hit in search(spirit, query).hits]
        finally:
            kinds._template.cache_clear()

    assert set(found("coffee")) == {note.pk for note in notes[-8:]}  # never the index's order
    rare_too = found("coffee astronomer")
    assert rare_too[0] == old_rare.pk  # a rare word brings its rows, however old
    assert set(rare_too[1:]) == {note.pk for note in notes[-8:]}


def test_an_event_common_word_brings_the_newest_events_by_occurred_at(spirit, monkeypatch):
    monkeypatch.setattr(statistics, "COMMON_ROWS", 20)
    newest_window(monkeypatch, "events", 5)
    start = timezone.now() - timedelta(days=100)
    EventFactory.create_batch(60, spirit=spirit, content="tea and biscuits", occurred_at=start)
    made = [
        EventFactory(spirit=spirit, content=f"coffee again {n}", occurred_at=start + timedelta(n))
        for n in range(40)
    ]
    analyse()

    query = SearchQuery(text="coffee", kinds=("events",), vector_weight=0, k=50)
    try:
        hits = search(spirit, query).hits
    finally:
        kinds._template.cache_clear()

    assert {hit.id for hit in hits} == {row.pk for row in made[-5:]}


def test_rows_holding_both_of_the_two_least_common_words_are_candidates(spirit, monkeypatch):
    monkeypatch.setattr(statistics, "COMMON_ROWS", 20)
    newest_window(monkeypatch, "memories", 10)
    start = timezone.now() - timedelta(days=100)
    rows = [MemoryFactory(spirit=spirit, content="a quiet evening", summary="") for _ in range(80)]
    rows += [
        MemoryFactory(spirit=spirit, content=f"coffee note {n}", summary="") for n in range(40)
    ]
    rows += [MemoryFactory(spirit=spirit, content=f"tea break {n}", summary="") for n in range(30)]
    both = MemoryFactory(spirit=spirit, content="tea or coffee for the guests", summary="")
    Memory.objects.filter(pk__in=[m.pk for m in [*rows, both]]).update(created_at=start)
    for n in range(10):  # the window: newer rows holding neither word
        MemoryFactory(spirit=spirit, content=f"a walk in the park {n}", summary="")
    analyse()
    words = {"'coffe'": "coffe", "'tea'": "tea"}

    def found() -> list:
        query = SearchQuery(text="coffee tea", kinds=("memories",), vector_weight=0, k=50)
        try:
            return [hit.id for hit in search(spirit, query).hits]
        finally:
            kinds._template.cache_clear()

    assert statistics.split_words("memories", words, 161)[3] == ["'tea'", "'coffe'"]
    assert found() == [both.pk]
    monkeypatch.setattr(statistics, "PAIR_ROWS", 30)  # "tea" is in 31 rows: too many to read
    assert statistics.split_words("memories", words, 161)[3] == []
    assert found() == []


def test_the_query_words_are_read_as_a_tsquery_once_per_statement_not_per_row(spirit, monkeypatch):
    """The common words filter the kind's newest rows and every candidate is matched against
    each word for its score: parsing the words into a tsquery per row read cost ~1.5 ms at a
    million memories (1,000 newest rows). The plan reads them once: the filter compares with an
    InitPlan's value, the scoring join with a column the weights computed once."""
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(statistics, "COMMON_ROWS", 20)
    for n in range(60):
        MemoryFactory(spirit=spirit, content=f"coffee note {n}", summary="")
    MemoryFactory(spirit=spirit, content="coffee with the astronomer", summary="")
    analyse()
    query = SearchQuery(text="coffee astronomer", kinds=("memories",), vector_weight=0)
    try:
        with CaptureQueriesContext(connection) as captured:
            hits = search(spirit, query).hits
    finally:
        kinds._template.cache_clear()
    [statement] = [q["sql"] for q in captured.captured_queries if "frequencies AS" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (VERBOSE) " + statement)
        plan = [row[0].strip() for row in cursor.fetchall()]

    assert hits  # the statement ran, with a common word ("coffe") and a scanned one
    filters = [line for line in plan if line.startswith(("Filter:", "Join Filter:"))]
    word_filters = [line for line in filters if "@@" in line]
    assert any("InitPlan" in line for line in word_filters), plan  # the newest rows' filter
    assert any("weights.query" in line for line in word_filters), plan  # the scoring join
    assert not any("::tsquery" in line for line in word_filters), plan
