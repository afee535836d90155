"""Send Celery tasks by name: the queue of each name is in settings.CELERY_TASK_ROUTES.

Senders never import a tasks module (only the Celery worker does), so no service depends on the
tasks that call it. `send_after_commit` is the house rule for work caused by a write: the task is
sent once the current transaction commits (at once outside one), and a broker failure is logged,
not raised: the data is committed and a beat sweep finds the work later.

A request never waits on a broker that does not answer. Before publishing to a Redis broker,
`broker_answers()` PINGs it with a short timeout (BROKER_CHECK_TIMEOUT, at most once a second
while it answers); one that does not answer is not tried again for BROKER_DOWN_SECONDS, and
`send` raises BrokerUnavailable at once. Without the check a stopped or unreachable Redis (one
that accepts connections and never answers) held every request that enqueues work for as long
as the client's retries lasted (~19 s, or for ever). Fire-and-forget sends skip the result
backend (`ignore_result`), whose connection has its own long retries.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from typing import Any

import redis
from celery.result import AsyncResult
from django.conf import settings
from django.db import transaction

from . import logcontext
from .celery import app

logger = logging.getLogger(__name__)

# Seconds a PING of the broker may take; how long a broker that did not answer is left alone;
# how long an answer is trusted (so a busy process pings at most once a second).
BROKER_CHECK_TIMEOUT = 0.25
BROKER_DOWN_SECONDS = 5.0
BROKER_UP_SECONDS = 1.0
# At most one warning per this many seconds while the broker is down (per process).
WARN_EVERY_SECONDS = 60.0


class BrokerUnavailable(RuntimeError):
    """The broker does not answer: the task was not sent (a sweep finds the work later)."""


class _BrokerState:
    def __init__(self):
        self.lock = threading.Lock()
        self.up_until = 0.0
        self.down_until = 0.0
        self.warned_at = 0.0


_state = _BrokerState()


@functools.cache
def _ping_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_timeout=BROKER_CHECK_TIMEOUT, socket_connect_timeout=BROKER_CHECK_TIMEOUT
    )


def broker_answers() -> bool:
    """Whether the broker answers a PING within BROKER_CHECK_TIMEOUT (always True for a broker
    that is not Redis: Celery's own timeouts apply there)."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return True
    now = time.monotonic()
    if now < _state.up_until:
        return True
    if now < _state.down_until:
        return False
    try:
        _ping_client(url).ping()
    except (redis.RedisError, OSError):
        with _state.lock:
            _state.down_until = time.monotonic() + BROKER_DOWN_SECONDS
        return False
    with _state.lock:
        _state.up_until = time.monotonic() + BROKER_UP_SECONDS
    return True


def forget_broker_state() -> None:
    """Check the broker again on the next send (tests; a process that knows it is back)."""
    _state.up_until = _state.down_until = 0.0


def send(
    name: str, *args: Any, countdown: float | None = None, ignore_result: bool = False
) -> AsyncResult:
    """Send the task `name` with `args` now (routed by CELERY_TASK_ROUTES). BrokerUnavailable
    when the broker does not answer (at once, see the module's docstring)."""
    if not broker_answers():
        raise BrokerUnavailable(f"The broker does not answer: {name} was not sent.")
    rid = logcontext.request_id.get()
    return app.send_task(
        name,
        args=list(args),
        countdown=countdown,
        ignore_result=ignore_result,
        headers={"request_id": rid} if rid else None,
    )


def _send_logged(name: str, args: tuple, countdown: float | None) -> None:
    try:
        send(name, *args, countdown=countdown, ignore_result=True)
    except BrokerUnavailable as exc:
        now = time.monotonic()
        if now - _state.warned_at >= WARN_EVERY_SECONDS or _state.warned_at == 0.0:
            _state.warned_at = now
            logger.warning("%s The sweeps will find the work when it is back.", exc)


def send_after_commit(name: str, *args: Any, countdown: float | None = None) -> None:
    """Send the task `name` with `args` once the current transaction commits."""
    transaction.on_commit(lambda: _send_logged(name, args, countdown), robust=True)
