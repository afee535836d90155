"""Rate limits per caller, counted in the shared Redis cache (every web process sees one count).

A caller is its API key (programs), its user (sessions) or its IP address (anonymous). Each
throttle counts requests in fixed windows with one atomic INCR per request; a refused request
gets 429 `throttled` with `Retry-After` (the seconds left in the window). Two limits apply:
API_THROTTLE_RATE (sustained, default 1200/min) and API_THROTTLE_BURST_RATE (default 100/s).
An empty rate turns that limit off; an invalid one (`elephantasm.rates.parse_rate`) stops the
settings from loading. `AuthFailures` counts refused API keys per client IP
(API_AUTH_FAILURE_RATE, default 30/min): past it, a refused key from that IP gets the same 429
instead of 401 until the window ends (a good key still passes).

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

__all__ = ["AuthFailures", "CallerBurstRateThrottle", "CallerRateThrottle", "count", "parse_rate"]

_last_warning = 0.0


def _warn_cache_down(exc: Exception) -> None:
    """Log that requests pass unthrottled, at most once a minute per process (`make run` without
    Redis would otherwise log it on every request)."""
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= 60 or _last_warning == 0.0:
        _last_warning = now
        logger.warning("Throttling is off: the cache does not answer: %s", exc)


def _window(duration: int, now: float) -> tuple[int, float]:
    """The fixed window of `now` and the seconds left in it."""
    window = int(now // duration)
    return window, (window + 1) * duration - now


def count(scope: str, caller: str, rate: str | None) -> float | None:
    """Count one hit of `caller` in `scope`: the seconds to wait when the count is over `rate`,
    None when not, when the rate is off or when the cache does not answer."""
    limit = parse_rate(rate)
    if limit is None:
        return None
    num_requests, duration = limit
    now = time.time()
    window, left = _window(duration, now)
    key = f"throttle:{scope}:{duration}:{caller}:{window}"
    cache = caches[settings.THROTTLE_CACHE_ALIAS]
    try:
        # add() is SET NX with an expiry; INCR is atomic across processes.
        cache.add(key, 0, timeout=duration + 1)
        try:
            hits = cache.incr(key)
        except ValueError:  # expired between add() and incr(): a new window
            cache.add(key, 1, timeout=duration + 1)
            hits = 1
    except (redis.RedisError, OSError) as exc:
        _warn_cache_down(exc)
        return None
    return left if hits > num_requests else None


def seconds(wait: float) -> int:
    """A Retry-After value: whole seconds, at least 1."""
    return max(1, math.ceil(wait))


class CallerRateThrottle(BaseThrottle):
    """One fixed-window counter per caller and scope; the rate is the setting named by
    `rate_setting`, read on every request (so override_settings and a reload both apply)."""

    scope = "sustained"
    rate_setting = "API_THROTTLE_RATE"

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
        rate = getattr(settings, self.rate_setting, None)
        self._wait = count(self.scope, self.get_caller(request), rate)
        return self._wait is None

    def wait(self) -> float | None:
        return None if self._wait is None else seconds(self._wait)


class AuthFailures:
    """Refused API keys per client IP (API_AUTH_FAILURE_RATE), counted by the authentication
    class: DRF authenticates before it throttles, so the throttles above never see a request
    whose key is refused. A good key is never refused here (clients behind one proxy or NAT
    share an address)."""

    scope = "auth-failure"

    def __init__(self, request):
        self.caller = f"ip:{BaseThrottle().get_ident(request)}"

    def record(self) -> int | None:
        """Count one refused key (atomically): the seconds to wait when this IP is over the
        rate, else None."""
        left = count(self.scope, self.caller, settings.API_AUTH_FAILURE_RATE)
        return None if left is None else seconds(left)


class CallerBurstRateThrottle(CallerRateThrottle):
    scope = "burst"
    rate_setting = "API_THROTTLE_BURST_RATE"
