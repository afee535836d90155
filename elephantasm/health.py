"""Health checks: is the database answering, the broker, a worker, and did beat tick lately.

Each check opens its own short-lived connection with a short timeout, so a check never waits on
(or breaks) a pooled connection and a dead dependency costs about `timeout` seconds, not a hang.
A check never raises: it returns {"ok": True, "latency_ms": ...} or {"ok": False, "error": ...}.
The error is the exception's class name only (the endpoint is public; hostnames and socket paths
stay in the log).
"""

from __future__ import annotations

import copy
import logging
import math
import time
from typing import Any
from urllib.parse import urlparse

import redis
from django.conf import settings
from django.db import DatabaseError, connections
from django.db.utils import load_backend
from redis.backoff import NoBackoff
from redis.retry import Retry

from .celery import app
from .heartbeat import last_beat

logger = logging.getLogger(__name__)

DATABASE_TIMEOUT_SECONDS = 2.0
BROKER_TIMEOUT_SECONDS = 1.0
WORKER_TIMEOUT_SECONDS = 0.5
REDIS_SCHEMES = {"redis", "rediss", "unix"}


class Status:
    OK = "ok"
    DEGRADED = "degraded"  # the database answers, something else does not
    DOWN = "down"  # the database does not answer: nothing works


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def check_database_settings(
    settings_dict: dict[str, Any],
    *,
    alias: str = "health",
    timeout: float = DATABASE_TIMEOUT_SECONDS,
) -> dict[str, Any]:
    """Connect with these Django connection settings on a fresh connection and run `SELECT 1`."""
    params = copy.deepcopy(settings_dict)
    options = params.setdefault("OPTIONS", {})
    # libpq counts connect_timeout in whole seconds (and treats values under 2 as 2).
    options["connect_timeout"] = max(1, math.ceil(timeout))
    wrapper = load_backend(params["ENGINE"]).DatabaseWrapper(params, alias)
    started = time.perf_counter()
    try:
        # One transaction, rolled back: SET LOCAL ends with it, so behind a transaction-pooling
        # pgBouncer the timeout never sticks to a server connection that others then get.
        wrapper.set_autocommit(False)
        with wrapper.cursor() as cursor:
            if wrapper.vendor == "postgresql":
                cursor.execute("SET LOCAL statement_timeout = %s", [max(1, int(timeout * 1000))])
            cursor.execute("SELECT 1")
            cursor.fetchone()
        wrapper.rollback()
    except (DatabaseError, OSError) as exc:
        logger.warning("Health check: database %r is not answering: %s", alias, exc)
        return {"ok": False, "error": type(exc).__name__}
    finally:
        wrapper.close()
    return {"ok": True, "latency_ms": _elapsed_ms(started)}


def check_database(alias: str = "default", *, timeout: float = DATABASE_TIMEOUT_SECONDS) -> dict:
    """Check the database configured under `alias` (a fresh connection, not the pooled one)."""
    return check_database_settings(connections.settings[alias], alias=alias, timeout=timeout)


def check_broker(url: str, *, timeout: float = BROKER_TIMEOUT_SECONDS) -> dict[str, Any]:
    """PING the Redis broker at `url`."""
    scheme = urlparse(url).scheme
    if scheme not in REDIS_SCHEMES:
        return {"ok": False, "error": f"unsupported broker scheme {scheme!r}"}
    client = redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),  # one attempt: redis-py retries 3 times by default
    )
    started = time.perf_counter()
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        logger.warning("Health check: broker is not answering: %s", exc)
        return {"ok": False, "error": type(exc).__name__}
    finally:
        client.close()
    return {"ok": True, "latency_ms": _elapsed_ms(started)}


def check_worker(*, timeout: float = WORKER_TIMEOUT_SECONDS) -> dict[str, Any]:
    """Whether a Celery worker answers a ping (remote control over the broker) within
    `timeout`: the first answer ends the wait."""
    started = time.perf_counter()
    try:
        replies = app.control.ping(timeout=timeout, limit=1) or []
    except Exception as exc:  # kombu and redis raise many kinds: a check never raises
        logger.warning("Health check: could not ping the workers: %s", exc)
        return {"ok": False, "error": type(exc).__name__}
    if not replies:
        return {"ok": False, "error": "no worker answered"}
    return {"ok": True, "latency_ms": _elapsed_ms(started)}


def check_beat(url: str, *, stale_after: float | None = None) -> dict[str, Any]:
    """Whether beat ticked within `stale_after` seconds (BEAT_STALE_SECONDS): its heartbeat."""
    stale_after = settings.BEAT_STALE_SECONDS if stale_after is None else stale_after
    try:
        last = last_beat(url, timeout=BROKER_TIMEOUT_SECONDS)
    except (redis.RedisError, OSError) as exc:
        return {"ok": False, "error": type(exc).__name__}
    if last is None:
        return {"ok": False, "error": "no heartbeat"}
    age = round(max(0.0, time.time() - last), 1)
    if age > stale_after:
        return {"ok": False, "error": "late", "seconds_since": age}
    return {"ok": True, "seconds_since": age}


def overall_status(database: dict, *others: dict) -> str:
    """Down without the database (nothing works); degraded when anything else does not answer
    (the API serves; background work waits): never a reason to refuse traffic."""
    if not database["ok"]:
        return Status.DOWN
    if not all(other["ok"] for other in others):
        return Status.DEGRADED
    return Status.OK


# The worker and beat checks, kept this long per process: /health is public, and a ping
# borrows a broker connection for up to WORKER_TIMEOUT_SECONDS when no worker answers.
BACKGROUND_CHECK_SECONDS = 5.0
_background: dict[str, Any] = {"at": -1e9, "worker": None, "beat": None}


def _background_checks() -> tuple[dict, dict]:
    now = time.monotonic()
    if now - _background["at"] >= BACKGROUND_CHECK_SECONDS:
        _background.update(
            at=now, worker=check_worker(), beat=check_beat(settings.CELERY_BROKER_URL)
        )
    return _background["worker"], _background["beat"]


def forget_background_checks() -> None:
    _background["at"] = -1e9


def report() -> dict[str, Any]:
    """The document served at /health (the worker and beat checks at most every
    BACKGROUND_CHECK_SECONDS per process)."""
    database = check_database()
    broker = check_broker(settings.CELERY_BROKER_URL)
    if broker["ok"]:
        worker, beat = _background_checks()
    else:  # neither can be asked: say why without waiting on the broker again
        worker = beat = {"ok": False, "error": "broker not answering"}
    return {
        "status": overall_status(database, broker, worker, beat),
        "database": database,
        "broker": broker,
        "worker": worker,
        "beat": beat,
    }


def ready() -> dict[str, Any]:
    """The document served at /health/ready: ready to serve while the database answers."""
    database = check_database()
    return {"status": Status.OK if database["ok"] else Status.DOWN, "database": database}
