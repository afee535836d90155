"""Health checks: is the database answering, is the broker answering.

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

logger = logging.getLogger(__name__)

DATABASE_TIMEOUT_SECONDS = 2.0
BROKER_TIMEOUT_SECONDS = 1.0
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


def overall_status(database: dict, broker: dict) -> str:
    if not database["ok"]:
        return Status.DOWN
    if not broker["ok"]:
        return Status.DEGRADED
    return Status.OK


def report() -> dict[str, Any]:
    """The document served at /health."""
    database = check_database()
    broker = check_broker(settings.CELERY_BROKER_URL)
    return {
        "status": overall_status(database, broker),
        "database": database,
        "broker": broker,
    }
