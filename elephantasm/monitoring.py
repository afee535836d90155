"""/metrics in the Prometheus text format, and the middleware that counts HTTP requests.

What the process counts is in `elephantasm.metrics`; read at scrape time here:
- `elephantasm_queue_depth{queue}`: messages waiting in each Celery queue (Redis lists, the
  priority sub-lists included);
- `elephantasm_pipeline_lag_seconds{step}`: the age of the oldest event not yet enriched
  (`enrichment`) and of the oldest live event not yet synthesized (`synthesis`); 0 when none.
A figure that cannot be read (the broker or the database down) is left out of the scrape, and
the scrape still answers.

With METRICS_TOKEN set, /metrics needs `Authorization: Bearer <token>` (401 otherwise); empty,
it is open (put it behind the network's own rules).
"""

from __future__ import annotations

import functools
import hmac
import logging
import os
import time
from datetime import datetime

import redis
from django.conf import settings
from django.db import DatabaseError
from django.db.models import Min
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from events.models import Event
from spirits.models import CURATED_STATUSES

from .api.errors import ErrorCode, error_body
from .metrics import HTTP_LATENCY, HTTP_REQUESTS

logger = logging.getLogger(__name__)

# kombu's Redis transport keeps a queue's messages of priority p > 0 in "<queue>\x06\x16<p>"
# (queue_order_strategy "priority", its default steps).
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (3, 6, 9)


class ScrapeTimeCollector:
    """The figures read when /metrics is scraped (see the module's docstring)."""

    def describe(self):
        """The families without values: registering must not read Redis or the database."""
        yield GaugeMetricFamily("elephantasm_queue_depth", "", labels=["queue"])
        yield GaugeMetricFamily("elephantasm_pipeline_lag_seconds", "", labels=["step"])

    def collect(self):
        depths = queue_depths()
        if depths is not None:
            family = GaugeMetricFamily(
                "elephantasm_queue_depth", "Messages waiting in a Celery queue.", labels=["queue"]
            )
            for queue, depth in depths.items():
                family.add_metric([queue], depth)
            yield family
        lags = pipeline_lags()
        if lags is not None:
            family = GaugeMetricFamily(
                "elephantasm_pipeline_lag_seconds",
                "Age of the oldest event a pipeline step has still to do (0: none).",
                labels=["step"],
            )
            for step, seconds in lags.items():
                family.add_metric([step], seconds)
            yield family


@functools.cache
def _broker(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)


def queue_depths() -> dict[str, int] | None:
    """{queue: messages waiting} for the queues the workers consume; None when Redis does not
    answer (or the broker is not Redis)."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    try:
        with _broker(url).pipeline(transaction=False) as pipe:
            for queue in settings.WORKER_QUEUES:
                pipe.llen(queue)
                for step in PRIORITY_STEPS:
                    pipe.llen(f"{queue}{PRIORITY_SEPARATOR}{step}")
            lengths = pipe.execute()
    except (redis.RedisError, OSError) as exc:
        logger.warning("Metrics: queue depths not read: %s", exc)
        return None
    per_queue = 1 + len(PRIORITY_STEPS)
    return {
        queue: sum(lengths[i * per_queue : (i + 1) * per_queue])
        for i, queue in enumerate(settings.WORKER_QUEUES)
    }


def pipeline_lags(now: datetime | None = None) -> dict[str, float] | None:
    """{step: seconds}: the age of the oldest event still to enrich, and still to synthesize."""
    now = now or timezone.now()
    try:
        oldest = {
            "enrichment": Event.objects.filter(enriched_at__isnull=True).aggregate(
                at=Min("created_at")
            )["at"],
            # what the synthesis sweep would take: live events of live, curated spirits
            "synthesis": Event.objects.filter(
                synthesized_at__isnull=True,
                spirit__deleted_at__isnull=True,
                spirit__status__in=CURATED_STATUSES,
            ).aggregate(at=Min("created_at"))["at"],
        }
    except DatabaseError as exc:
        logger.warning("Metrics: pipeline lag not read: %s", exc)
        return None
    return {
        step: round(max(0.0, (now - at).total_seconds()), 3) if at else 0.0
        for step, at in oldest.items()
    }


def _registry() -> CollectorRegistry:
    """The default registry, or one that adds up every process's figures in multiprocess mode
    (PROMETHEUS_MULTIPROC_DIR set)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(ScrapeTimeCollector())
    return registry


def _authorized(request) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return True
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


@never_cache
def metrics_view(request):
    if request.method not in ("GET", "HEAD"):
        return JsonResponse(
            error_body(ErrorCode.METHOD_NOT_ALLOWED, f'Method "{request.method}" not allowed.'),
            status=405,
        )
    if not _authorized(request):
        response = JsonResponse(
            error_body(ErrorCode.AUTHENTICATION_FAILED, "This needs the metrics token."),
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


class RequestMetricsMiddleware:
    """Counts every request by its route template (not its path: ids would make a series per
    object), method and status, and times it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.route if match is not None and match.route else "unmatched"
        if route != "metrics":
            method = request.method if request.method in _METHODS else "other"
            HTTP_REQUESTS.labels(route, method, str(response.status_code)).inc()
            HTTP_LATENCY.labels(route, method).observe(time.perf_counter() - started)
        return response


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    REGISTRY.register(ScrapeTimeCollector())
