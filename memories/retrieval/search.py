"""Hybrid search of one spirit's memory: pgvector HNSW + PostgreSQL full-text, fused by RRF.

1. The query is embedded with the configured embedder (skipped when the vector weight is 0),
   in a background thread while the text lists are read (measured: search p50 -2 ms, pack
   p50 -6 ms at 100,000 memories, bench/retrieval.py).
2. Per kind, the `depth` best rows for the text query: BM25 over the query's words by default
   (`text_match: any`), `ts_rank_cd` for web-search syntax (`all`); skipped when the text weight
   is 0 or the query has no searchable word. Events not embedded yet are found here.
3. Per kind, the `depth` nearest rows by cosine distance, with
   `hnsw.iterative_scan = relaxed_order`: the index scan goes on until enough rows pass the
   filters (one spirit among many, a status, a tag), so a filtered search still returns k rows.
   Each list of every kind is one statement (`candidate_lists`, which the pack compiler also
   uses for several kinds at once); the vector statement and its scan settings go in one
   round trip (`vector_lists`).
4. Weighted reciprocal rank fusion (`fusion.fuse`) of one vector list and one text list across
   kinds, each cut to `depth`, so a small kind whose every row is a candidate in both lists does
   not outrank the best match of one list; then diversity by provenance
   (`diversity.diversify`: a memory whose event is listed above it moves down); the k best are
   loaded and returned with their reasons.

The caller scopes: `spirit` must be one the caller may read (the API looks it up through the
caller's teams).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from elephantasm.ai.embeddings import Embedder, get_embedder
from elephantasm.metrics import QUERY_EMBEDDING_LATENCY, SEARCH_LATENCY
from elephantasm.models import TEXT_SEARCH_CONFIG
from spirits.models import Spirit

from . import statistics
from .diversity import diversify
from .fusion import Fused, Weights, fuse
from .hits import SearchHit, load_hits
from .kinds import KIND_SPECS, Columns, SqlPart, query_vector, run_together
from .query import SearchQuery

DEPTH_MIN = 20
DEPTH_MAX = 200
EF_SEARCH_MIN = 40
# Diversity looks at the first DIVERSITY_WINDOW * k fused candidates (diversity.diversify).
DIVERSITY_WINDOW = 3
EF_SEARCH_MAX = 1000
# Query embeddings run here, beside the SQL of the same request (several threads: other
# requests of the process may embed at the same time). A forked child (a prefork worker, a
# preloading server) gets a pool of its own: the parent's threads do not exist in it.
_EMBEDDING_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="query-embedding")


def _new_pool_in_child() -> None:
    global _EMBEDDING_POOL
    _EMBEDDING_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="query-embedding")


os.register_at_fork(after_in_child=_new_pool_in_child)


@dataclass(slots=True)
class SearchResult:
    query: SearchQuery
    weights: Weights
    kinds: tuple[str, ...]
    embedding_model: str | None
    text_query: str | None  # the tsquery used, None when the text list was skipped
    hits: list[SearchHit]


def candidate_depth(k: int) -> int:
    """How many candidates each list contributes per kind: deeper than k, so fusion can lift an
    item that is middling in both lists."""
    return max(DEPTH_MIN, min(DEPTH_MAX, 2 * k))


def resolve_weights(spirit: Spirit, query: SearchQuery) -> Weights:
    config = spirit.effective_config["retrieval"]
    vector = query.vector_weight if query.vector_weight is not None else config["vector_weight"]
    text = query.text_weight if query.text_weight is not None else config["text_weight"]
    if vector == 0 and text == 0:  # both from config (the request's are checked before)
        vector = text = 0.5
    return Weights(vector=float(vector), text=float(text), rrf_k=query.rrf_k)


def text_query(text: str, match: str) -> str:
    """The tsquery (as text) for `text`: `all` is websearch_to_tsquery('english', text) (every
    word, "quoted phrases", -negation, or); `any` is the text's lexemes joined by OR (BM25 ranks
    the texts holding any of them: `query_lexemes`). Empty when the text has no searchable word
    (only stop words)."""
    if match == "all":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT websearch_to_tsquery(%s::regconfig, %s)::text",
                [TEXT_SEARCH_CONFIG, text],
            )
            return cursor.fetchone()[0] or ""
    return " | ".join(query_lexemes(text))


def query_lexemes(text: str) -> dict[str, str]:
    """The text's distinct lexemes (stop words dropped, words stemmed: the text search
    configuration's), each quoted as a tsquery operand -> the bare lexeme."""
    return _lexemes_and_kinds(None, (), text)[0]


_LEXEMES = "tsvector_to_array(to_tsvector(%s::regconfig, %s))"


def _lexemes_and_kinds(
    spirit_id: Any, kinds: tuple[str, ...], text: str | None
) -> tuple[dict[str, str], tuple[str, ...]]:
    """In one round trip: the lexemes of `text` (`query_lexemes`; none when `text` is None) and
    the kinds among `kinds` the spirit has any row of (`kinds.Kind.any_row_sql`)."""
    columns = [_LEXEMES if text is not None else "NULL"]
    params: list[Any] = [TEXT_SEARCH_CONFIG, text] if text is not None else []
    for kind in kinds:
        columns.append(KIND_SPECS[kind].any_row_sql())
        params.append(spirit_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(columns), params)
        lexemes, *present = cursor.fetchone()
    words = {_quoted(lexeme): lexeme for lexeme in lexemes or []}
    return words, tuple(kind for kind, found in zip(kinds, present, strict=True) if found)


def _quoted(lexeme: str) -> str:
    """A lexeme as a tsquery operand: quoted, so no character in it is an operator."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def scan_settings(depth: int) -> str:
    """The statement that makes the transaction's HNSW scans iterative (relaxed order: the
    candidates are sorted again by fusion) with `ef_search` sized to `depth`, so a filtered query
    still yields `depth` rows. Local settings: they end with the transaction."""
    ef_search = max(EF_SEARCH_MIN, min(EF_SEARCH_MAX, 2 * depth))
    return (
        "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), "
        f"set_config('hnsw.ef_search', '{ef_search:d}', true)"
    )


@contextmanager
def vector_scan(depth: int) -> Iterator[None]:
    """A transaction whose HNSW scans are set as `scan_settings` says."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(scan_settings(depth))
        yield


def vector_lists(
    parts: list[SqlPart], depth: int, extra: dict[tuple[str, Any], tuple] | None = None
) -> dict[str, list[Any]]:
    """`run_together(parts)` (vector queries) with the scan settings of `depth`, in one round
    trip: the settings and the query as one two-statement query, which PostgreSQL runs as one
    transaction (so the settings hold for the scan and end with it; through a transaction
    pooler too). That takes Django's client-side binding (its default: the query goes with the
    simple protocol); with `server_side_binding`, a transaction and two statements."""
    if connection.settings_dict["OPTIONS"].get("server_side_binding") is True:
        with vector_scan(depth):
            return run_together(parts, extra=extra)
    return run_together(parts, prelude=scan_settings(depth), extra=extra)


class QueryEmbedding:
    """The query's vector, embedded in a background thread from construction on: the caller
    queries the database meanwhile and waits (`vector()`, `text()`) only when it needs it.
    The thread also writes the vector's text form (what the SQL takes), off the caller's
    path."""

    def __init__(self, text: str, embedder: Embedder | None = None):
        embedder = embedder or get_embedder()
        self.model_name = embedder.model_name
        self._future: Future = _EMBEDDING_POOL.submit(_embed_query, embedder, text)

    def vector(self) -> list[float]:
        return self._future.result()[0]

    def text(self) -> str:
        """The vector in pgvector's text form (`kinds.query_vector`)."""
        return self._future.result()[1]


@QUERY_EMBEDDING_LATENCY.time()
def _embed_query(embedder: Embedder, text: str) -> tuple[list, str]:
    [vector] = embedder.embed([text])
    return vector, query_vector(vector)


@dataclass(slots=True)
class CandidateLists:
    """Per kind, the (id, measure) candidates of each list (see kinds.Kind)."""

    vector: dict[str, list[Any]] = field(default_factory=dict)
    text: dict[str, list[Any]] = field(default_factory=dict)
    text_query: str | None = None  # the tsquery used, None when the text list was skipped
    embedding_model: str | None = None
    extra: dict[tuple[str, Any], tuple] = field(default_factory=dict)  # columns, by (kind, id)


def candidate_lists(
    spirit: Spirit,
    query: SearchQuery,
    depths: Mapping[str, int],
    weights: Weights,
    embedding: QueryEmbedding | None,
    columns: Mapping[str, Columns] | None = None,
) -> CandidateLists:
    """Both candidate lists of each kind in `depths` (kind -> depth), in two statements: the
    text lists of every kind (while `embedding` is computed), then the vector lists (skipped
    when `embedding` is None or the vector weight is 0). Only the vector statement runs in a
    transaction (with its local settings, `vector_lists`): none is held open while the
    embedding is awaited (a remote provider may take seconds; behind a transaction pooler
    that would hold a server connection). `columns` (kind -> `kinds.Columns`): extra columns
    read with the candidates, their values in `CandidateLists.extra`. A kind the spirit has no
    row of is left out of both (asked in the round trip that reads the query's lexemes)."""
    lists = CandidateLists()
    columns = columns or {}
    extra = lists.extra if columns else None
    if not depths:
        return lists
    if weights.vector > 0 and embedding is not None:
        lists.embedding_model = embedding.model_name
    by_words = weights.text > 0 and query.text_match == "any"
    words, present = _lexemes_and_kinds(spirit.pk, tuple(depths), query.text if by_words else None)
    depths = {kind: depth for kind, depth in depths.items() if kind in present}
    if by_words:
        lists.text_query = " | ".join(words)
    if not depths:
        return lists
    if weights.text > 0:
        if by_words:
            counts = statistics.row_counts(spirit.pk) if words else {}
            terms = {
                kind: statistics.split_words(kind, words, counts.get(kind, 0)) for kind in depths
            }
        else:
            lists.text_query = text_query(query.text, query.text_match)
            terms, counts = dict.fromkeys(depths, lists.text_query), {}
        if lists.text_query:
            lists.text = run_together(
                [
                    KIND_SPECS[kind].text_query(
                        spirit.pk,
                        query,
                        terms[kind],
                        depth,
                        columns.get(kind, ()),
                        counts.get(kind, 0),
                    )
                    for kind, depth in depths.items()
                ],
                extra=extra,
            )
    if weights.vector > 0 and embedding is not None:
        vector = embedding.text()
        lists.vector = vector_lists(
            [
                KIND_SPECS[kind].vector_query(
                    spirit.pk, query, vector, embedding.model_name, depth, columns.get(kind, ())
                )
                for kind, depth in depths.items()
            ],
            max(depths.values()),
            extra,
        )
    return lists


@SEARCH_LATENCY.time()
def search(spirit: Spirit, query: SearchQuery, *, embedder: Embedder | None = None) -> SearchResult:
    """The k best items of `spirit` for `query` (ValidationFailed when the query is invalid)."""
    query = query.validated()
    weights = resolve_weights(spirit, query)
    kinds = query.searchable_kinds()
    depth = candidate_depth(query.k)
    embedding = QueryEmbedding(query.text, embedder) if weights.vector > 0 else None
    lists = candidate_lists(spirit, query, dict.fromkeys(kinds, depth), weights, embedding)
    fused: list[Fused] = diversify(
        fuse(lists.vector, lists.text, weights, depth=depth),
        query.k,
        window=DIVERSITY_WINDOW * query.k,
    )
    hits = [SearchHit(kind=f.kind, id=f.id, score=f.score, reasons=f.reasons) for f in fused]
    return SearchResult(
        query=query,
        weights=weights,
        kinds=kinds,
        embedding_model=lists.embedding_model,
        text_query=lists.text_query,
        hits=load_hits(hits),
    )
