"""The process's Prometheus metrics (`prometheus-client`; names prefixed `elephantasm_`).

Counters and histograms are defined here, with no import of the project, so any layer may count
(events ingest, search, packs, Celery tasks); `elephantasm.monitoring` serves them at /metrics
with the figures read at scrape time (queue depths and ages, pipeline lag). Several processes
(gunicorn workers, Celery's pool processes) share their counts through prometheus-client's
multiprocess mode: set PROMETHEUS_MULTIPROC_DIR to an empty directory for every process of a
host; a worker on another host serves its own (WORKER_METRICS_PORT: elephantasm.task_metrics,
docs/operations.md).
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, multiprocess

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

# Celery tasks, counted in the worker process that runs them (elephantasm.task_metrics). Task
# durations run from 10 ms to 10 minutes (a synthesis or a dream can take minutes).
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
TASK_RUNS = Counter(
    "elephantasm_task_runs_total",
    "Celery task runs that ended, whatever their outcome (a retry is a new run), by task name.",
    ["task"],
)
TASK_FAILURES = Counter(
    "elephantasm_task_failures_total",
    "Celery task runs that failed (raised, not retried), by task name.",
    ["task"],
)
TASK_RETRIES = Counter(
    "elephantasm_task_retries_total",
    "Celery task runs that ended in a retry (a transient error: sent again later), by task name.",
    ["task"],
)
TASK_DURATION = Histogram(
    "elephantasm_task_duration_seconds",
    "Time of a Celery task run, from its start to its end whatever the outcome, by task name.",
    ["task"],
    buckets=TASK_BUCKETS,
)


def multiprocess_dir() -> str:
    """PROMETHEUS_MULTIPROC_DIR, or "" when the process keeps its counts to itself."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def process_registry() -> CollectorRegistry:
    """What this process exposes: its own counts (the default registry), or, in multiprocess
    mode, a new registry that adds up the counts every process wrote to PROMETHEUS_MULTIPROC_DIR
    (a pool process's too, living or dead)."""
    if not multiprocess_dir():
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry
