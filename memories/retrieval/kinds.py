"""Per kind: its two candidate lists (vector and text), over the rows its filters let a search
see (`filters`).

Candidates are (id, measure) pairs: cosine distance for the vector list; for the text list, the
BM25 score (`bm25`, the default) or, with web-search syntax, `ts_rank_cd` among the
TEXT_RANK_CAP newest matches. Both are SQL parts (`SqlPart`: the ORM builds the filters) that
`run_together` reads in one statement, with any extra columns a caller asks for (`Columns`: the
pack compiler reads its items so). Vectors of another embedding model than the query's are not
comparable and are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any
from uuid import UUID

from django.contrib.postgres.search import SearchQueryField
from django.db import connection, models
from django.db.models import F
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from pgvector.django import CosineDistance

from elephantasm.ai.embeddings import vector_text
from elephantasm.compiled import Compiled
from events.models import Event, EventEmbedding
from memories.models import Knowledge, Lesson, Memory

from . import bm25
from .filters import (
    Filters,
    event_filters,
    knowledge_filters,
    lesson_filters,
    memory_filters,
)
from .query import SearchQuery

# ts_rank_cd normalisation: 0 = none (a longer text with more matches ranks higher).
TEXT_RANK_NORMALIZATION = 0
# The text list ranks at most this many matching rows per kind, the newest: ranking costs ~9 µs
# a row, and a query whose words are everywhere (7,800 matches of one spirit among 100,000) took
# 94 ms to rank in full, 22 ms to count (measured: bench/retrieval.py). Past this many matches
# the text list carries little signal and the vector list decides.
TEXT_RANK_CAP = 1000


class TsMatch(models.Func):
    """`tsvector @@ tsquery`."""

    arg_joiner = " @@ "
    template = "(%(expressions)s)"
    output_field = models.BooleanField()


def tsquery(text: str) -> Cast:
    """A tsquery given as text (already normalised lexemes: no dictionary applied again)."""
    return Cast(models.Value(text), output_field=SearchQueryField())


SqlPart = tuple[str, list[Any]]
# Extra columns a caller reads with the candidates, after (id, measure, kind): (name, ORM
# expression on the kind's model) pairs, the same names and SQL types for every kind read
# together (the pack compiler reads what an item is made of this way: no second query).
Columns = tuple[tuple[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    model: type[models.Model]
    filters: Callable[[UUID, SearchQuery], Filters]
    # the time its rows are newest by (an index leads with (spirit, this descending)), and how
    # many of the newest BM25 reads for the words too common to scan
    recency: str = "created_at"
    recent_rows: int = bm25.RECENT_ROWS

    def any_row_sql(self) -> str:
        """An SQL boolean (one parameter: the spirit's id): whether the spirit has any row of this
        kind, deleted or not. A kind it has none of has nothing to find: its lists are neither
        planned nor run (`search.candidate_lists`). Never cached: a spirit's first fact counts
        at once. Read newest first, so the newest-first index answers it (an `EXISTS` was a
        sequential scan through the other spirits' rows: 6 ms at a million memories)."""
        table = connection.ops.quote_name(self.model._meta.db_table)
        newest = connection.ops.quote_name(self.recency)
        return (
            f"((SELECT true FROM {table} WHERE spirit_id = %s "  # noqa: S608 - a model's names
            f"ORDER BY {newest} DESC LIMIT 1) IS NOT NULL)"
        )

    # --- vector ----------------------------------------------------------------------------------

    def vector_query(
        self,
        spirit_id: UUID,
        q: SearchQuery,
        vector: Any,
        model_name: str,
        depth: int,
        columns: Columns = (),
    ) -> SqlPart:
        """The `depth` nearest rows by cosine distance (HNSW), as (id, distance, kind, *columns)
        rows. Run it with iterative scans on (search.vector_lists), so rows the filters drop do
        not shrink the list. `vector`: a list of floats or `query_vector(...)` of it."""
        vector = vector if isinstance(vector, str) else query_vector(vector)
        values = {"spirit_id": spirit_id, "vector": vector, "model_name": model_name}
        return _template(self.name, "vector", _shape(q), depth, columns).filled(values)

    def _vector_sql(
        self,
        spirit_id: UUID,
        q: SearchQuery,
        vector: str,
        model_name: str,
        depth: int,
        columns: Columns = (),
    ) -> SqlPart:
        if self.model is Event:
            qs = EventEmbedding.objects.filter(
                *event_filters(spirit_id, q, prefix="event__"), model=model_name
            )
            id_field = "event_id"
        else:
            qs = self.model._base_manager.filter(
                *self.filters(spirit_id, q), embedding_model=model_name
            )
            id_field = "pk"
        distance = CosineDistance("embedding", models.Value(vector))
        inline = columns if self.model is not Event else ()  # an event's columns: joined
        rows = (
            qs.annotate(distance=distance, kind=_label(self.name), **dict(inline))
            .annotate(item_id=F(id_field), text_score=F("distance"))
            .order_by("distance")
            .values_list("item_id", "text_score", "kind", *(name for name, _ in inline))[:depth]
        )
        sql, params = rows.query.sql_with_params()
        if inline != columns:
            return self._with_columns(sql, list(params), columns)
        return sql, params

    # --- text ------------------------------------------------------------------------------------

    def text_query(
        self,
        spirit_id: UUID,
        q: SearchQuery,
        query_text: str | tuple[list[str], list[str], list[float]],
        depth: int,
        columns: Columns = (),
        rows: float = 0.0,
    ) -> SqlPart:
        """The `depth` best rows for the text query, as (id, score, kind, *columns) rows.
        `text_match` "any": `query_text` is (the lexemes to scan, the common ones, their
        estimated document frequencies, the common pair: `statistics.split_words`) and the
        score BM25's (see `bm25`; `rows`: how many rows the kind has, for the IDF); "all": a
        tsquery and the score `ts_rank_cd` among the TEXT_RANK_CAP newest rows matching it."""
        if q.text_match == "any":
            scanned, common, frequencies, pair = query_text
            values = {
                "spirit_id": spirit_id,
                "lexemes": list(scanned),
                "common": list(common),
                "pair": list(pair),
                "common_df": [float(f) for f in frequencies],
                "rows": float(rows),
            }
        else:
            values = {"spirit_id": spirit_id, "query_text": query_text}
        return _template(self.name, "text", _shape(q), depth, columns).filled(values)

    def _text_sql(
        self, spirit_id: UUID, q: SearchQuery, query_text: Any, depth: int, columns: Columns = ()
    ) -> SqlPart:
        if q.text_match == "any":
            ranked, params = self._bm25_sql(spirit_id, q, depth)
        else:
            ranked, params = self._ts_rank_sql(spirit_id, q, query_text, depth)
        return self._with_columns(ranked, params, columns)

    def _ts_rank_sql(self, spirit_id: UUID, q: SearchQuery, query_text: str, depth: int) -> SqlPart:
        document = F("search_vector")  # every kind stores its tsvector
        query = tsquery(query_text)
        newest = (
            self.model._base_manager.filter(*self.filters(spirit_id, q))
            .filter(TsMatch(document, query))
            .annotate(item_id=F("pk"), document=document)
            .order_by("-created_at")
            .values_list("item_id", "document")[:TEXT_RANK_CAP]
        )
        sql, params = newest.query.sql_with_params()
        # The subqueries are the ORM's, the numbers are ints, the names the caller's
        # identifiers: no input goes in unescaped.
        ranked = (
            f"SELECT item_id, ts_rank_cd(document, %s::tsquery, {TEXT_RANK_NORMALIZATION:d}) "  # noqa: S608
            f"AS text_score, %s AS kind FROM ({sql}) AS matches "
            f"ORDER BY text_score DESC, item_id LIMIT {depth:d}"
        )
        return ranked, [query_text, self.name, *params]

    def _bm25_sql(self, spirit_id: UUID, q: SearchQuery, depth: int) -> SqlPart:
        """BM25 over the query's lexemes (`bm25.statement`): the live rows holding each word to
        scan (at most BM25_CAP each, the first the GIN index finds), the kind's `recent_rows`
        newest, where the common words find their rows, and those holding both words of the
        common pair."""
        document = F("search_vector")  # every kind stores its tsvector
        rows = self.model._base_manager.filter(*self.filters(spirit_id, q)).annotate(
            item_id=F("pk"), document=document
        )

        def holding(query: Any) -> SqlPart:  # at most BM25_CAP live rows matching `query`
            matching = rows.filter(TsMatch(document, query)).order_by()
            capped = matching.values_list("item_id", "document")[: bm25.BM25_CAP]
            return capped.query.sql_with_params()

        stand = _STAND_INS
        sql, params = holding(RawSQL("lexemes.lexeme", (), output_field=SearchQueryField()))
        both = RawSQL("array_to_string(%s::text[], ' & ')", (stand["pair"],))
        pair_sql, pair_params = holding(Cast(both, output_field=SearchQueryField()))
        newest = rows.order_by(f"-{self.recency}").values_list("item_id", "document")
        recent_sql, recent_params = newest[: self.recent_rows].query.sql_with_params()
        return bm25.statement(sql, recent_sql, pair_sql, depth), [
            stand["lexemes"],
            *params,
            *pair_params,
            stand["pair"],
            *recent_params,
            stand["common"],
            stand["common"],
            stand["common"],
            stand["common_df"],
            stand["rows"],
            self.name,
        ]

    def _with_columns(self, ranked: str, params: list, columns: Columns) -> SqlPart:
        if not columns:
            return ranked, params
        # The columns of the `depth` ranked rows only (not of every match ranked): joined by id.
        names = [name for name, _ in columns]
        rows_sql, rows_params = (
            self.model._base_manager.annotate(row_id=F("pk"), **dict(columns))
            .values_list("row_id", *names)
            .query.sql_with_params()
        )
        selected = "".join(f", item_rows.{connection.ops.quote_name(name)}" for name in names)
        joined = (
            f"SELECT ranked.item_id, ranked.text_score, ranked.kind{selected} "  # noqa: S608
            f"FROM ({ranked}) AS ranked JOIN ({rows_sql}) AS item_rows "
            "ON item_rows.row_id = ranked.item_id"
        )
        return joined, [*params, *rows_params]


# --- Compiled parts ------------------------------------------------------------------------------
# Building and compiling a part with the ORM costs about 1 ms, as much as a small query; an agent
# asks the same shapes again and again (the same filters, another spirit or text). So each shape
# (kind, list, filters, depth) is compiled once (elephantasm.compiled) with stand-ins for what
# changes from call to call (spirit, vector, embedding model, tsquery), and its SQL reused with
# the real values in their places.
_STAND_INS: dict[str, Any] = {
    "spirit_id": UUID("00000000-0000-4000-8000-00005e1ec7ed"),
    "vector": "\x00vector",
    "model_name": "\x00model",
    "query_text": "\x00tsquery",
    "lexemes": ["\x00lexemes"],
    "common": ["\x00common"],
    "pair": ["\x00pair"],
    "common_df": [-7.5e300],
    "rows": -7.25e300,
}


def _shape(q: SearchQuery) -> SearchQuery:
    """What of `q` the SQL depends on: its filters and text mode (not the text, k or weights:
    the tsquery or lexemes are a value, the depth and the columns are given)."""
    return replace(q, text="", k=1, vector_weight=None, text_weight=None, rrf_k=1)


@lru_cache(maxsize=512)
def _template(
    kind: str, which: str, shape: SearchQuery, depth: int, columns: Columns = ()
) -> Compiled:
    spec, stand = KIND_SPECS[kind], _STAND_INS
    if which == "vector":
        sql, params = spec._vector_sql(
            stand["spirit_id"], shape, stand["vector"], stand["model_name"], depth, columns
        )
    else:
        sql, params = spec._text_sql(stand["spirit_id"], shape, stand["query_text"], depth, columns)
        if shape.text_match == "any" and stand["query_text"] in params:
            raise AssertionError(f"{kind} text: a tsquery where lexemes were expected")
    return Compiled.of((sql, params), stand, required=("spirit_id",))  # the spirit must be one


def _label(kind: str) -> models.Value:
    return models.Value(kind, output_field=models.CharField())


def query_vector(vector: list[float]) -> str:
    """The query vector in pgvector's text form, made once for every kind's query."""
    return vector_text(vector)


def run_together(
    parts: list[SqlPart],
    *,
    prelude: str | None = None,
    extra: dict[tuple[str, UUID], tuple] | None = None,
) -> dict[str, list[tuple[UUID, float]]]:
    """(id, measure) rows per kind of several `*_query` parts, read in one statement: a UNION
    ALL of the parenthesized queries, each keeping its own limit (not always its order: a
    list with columns joins them; fusion sorts every list again). `prelude`: a
    statement without parameters sent before it in the same query (a client-side binding
    cursor's: the simple protocol runs both as one transaction), its result skipped. The
    parts' extra columns' values (`Columns`) go to `extra`, by (kind, id)."""
    by_kind: dict[str, list[tuple[UUID, float]]] = {}
    if not parts:
        return by_kind
    sql = " UNION ALL ".join(f"({part_sql})" for part_sql, _ in parts)
    params = [param for _, part_params in parts for param in part_params]
    with connection.cursor() as cursor:
        if prelude is None:
            cursor.execute(sql, params)
        else:
            cursor.execute(f"{prelude}; {sql}", params)
            cursor.nextset()
        for item_id, measure, kind, *values in cursor.fetchall():
            by_kind.setdefault(kind, []).append((item_id, float(measure)))
            if extra is not None:
                extra[kind, item_id] = tuple(values)
    return by_kind


KIND_SPECS: dict[str, Kind] = {
    "events": Kind("events", Event, event_filters, "occurred_at", bm25.RECENT_EVENT_ROWS),
    "memories": Kind("memories", Memory, memory_filters),
    "knowledge": Kind("knowledge", Knowledge, knowledge_filters),
    "lessons": Kind("lessons", Lesson, lesson_filters),
}
