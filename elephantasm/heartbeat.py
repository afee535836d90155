"""Beat's heartbeat: the scheduler writes the time of its latest tick to Redis, and /health
reads it (elephantasm.health) to say whether beat ran recently.

`HeartbeatScheduler` is Celery's default PersistentScheduler that also stamps
BEAT_HEARTBEAT_KEY on every tick (CELERY_BEAT_SCHEDULER names it; CELERY_BEAT_MAX_LOOP_INTERVAL
keeps ticks at most that far apart, so a live beat is never older than that). A Redis error is
logged and ignored: a heartbeat must not stop the schedule.
"""

from __future__ import annotations

import functools
import logging
import time

import redis
from celery.beat import PersistentScheduler
from django.conf import settings

logger = logging.getLogger(__name__)

BEAT_HEARTBEAT_KEY = "elephantasm:beat:heartbeat"


@functools.cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)


def stamp(now: float | None = None) -> None:
    """Record that beat ticked now (unix seconds), for an hour at most."""
    try:
        _client(settings.CELERY_BROKER_URL).set(
            BEAT_HEARTBEAT_KEY, repr(now if now is not None else time.time()), ex=3600
        )
    except (redis.RedisError, OSError) as exc:
        logger.warning("Beat heartbeat not written: %s", exc)


def last_beat(url: str, *, timeout: float = 1.0) -> float | None:
    """The unix time of beat's latest tick, None when it never ticked (or not within the hour)."""
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        value = client.get(BEAT_HEARTBEAT_KEY)
    finally:
        client.close()
    return float(value) if value is not None else None


class HeartbeatScheduler(PersistentScheduler):
    def tick(self, *args, **kwargs):
        stamp()
        return super().tick(*args, **kwargs)
