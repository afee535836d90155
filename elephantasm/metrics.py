"""The process's Prometheus metrics (`prometheus-client`; names prefixed `elephantasm_`).

Counters and histograms are defined here, with no import of the project, so any layer may count
(events ingest, search, packs); `elephantasm.monitoring` serves them at /metrics with the
figures read at scrape time (queue depths, pipeline lag). Several processes (gunicorn workers)
share their counts through prometheus-client's multiprocess mode: set PROMETHEUS_MULTIPROC_DIR
to an empty directory for every process (docs/operations.md).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# Latency buckets in seconds, from 1 ms to 10 s.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "elephantasm_http_requests_total",
    "HTTP requests answered, by route template, method and status code.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "elephantasm_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and method.",
    ["route", "method"],
    buckets=BUCKETS,
)
EVENTS_INGESTED = Counter(
    "elephantasm_events_ingested_total",
    "Events received through the API, by result: created, duplicate or error.",
    ["result"],
)
QUERY_EMBEDDING_LATENCY = Histogram(
    "elephantasm_query_embedding_seconds",
    "Time to embed a search or pack query.",
    buckets=BUCKETS,
)
SEARCH_LATENCY = Histogram(
    "elephantasm_search_seconds", "Time of a hybrid search (the service).", buckets=BUCKETS
)
PACK_LATENCY = Histogram(
    "elephantasm_pack_seconds", "Time to compile a context pack (the service).", buckets=BUCKETS
)
