"""Rate limits per caller, counted in the shared Redis cache (every web process sees one count).

A caller is its API key (programs), its user (sessions) or its IP address (anonymous). Each
throttle counts requests in fixed windows with one atomic INCR per request (the window's expiry
set in the same MULTI/EXEC); a refused request gets 429 `throttled` with `Retry-After` (the
seconds left in the window) and is not counted.
Two limits apply: API_THROTTLE_RATE (sustained, default 1200/min) and API_THROTTLE_BURST_RATE
(default 100/s).
An empty rate turns that limit off; an invalid one (`elephantasm.rates.parse_rate`) stops the
settings from loading. `AuthFailures` counts refused API keys per client IP
(API_AUTH_FAILURE_RATE, default 30/min): past it, a refused key from that IP gets the same 429
instead of 401 until the window ends (a good key still passes).

If the cache does not answer (Redis down), requests are let through and a warning is logged:
rate limiting must not take the API down with it.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import time

import redis
from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import BaseThrottle

from elephantasm.rates import parse_rate

logger = logging.getLogger(__name__)

__all__ = ["AuthFailures", "CallerRateThrottle", "count", "parse_rate"]

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


def _counter(key: str) -> tuple[redis.Redis, str]:
    """The Redis client of the throttle cache and `key` as that cache names it (its prefix)."""
    config = settings.CACHES[settings.THROTTLE_CACHE_ALIAS]
    options = config.get("OPTIONS", {})
    client = _client(
        config["LOCATION"], options.get("socket_connect_timeout"), options.get("socket_timeout")
    )
    return client, caches[settings.THROTTLE_CACHE_ALIAS].make_and_validate_key(key)


@functools.lru_cache(maxsize=8)
def _client(location: str, connect_timeout: float | None, timeout: float | None) -> redis.Redis:
    """One connection pool per cache location (a settings override gets its own)."""
    return redis.Redis.from_url(
        location, socket_connect_timeout=connect_timeout, socket_timeout=timeout
    )


def _add(key: str, amount: int, ttl: int) -> int:
    """Add `amount` to the counter `key` and give it `ttl` seconds to live if it has no expiry
    yet, in one MULTI/EXEC: the counter never exists without its expiry (INCR on a key that has
    just expired creates it afresh, and EXPIRE ... NX gives it one)."""
    client, name = _counter(key)
    with client.pipeline(transaction=True) as pipe:
        pipe.incrby(name, amount)
        pipe.expire(name, ttl, nx=True)
        value, _ = pipe.execute()
    return int(value)


def _hit(scope: str, caller: str, rate: str | None) -> tuple[str, int, float | None] | None:
    """Count one hit of `caller` in `scope`: (the counter's key, its time to live, the seconds
    to wait when the count is over `rate`, else None); None when the rate is off or the cache
    does not answer."""
    limit = parse_rate(rate)
    if limit is None:
        return None
    num_requests, duration = limit
    window, left = _window(duration, time.time())
    key = f"throttle:{scope}:{duration}:{caller}:{window}"
    ttl = duration + 1
    try:
        hits = _add(key, 1, ttl)
    except (redis.RedisError, OSError) as exc:
        _warn_cache_down(exc)
        return None
    return key, ttl, (left if hits > num_requests else None)


def _unhit(key: str, ttl: int) -> None:
    """Take back one hit (a refused request uses up no quota). Should the window's counter have
    expired meanwhile, the -1 left behind expires too, and no later window reads it."""
    with contextlib.suppress(redis.RedisError, OSError):  # the cache does not answer
        _add(key, -1, ttl)


def count(scope: str, caller: str, rate: str | None) -> float | None:
    """Count one hit of `caller` in `scope`: the seconds to wait when the count is over `rate`,
    None when not, when the rate is off or when the cache does not answer."""
    hit = _hit(scope, caller, rate)
    return None if hit is None else hit[2]


def seconds(wait: float) -> int:
    """A Retry-After value: whole seconds, at least 1."""
    return max(1, math.ceil(wait))


class CallerRateThrottle(BaseThrottle):
    """Both limits of a caller (burst and sustained), each a fixed-window counter; the rates
    are the settings named in `limits`, read on every request (so override_settings and a
    reload both apply). A request over either limit is refused and counted in neither: a
    refused request uses up none of the caller's quota (so a client that retries on 429 is
    served as soon as the window allows, as many times as the rate says)."""

    limits = (("burst", "API_THROTTLE_BURST_RATE"), ("sustained", "API_THROTTLE_RATE"))

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
        caller = self.get_caller(request)
        hits = [
            hit
            for scope, rate_setting in self.limits
            if (hit := _hit(scope, caller, getattr(settings, rate_setting, None))) is not None
        ]
        waits = [wait for _, _, wait in hits if wait is not None]
        if waits:
            for key, ttl, _ in hits:
                _unhit(key, ttl)
        self._wait = max(waits) if waits else None
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
