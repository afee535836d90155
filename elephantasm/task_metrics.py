"""Celery task metrics, counted where the tasks run, and how a scrape gets to see them.

- Every run is counted by task name from Celery's signals, in the process that runs it (a pool
  process of the worker): `elephantasm_task_runs_total` when it ends, whatever the outcome;
  `elephantasm_task_failures_total` (task_failure), `elephantasm_task_retries_total`
  (task_retry), and `elephantasm_task_duration_seconds` from task_prerun to task_postrun.
- **One host**: with PROMETHEUS_MULTIPROC_DIR set (the same empty directory for the web processes
  and the workers of the host), every process writes its counts there and the web's /metrics
  adds them up (elephantasm.monitoring).
- **Workers on other hosts**: with WORKER_METRICS_PORT set (0, the default, is off), the worker's
  main process serves `GET /metrics` on WORKER_METRICS_ADDR:WORKER_METRICS_PORT, guarded by
  METRICS_TOKEN as the web's is. A prefork pool (Celery's default) runs tasks in child
  processes, so the exporter needs PROMETHEUS_MULTIPROC_DIR too (a directory of the worker's own
  is enough); without it the exporter is not started and an error says why.
- Every task message carries the unix time it was published in its `published_at` header
  (before_task_publish), from which /metrics tells the age of each queue's oldest message
  (`message_ready_at`).

docs/operations.md ("Metrics of the workers") says how to set them up.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from celery.signals import (
    before_task_publish,
    task_failure,
    task_postrun,
    task_prerun,
    task_retry,
    worker_init,
    worker_shutdown,
)
from django.conf import settings
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from .metrics import (
    TASK_DURATION,
    TASK_FAILURES,
    TASK_RETRIES,
    TASK_RUNS,
    multiprocess_dir,
    process_registry,
)

logger = logging.getLogger(__name__)

PUBLISHED_AT_HEADER = "published_at"

# task id -> perf_counter() at its start (a thread pool runs several at once).
_started: dict[str, float] = {}


# --- Counting -------------------------------------------------------------------------------------


@task_prerun.connect
def _run_started(task_id=None, **kwargs) -> None:
    if task_id:
        _started[task_id] = time.perf_counter()


@task_postrun.connect
def _run_ended(task_id=None, task=None, **kwargs) -> None:
    name = getattr(task, "name", None) or "unknown"
    TASK_RUNS.labels(name).inc()
    started = _started.pop(task_id, None)
    if started is not None:
        TASK_DURATION.labels(name).observe(time.perf_counter() - started)


@task_failure.connect
def _run_failed(sender=None, **kwargs) -> None:
    TASK_FAILURES.labels(getattr(sender, "name", None) or "unknown").inc()


@task_retry.connect
def _run_retried(sender=None, **kwargs) -> None:
    TASK_RETRIES.labels(getattr(sender, "name", None) or "unknown").inc()


# --- The publication time of a message ------------------------------------------------------------


@before_task_publish.connect
def _stamp_published_at(headers=None, **kwargs) -> None:
    if headers is not None:
        headers[PUBLISHED_AT_HEADER] = time.time()


def message_ready_at(raw: bytes | str) -> float | None:
    """When a task message waiting in a Redis list became due, in unix seconds: when it was
    published (its `published_at` header) or, for a message with an ETA (a countdown) later than
    that, its ETA. None for a message that does not say (not JSON, another producer)."""
    try:
        headers = json.loads(raw).get("headers") or {}
        ready = float(headers[PUBLISHED_AT_HEADER])
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    eta = headers.get("eta")
    if isinstance(eta, str):
        with contextlib.suppress(ValueError):
            ready = max(ready, datetime.fromisoformat(eta).timestamp())
    return ready


# --- The worker's exporter ------------------------------------------------------------------------


class MetricsServer(ThreadingHTTPServer):
    """GET /metrics in the Prometheus text format from `registry`; with `token`, only for
    `Authorization: Bearer <token>`. Serves from a daemon thread (`start`) until `stop`."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], registry: CollectorRegistry, token: str = ""):
        super().__init__(address, _MetricsHandler)
        self.registry = registry
        self.token = token
        self.thread = threading.Thread(
            target=self.serve_forever, name="worker-metrics", daemon=True
        )

    @property
    def port(self) -> int:
        return self.server_address[1]

    def start(self) -> MetricsServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _MetricsHandler(BaseHTTPRequestHandler):
    server: MetricsServer

    def do_GET(self) -> None:  # http.server's name
        if self.path.split("?", 1)[0] not in ("/metrics", "/"):
            self._answer(404, b"Not found: the metrics are at /metrics.\n", "text/plain")
            return
        token = self.server.token
        given = self.headers.get("Authorization", "")
        if token and not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            self._answer(401, b"This needs the metrics token.\n", "text/plain")
            return
        self._answer(200, generate_latest(self.server.registry), CONTENT_TYPE_LATEST)

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if status == 401:
            self.send_header("WWW-Authenticate", 'Bearer realm="metrics"')
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:
        pass  # a scrape every few seconds is not worth a log line


def _pool_forks(worker) -> bool:
    """Whether the worker's pool runs tasks in child processes (prefork, Celery's default)."""
    pool = getattr(worker, "pool_cls", None) or "prefork"
    name = pool if isinstance(pool, str) else f"{pool.__module__}.{pool.__qualname__}"
    return "prefork" in name or "processes" in name


_servers: dict[int, MetricsServer] = {}


@worker_init.connect
def start_exporter(sender=None, **kwargs) -> MetricsServer | None:
    """At a worker's start, with WORKER_METRICS_PORT set: serve its metrics (see the module's
    docstring). A port in use or a prefork pool without PROMETHEUS_MULTIPROC_DIR is logged as an
    error and the worker runs without the exporter."""
    port = settings.WORKER_METRICS_PORT
    if not port:
        return None
    if _pool_forks(sender) and not multiprocess_dir():
        logger.error(
            "Worker metrics not served: a prefork pool counts in its child processes, which the "
            "exporter sees only through PROMETHEUS_MULTIPROC_DIR (set it to an empty directory)."
        )
        return None
    address = (settings.WORKER_METRICS_ADDR, port)
    try:
        server = MetricsServer(address, process_registry(), settings.METRICS_TOKEN).start()
    except OSError as exc:
        logger.error("Worker metrics not served on %s:%s: %s", *address, exc)
        return None
    _servers[id(sender)] = server
    logger.info("Worker metrics at http://%s:%s/metrics", *address)
    return server


@worker_shutdown.connect
def stop_exporter(sender=None, **kwargs) -> None:
    server = _servers.pop(id(sender), None)
    if server is not None:
        server.stop()
