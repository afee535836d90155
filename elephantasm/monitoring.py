"""/metrics in the Prometheus text format, and the middleware that counts HTTP requests.

What the process counts is in `elephantasm.metrics`; read at scrape time here:
- `elephantasm_queue_depth{queue}`: messages waiting in each Celery queue (Redis lists, the
  priority sub-lists included);
- `elephantasm_queue_oldest_message_age_seconds{queue}`: how long the oldest of them has been
  waiting (since it was published, or since its ETA for a countdown): the tail of each list, the
  end the workers pop from, read with its `published_at` header (elephantasm.task_metrics); 0
  for an empty queue, left out for a queue whose oldest message does not say;
- `elephantasm_pipeline_lag_seconds{step}`: the age of the oldest event not yet enriched
  (`enrichment`) and of the oldest live event not yet synthesized (`synthesis`: only what the
  synthesis sweep would take, so not the events of spirits paused, archived, deleted or whose
  config turns synthesis off); 0 when none.
A figure that cannot be read (the broker or the database down) is left out of the scrape, and
the scrape still answers. Task runs, failures, retries and durations come from the workers
(elephantasm.task_metrics): in multiprocess mode (PROMETHEUS_MULTIPROC_DIR) this scrape adds up
every process of the host, the workers' included.

With METRICS_TOKEN set, /metrics needs `Authorization: Bearer <token>` (401 otherwise); empty,
it is open (put it behind the network's own rules).
"""

from __future__ import annotations

import functools
import hmac
import logging
import time
from dataclasses import dataclass
from datetime import datetime

import redis
from django.conf import settings
from django.db import DatabaseError
from django.db.models import Min
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from kombu.transport.redis import PRIORITY_STEPS as KOMBU_PRIORITY_STEPS
from kombu.transport.redis import Channel as RedisChannel
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from events.models import Event
from spirits.models import CURATED_STATUSES

from .api.errors import ErrorCode, error_body
from .metrics import HTTP_LATENCY, HTTP_REQUESTS, process_registry
from .task_metrics import message_ready_at

logger = logging.getLogger(__name__)

# kombu's Redis transport keeps a queue's messages of priority step p > 0 in the list
# "<queue><sep><p>" (sep "\x06\x16", steps 0, 3, 6, 9 unless the transport options say otherwise)
# and those of step 0 in "<queue>"; it LPUSHes and the workers BRPOP, so the oldest is at the tail.
PRIORITY_SEPARATOR = RedisChannel.sep


def _queue_lists(queue: str) -> list[str]:
    """The Redis lists of a queue: step 0 (the queue's own name), then each priority step's."""
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS or {}
    sep = options.get("sep", PRIORITY_SEPARATOR)
    prefix = options.get("global_keyprefix", "")
    steps = options.get("priority_steps", KOMBU_PRIORITY_STEPS)
    return [f"{prefix}{queue}"] + [f"{prefix}{queue}{sep}{step}" for step in steps if step]


class ScrapeTimeCollector:
    """The figures read when /metrics is scraped (see the module's docstring)."""

    def collect(self):
        stats = queue_stats()
        if stats is not None:
            depth = GaugeMetricFamily(
                "elephantasm_queue_depth", "Messages waiting in a Celery queue.", labels=["queue"]
            )
            age = GaugeMetricFamily(
                "elephantasm_queue_oldest_message_age_seconds",
                "How long the oldest message of a Celery queue has waited (0: none waits).",
                labels=["queue"],
            )
            for queue, stat in stats.items():
                depth.add_metric([queue], stat.depth)
                if stat.oldest_age is not None:
                    age.add_metric([queue], stat.oldest_age)
            yield depth
            yield age
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


@dataclass(frozen=True, slots=True)
class QueueStat:
    depth: int
    # seconds the oldest message has waited; 0 when empty; None when its message does not say
    oldest_age: float | None


def queue_stats(now: float | None = None) -> dict[str, QueueStat] | None:
    """{queue: its depth and the age of its oldest message} for the queues the workers consume;
    None when Redis does not answer (or the broker is not Redis). `now`: unix seconds."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    lists = {queue: _queue_lists(queue) for queue in settings.WORKER_QUEUES}
    try:
        with _broker(url).pipeline(transaction=False) as pipe:
            for keys in lists.values():
                for key in keys:
                    pipe.llen(key)
                    pipe.lindex(key, -1)  # the tail: the oldest message of the list
            replies = iter(pipe.execute())
    except (redis.RedisError, OSError) as exc:
        logger.warning("Metrics: queue depths not read: %s", exc)
        return None
    now = time.time() if now is None else now
    stats = {}
    for queue, keys in lists.items():
        depth, ready = 0, []
        for _ in keys:
            length, tail = next(replies), next(replies)
            depth += length
            at = message_ready_at(tail) if tail is not None else None
            if at is not None:
                ready.append(at)
        if depth == 0:
            age = 0.0
        elif ready:
            age = round(max(0.0, now - min(ready)), 3)
        else:
            age = None
        stats[queue] = QueueStat(depth, age)
    return stats


def pipeline_lags(now: datetime | None = None) -> dict[str, float] | None:
    """{step: seconds}: the age of the oldest event still to enrich, and still to synthesize."""
    now = now or timezone.now()
    try:
        oldest = {
            "enrichment": Event.objects.filter(enriched_at__isnull=True).aggregate(
                at=Min("created_at")
            )["at"],
            # what the synthesis sweep would take: live events of live, curated spirits whose
            # config leaves synthesis on (spirits.config: synthesis.enabled, true by default)
            "synthesis": Event.objects.filter(
                synthesized_at__isnull=True,
                spirit__deleted_at__isnull=True,
                spirit__status__in=CURATED_STATUSES,
            )
            .exclude(spirit__config__contains={"synthesis": {"enabled": False}})
            .aggregate(at=Min("created_at"))["at"],
        }
    except DatabaseError as exc:
        logger.warning("Metrics: pipeline lag not read: %s", exc)
        return None
    return {
        step: round(max(0.0, (now - at).total_seconds()), 3) if at else 0.0
        for step, at in oldest.items()
    }


class _Scrape:
    """What /metrics answers: the counts of this process, or of every process of the host in
    multiprocess mode (PROMETHEUS_MULTIPROC_DIR: the web processes and the workers), and the
    figures read now. The scrape-time figures are not in the process's registry, so a worker's
    exporter, which serves that registry, never queries Redis or the database."""

    def __init__(self, counts: CollectorRegistry):
        self.counts = counts

    def collect(self):
        yield from self.counts.collect()
        yield from ScrapeTimeCollector().collect()


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
    body = generate_latest(_Scrape(process_registry()))
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


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
