"""What BM25 (`bm25`) knows of the texts: each kind's row count for a spirit (the
document count of the IDF), and which words are too common in a table to scan for candidates.

A query word's candidates come from a GIN index scan, and a word found in tens of thousands of
rows builds its whole bitmap first (~5 ms for 36,000 rows, bench/retrieval.py) to bring rows that
carry little signal. PostgreSQL's column statistics (`pg_stats.most_common_elems`, which ANALYZE
and autovacuum keep for a tsvector) say how often the commonest words occur; a word estimated in
more than COMMON_ROWS rows of its table is not scanned: its candidates are the rows holding it
among the spirit's newest (a bounded read), and it counts for every candidate with a document
frequency estimated from its share of the rows. Until a table is analysed nothing is common and
every word is scanned (exact).
"""

from __future__ import annotations

import time
from typing import Any

from django.db import connection
from django.db.models import Count

from events.models import Event
from memories.models import Knowledge, Lesson, Memory

# A word estimated in more rows of its table than this is not scanned for candidates.
COMMON_ROWS = 1000
# The rows holding both of the two least common words of a query are candidates when the less
# common one is estimated in at most this many rows of its table: the GIN index reads its list
# (~3 ms for 20,000 rows) and skips through the other's.
PAIR_ROWS = 20_000
ROW_COUNTS_SECONDS = 300.0
COMMON_SECONDS = 600.0
# Where each kind's word statistics are: (relation, column) in pg_stats.
STATISTICS = {
    "events": (Event._meta.db_table, "search_vector"),
    "memories": (Memory._meta.db_table, "search_vector"),
    "knowledge": (Knowledge._meta.db_table, "search_vector"),
    "lessons": (Lesson._meta.db_table, "search_vector"),
}
MODELS = {"events": Event, "memories": Memory, "knowledge": Knowledge, "lessons": Lesson}

_row_counts: dict[Any, tuple[float, dict[str, int]]] = {}
# [read at (monotonic), {kind: {lexeme: share of rows}}, {kind: rows of its table}]
_common: list[Any] = [0.0, {}, {}]


def row_counts(spirit_id: Any) -> dict[str, int]:
    """Live rows per kind of the spirit, as of at most ROW_COUNTS_SECONDS ago (counting costs
    milliseconds at 100,000 rows, and the IDF barely moves with it)."""
    now = time.monotonic()
    cached = _row_counts.get(spirit_id)
    if cached is not None and now - cached[0] < ROW_COUNTS_SECONDS:
        return cached[1]
    parts = [
        model._base_manager.filter(spirit_id=spirit_id, deleted_at__isnull=True)
        .values("spirit_id")
        .annotate(n=Count("pk"))
        .values("n")
        .query.sql_with_params()
        for model in MODELS.values()
    ]
    sql = "SELECT " + ", ".join(f"coalesce(({part}), 0)" for part, _ in parts)
    with connection.cursor() as cursor:
        cursor.execute(sql, [p for _, params in parts for p in params])
        counts = dict(zip(MODELS, cursor.fetchone(), strict=True))
    if len(_row_counts) > 10_000:
        _row_counts.clear()
    _row_counts[spirit_id] = (now, counts)
    return counts


def common_words() -> dict[str, dict[str, float]]:
    """Per kind, the words estimated in more than COMMON_ROWS rows of its table, with their
    share of the rows; read from pg_stats at most every COMMON_SECONDS."""
    now = time.monotonic()
    if _common[1] and now - _common[0] < COMMON_SECONDS:
        return _common[1]
    pairs = list(STATISTICS.values())
    conditions = " OR ".join("(s.tablename = %s AND s.attname = %s)" for _ in pairs)
    sql = (
        "SELECT s.tablename, s.attname, s.most_common_elems::text::text[], "  # noqa: S608
        "s.most_common_elem_freqs, c.reltuples FROM pg_stats AS s "
        "JOIN pg_class AS c ON c.relname = s.tablename "
        "JOIN pg_namespace AS n ON n.oid = c.relnamespace AND n.nspname = s.schemaname "
        f"WHERE s.schemaname = current_schema() AND ({conditions})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for pair in pairs for value in pair])
        rows = {
            (table, column): (words, shares, total)
            for table, column, words, shares, total in cursor.fetchall()
        }
    found: dict[str, dict[str, float]] = {}
    totals: dict[str, float] = {}
    for kind, pair in STATISTICS.items():
        words, shares, total = rows.get(pair, (None, None, 0))
        totals[kind] = max(total, 0)
        found[kind] = {
            word: share
            for word, share in zip(words or (), shares or (), strict=False)
            if share * max(total, 0) > COMMON_ROWS
        }
    _common[:] = [now, found, totals]
    return found


def forget() -> None:
    """Drop what is cached (tests, and after a bulk load that changed the tables)."""
    _row_counts.clear()
    _common[:] = [0.0, {}, {}]


def split_words(
    kind: str, words: dict[str, str], rows: int
) -> tuple[list[str], list[str], list[float], list[str]]:
    """The query's words (quoted tsquery operand -> bare lexeme) of one kind as BM25 takes them:
    (the words to scan, the common words, their estimated document frequencies among `rows`,
    the pair of common words whose rows holding both are candidates, or none). The common words
    bring their candidates from the kind's newest rows (`bm25`) and from that pair, never from
    the index alone: when every word is common, no word is scanned. The pair is the two least
    common, when the less common is estimated in at most PAIR_ROWS rows of the table."""
    common = common_words().get(kind, {})
    scanned = [quoted for quoted, word in words.items() if word not in common]
    skipped = [quoted for quoted, word in words.items() if word in common]
    frequencies = [max(1.0, common[words[quoted]] * rows) for quoted in skipped]
    rarest = sorted(skipped, key=lambda quoted: common[words[quoted]])[:2]
    table = _common[2].get(kind, 0)
    pair = rarest if len(rarest) == 2 and common[words[rarest[0]]] * table <= PAIR_ROWS else []
    return scanned, skipped, frequencies, pair
