"""A small JSON-over-HTTP client for OpenAI-compatible servers, with retries and backoff.

One request is retried on what may pass: 408, 409, 429, 5xx, timeouts and connection errors, with
exponential backoff (half to full jitter), honouring `Retry-After` when the server sends it, every
wait capped. Any other 4xx fails at once. Each failed attempt is reported to `on_failure`, so a
caller can record it; the key is sent only in the Authorization header and never logged or put
into an error message.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

logger = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({408, 409, 429})
ERROR_TEXT_MAX = 300


class ProviderError(Exception):
    """A model provider failed. `transient` says whether trying again later may succeed."""

    transient = False

    def __init__(self, message: str, *, http_status: int | None = None):
        super().__init__(message)
        self.http_status = http_status


class TransientProviderError(ProviderError):
    """Retries ran out on 429, 5xx, timeouts or connection errors: try again later."""

    transient = True


class PermanentProviderError(ProviderError):
    """The request itself is wrong (4xx) or the answer unusable: trying again will not help."""


@dataclass(frozen=True)
class Attempt:
    """The outcome of one HTTP request."""

    status: str  # "ok", "http_error" or "timeout"
    latency_ms: int
    http_status: int | None = None
    error: str = ""
    body: Any = field(default=None, repr=False)  # the decoded JSON body (None if it was not JSON)


class JsonClient:
    """POSTs JSON to `{base_url}{path}` and returns the successful `Attempt`."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str = "",
        timeout: float = 60.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_wait: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = base_url.rstrip("/")
        self.max_retries = max(0, max_retries)
        self.backoff = backoff
        self.max_wait = max_wait
        self._sleep = sleep
        headers = {"User-Agent": "elephantasm"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout))
        self._timeout = timeout

    def close(self) -> None:
        self._client.close()

    def post(
        self, path: str, payload: dict, *, on_failure: Callable[[Attempt], None] | None = None
    ) -> Attempt:
        url = f"{self.base_url}/{path.lstrip('/')}"
        for retry in range(self.max_retries + 1):
            started = time.monotonic()
            retry_after = None
            try:
                response = self._client.post(url, json=payload)
            except httpx.TimeoutException:
                attempt = Attempt("timeout", _ms(started), error=f"no answer in {self._timeout}s")
                error: ProviderError = TransientProviderError(f"POST {path}: {attempt.error}")
            except httpx.TransportError as exc:
                attempt = Attempt("http_error", _ms(started), error=f"{type(exc).__name__}")
                error = TransientProviderError(f"POST {path}: connection failed ({attempt.error})")
            else:
                latency = _ms(started)
                if response.is_success:
                    return Attempt(
                        "ok", latency, response.status_code, body=_json_or_none(response)
                    )
                status = response.status_code
                text = _short(response.text)
                attempt = Attempt("http_error", latency, status, error=f"HTTP {status}: {text}")
                if status in RETRYABLE_STATUSES or status >= 500:
                    error = TransientProviderError(
                        f"POST {path}: {attempt.error}", http_status=status
                    )
                    retry_after = _retry_after(response.headers.get("Retry-After"))
                else:
                    error = PermanentProviderError(
                        f"POST {path}: {attempt.error}", http_status=status
                    )
            if on_failure is not None:
                on_failure(attempt)
            if not error.transient or retry == self.max_retries:
                raise error
            wait = self._wait(retry, retry_after)
            logger.warning(
                "POST %s failed (%s), retry %d/%d in %.2fs",
                path,
                attempt.error,
                retry + 1,
                self.max_retries,
                wait,
            )
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, retry: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_wait)
        delay = min(self.backoff * 2**retry, self.max_wait)
        return delay * random.uniform(0.5, 1.0)


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= ERROR_TEXT_MAX else text[: ERROR_TEXT_MAX - 1] + "…"


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
