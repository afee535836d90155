"""The default text list (`text_match` "any"): BM25 over the query's lexemes, reading a bounded
part of the index however many rows hold them (stop words are none: the text search
configuration drops them).

The query's words are split by how common they are in their table (`statistics.split_words`,
from PostgreSQL's column statistics), as MaxScore does with the words that cannot bring a result
to the top alone:

- a word rare enough to scan (estimated in at most `statistics.COMMON_ROWS` rows) brings at most
  BM25_CAP rows holding it, the first its GIN index scan finds (unordered: every row of a word
  rarer than the cap). Its document frequency is its count there (exact below the cap; a word
  at the cap is common and weighs little). The scan reads the word's whole posting list, which
  is short by that choice;
- a word too common to scan brings the rows holding one of the common words among the kind's
  newest (`Kind.recent_rows`, RECENT_ROWS; at most BM25_CAP of them), and counts for every
  candidate with its document frequency estimated from the statistics. Its posting list (half a
  million rows for a word of one memory in two at a million) is never read; an old row holding
  only common words of the query is left to the vector list, unless it holds both of the two
  least common ones: those rows are candidates too (at most BM25_CAP) when the less common of
  the two is estimated in at most `statistics.PAIR_ROWS` rows (the GIN index reads its list and
  skips through the other's). "Is Priya vegetarian?" at a million memories, both words common:
  without the pair the text list held other people's diets.

A candidate scores, for each lexeme it holds,

    idf · (k1 + 1) / (1 + k1 · (1 - b + b · length / mean length)),
    idf = max(0, ln((n - df + 0.5) / (df + 0.5))),
    n = max(rows, 2 · the largest df) + 2

(Robertson's IDF: a word in half the rows tells nothing, as a speaker's name in a chat of two;
a row whose words weigh under BM25_MIN_IDF in all is no match. The 2 more rows keep a word of a
spirit's only text findable. `rows` may be minutes old: n is never under twice the commonest
word's df, so a stale count nulls that word at most.)

(a term frequency of 1: short texts; `length(tsvector)` counts distinct lexemes, the mean over
the candidates), so a text matching more and rarer words ranks higher, whether or not it holds
them all.

Measured at a million memories of one spirit (bench/retrieval.py): the bare text SQL went from
5.9 / 22.5 ms p50 / p95 (the commonest words scanned when no word was rare, their bitmaps built
whole) to 3.0 / 3.8 ms with the newest rows alone, and 4.4 / 11.7 ms with the pair.
"""

from __future__ import annotations

# At most this many rows per query word, and BM25's constants (Robertson's usual ones).
BM25_CAP = 300
BM25_K1 = 1.2
BM25_B = 0.75
# A text matches when the IDFs of the words it holds sum to this at least: a word in ~47% of the
# rows or more does not reach it alone.
BM25_MIN_IDF = 0.1
# The newest rows of a kind where the common words find their candidates: ~2.4 µs a row read at
# a million memories, whose newest rows are scattered over the table (bench/retrieval.py
# writes them in random order). Events, a spirit's most numerous rows, read fewer: at 100,000
# events of one spirit a pack took 32 ms p50 with 1,000 of them, 24 ms with 300 (dev harness
# over bench/retrieval.py's corpus).
RECENT_ROWS = 1000
RECENT_EVENT_ROWS = 300


def statement(per_lexeme_sql: str, newest_sql: str, pair_sql: str, depth: int) -> str:
    """The ranked statement: (item_id, text_score, kind) rows, the `depth` best.

    `per_lexeme_sql`: (item_id, document) of the live rows holding `lexemes.lexeme`, at most
    BM25_CAP; `newest_sql`: (item_id, document) of the kind's newest live rows; `pair_sql`:
    those of the live rows holding both words of the pair, at most BM25_CAP. Its parameters, in
    order: the words to scan (quoted lexemes), `per_lexeme_sql`'s, `pair_sql`'s, the pair,
    `newest_sql`'s, the common words three times, their estimated document frequencies, the
    kind's row count, the kind."""
    # The subqueries are the ORM's, the numbers are ints and floats: no input goes in unescaped.
    return (
        # (each word's tsquery, the common words' and the weights' below are computed once,
        # not per row read: MATERIALIZED and a scalar subquery keep the planner from
        # inlining the casts into the scans' filters)
        "WITH lexemes AS MATERIALIZED (SELECT word, word::tsquery AS lexeme "  # noqa: S608
        "FROM unnest(%s::text[]) AS words(word)), "
        "matches AS (SELECT lexemes.word, m.item_id, m.document "
        f"FROM lexemes, LATERAL ({per_lexeme_sql}) AS m), "
        # the rows holding both words of the common pair: a one-time filter skips the scan
        # when there is no pair
        "pair AS (SELECT both_words.item_id, both_words.document "
        f"FROM ({pair_sql}) AS both_words WHERE cardinality(%s::text[]) = 2), "
        # the common words' candidates among the newest rows, skipped as well without any
        "recent AS (SELECT newest.item_id, newest.document "
        f"FROM ({newest_sql}) AS newest WHERE cardinality(%s::text[]) > 0 "
        "AND newest.document @@ (SELECT array_to_string(%s::text[], ' | ')::tsquery) "
        f"LIMIT {BM25_CAP:d}), "
        "frequencies AS (SELECT word, count(*)::float8 AS df FROM matches GROUP BY word "
        "UNION ALL SELECT word, df FROM unnest(%s::text[], %s::float8[]) AS common(word, df)), "
        "candidates AS (SELECT DISTINCT ON (item_id) item_id, document FROM "
        "(SELECT item_id, document FROM matches UNION ALL SELECT item_id, document "
        "FROM recent UNION ALL SELECT item_id, document FROM pair) AS found), "
        "lengths AS (SELECT greatest(avg(length(document)), 1) AS mean_length "
        "FROM candidates), "
        "population AS (SELECT greatest(%s::float8, 2 * max(df)) + 2 AS n "
        "FROM frequencies), "
        "weights AS MATERIALIZED (SELECT word::tsquery AS query, greatest(0, "
        "ln((population.n - df + 0.5) / (df + 0.5))) AS idf FROM frequencies, population) "
        "SELECT candidates.item_id, sum(weights.idf "
        f"* {BM25_K1 + 1:.3f} / (1 + {BM25_K1:.3f} * ({1 - BM25_B:.3f} + {BM25_B:.3f} "
        "* length(candidates.document) / lengths.mean_length))) AS text_score, %s AS kind "
        "FROM candidates JOIN weights "
        "ON candidates.document @@ weights.query, lengths "
        f"GROUP BY candidates.item_id HAVING sum(weights.idf) >= {BM25_MIN_IDF:.3f} "
        f"ORDER BY text_score DESC, candidates.item_id LIMIT {depth:d}"
    )
