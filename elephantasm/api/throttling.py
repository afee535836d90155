"""Rate limits per caller, counted in the shared Redis cache (every web process sees one count).

A caller is its API key (programs), its user (sessions) or its IP address (anonymous). Each
throttle counts requests in fixed windows with one atomic INCR per request; a refused request
gets 429 `throttled` with `Retry-After` (the seconds left in the window). Two limits apply:
API_THROTTLE_RATE (sustained, default 1200/min) and API_THROTTLE_BURST_RATE (default 100/s).
An empty rate turns that limit off; an invalid one (`elephantasm.rates.parse_rate`) stops the
settings from loading.

If the cache does not answer (Redis down), requests are let through and a warning is logged:
rate limiting must not take the API down with it.
"""

from __future__ import annotations

import logging
import math
import time

import redis
from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import BaseThrottle

from elephantasm.rates import parse_rate

logger = logging.getLogger(__name__)

__all__ = ["CallerBurstRateThrottle", "CallerRateThrottle", "parse_rate"]

_last_warning = 0.0


def _warn_cache_down(exc: Exception) -> None:
    """Log that requests pass unthrottled, at most once a minute per process (`make run` without
    Redis would otherwise log it on every request)."""
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= 60 or _last_warning == 0.0:
        _last_warning = now
        logger.warning("Throttling is off: the cache does not answer: %s", exc)


class CallerRateThrottle(BaseThrottle):
    """One fixed-window counter per caller and scope; the rate is the setting named by
    `rate_setting`, read on every request (so override_settings and a reload both apply)."""

    scope = "sustained"
    rate_setting = "API_THROTTLE_RATE"
    key_prefix = "throttle"

    def __init__(self):
        self._wait: float | None = None

    def get_caller(self, request) -> str:
        auth = getattr(request, "auth", None)
        user = getattr(request, "user", None)
        if auth is not None and getattr(auth, "pk", None) is not None:
            return f"key:{auth.pk}"
        if user is not None and user.is_authenticated and user.pk is not None:
            return f"user:{user.pk}"
        return f"ip:{self.get_ident(request)}"

    def allow_request(self, request, view) -> bool:
        limit = parse_rate(getattr(settings, self.rate_setting, None))
        if limit is None:
            return True
        num_requests, duration = limit
        now = time.time()
        window = int(now // duration)
        key = f"{self.key_prefix}:{self.scope}:{duration}:{self.get_caller(request)}:{window}"
        cache = caches[settings.THROTTLE_CACHE_ALIAS]
        try:
            # add() is SET NX with an expiry; INCR is atomic across processes.
            cache.add(key, 0, timeout=duration + 1)
            try:
                count = cache.incr(key)
            except ValueError:  # expired between add() and incr(): a new window
                cache.add(key, 1, timeout=duration + 1)
                count = 1
        except (redis.RedisError, OSError) as exc:
            _warn_cache_down(exc)
            return True
        if count <= num_requests:
            return True
        self._wait = (window + 1) * duration - now
        return False

    def wait(self) -> float | None:
        return None if self._wait is None else max(1, math.ceil(self._wait))


class CallerBurstRateThrottle(CallerRateThrottle):
    scope = "burst"
    rate_setting = "API_THROTTLE_BURST_RATE"
