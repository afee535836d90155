"""What the sync and async clients share, with no I/O: settings, calls, requests, answers,
retries and the steps of multi-call operations.

A resource method describes an API call as a `Call` (method, path, query, body, how to read the
answer). An operation that needs several calls is a generator `Flow` that yields `Call`s and is
sent their results (or thrown their errors). The clients (`_sync`, `_async`) only send requests,
sleep and drive flows; everything else is here, once.
"""

from __future__ import annotations

import json
import logging
import os
import random
import uuid
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from ._version import API_VERSION, __version__
from .errors import (
    APIConnectionError,
    APITimeoutError,
    ElephantasmError,
    VersionMismatchError,
    error_from_response,
    retry_after_seconds,
)
from .models import Page

logger = logging.getLogger("elephantasm_client")

T = TypeVar("T")
Flow = Generator["Call", Any, Any]

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_RETRY_WAIT = 60.0
DEFAULT_PAGE_SIZE = 100
API_PREFIX = "/api/v1/"
RETRY_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Errors raised before the request left: sending it again cannot do anything twice.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class Call:
    """One API call. `path` is under /api/v1/ unless `root`; `parse` reads the JSON answer.

    `replayable` marks a POST that is safe to send twice (it only reads, or it carries an event
    dedupe key), so it is retried after a 5xx or a broken connection like a GET."""

    method: str
    path: str
    params: Mapping[str, Any] | None = None
    body: Any = None
    parse: Callable[[Any], Any] | None = None
    replayable: bool = False
    root: bool = False

    @property
    def idempotent(self) -> bool:
        return self.method in IDEMPOTENT_METHODS or self.replayable


@dataclass
class Settings:
    """A client's settings, from its arguments, else the environment, else the defaults."""

    base_url: str
    api_key: str
    timeout: httpx.Timeout
    max_retries: int
    max_retry_wait: float
    backoff: float
    page_size: int
    check_version: bool
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        *,
        base_url: str | None,
        api_key: str | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        max_retry_wait: float,
        backoff: float,
        page_size: int,
        check_version: bool,
        headers: Mapping[str, str] | None,
    ) -> Settings:
        url = base_url or os.environ.get("ELEPHANTASM_URL") or DEFAULT_URL
        key = api_key or os.environ.get("ELEPHANTASM_API_KEY")
        if not key:
            raise ElephantasmError(
                "No API key: pass api_key=... or set ELEPHANTASM_API_KEY (make one with "
                "`manage.py createapikey`)."
            )
        if not 1 <= page_size <= 200:
            raise ValueError("page_size must be between 1 and 200 (the API's limit).")
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more.")
        if not isinstance(timeout, httpx.Timeout):
            timeout = httpx.Timeout(DEFAULT_TIMEOUT if timeout is None else timeout)
        return cls(
            base_url=server_root(url),
            api_key=key,
            timeout=timeout,
            max_retries=max_retries,
            max_retry_wait=max_retry_wait,
            backoff=backoff,
            page_size=page_size,
            check_version=check_version,
            headers={
                "Authorization": f"Bearer {key}",
                "Accept": "application/json",
                "User-Agent": f"elephantasm-client/{__version__}",
                **(headers or {}),
            },
        )


def server_root(url: str) -> str:
    """The server's root URL: a URL given with the API prefix (…/api/v1/) works too."""
    url = url.strip().rstrip("/")
    for suffix in ("/api/v1", "/api"):
        if url.endswith(suffix):
            url = url[: -len(suffix)]
            break
    return url


# --- requests -------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_unset=True)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(_jsonable(value))


def build_request(settings: Settings, call: Call) -> httpx.Request:
    path = call.path if call.root else API_PREFIX + call.path.lstrip("/")
    params = {k: _query_value(v) for k, v in (call.params or {}).items() if v is not None}
    headers = dict(settings.headers)
    content = None
    if call.body is not None:
        content = json.dumps(_jsonable(call.body)).encode()
        headers["Content-Type"] = "application/json"
    return httpx.Request(
        call.method,
        settings.base_url + path,
        params=params,
        headers=headers,
        content=content,
        extensions={"timeout": settings.timeout.as_dict()},
    )


def parse_response(call: Call, response: httpx.Response) -> Any:
    """The result of a successful answer (None for 204 No Content)."""
    if response.status_code == 204 or not response.content:
        return None
    try:
        data = response.json()
    except ValueError as exc:
        raise ElephantasmError(
            f"The server answered {response.status_code} with a body that is not JSON "
            f"({response.headers.get('Content-Type', 'no content type')}).",
            status=response.status_code,
            response=response,
        ) from exc
    return call.parse(data) if call.parse else data


def connection_error(exc: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
    target = f"{request.method} {request.url}"
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"No answer in time from {target}: {exc!r}")
    return APIConnectionError(f"Could not reach {target}: {exc!r}")


# --- retries ----------------------------------------------------------------------------------


@dataclass
class Attempts:
    """The retry policy of one call: `delay_after_*` says how long to wait before the next
    attempt, or None when the error must be raised now.

    Retried: 429 (always: the server refused it before any view ran), 502, 503 and 504 and
    broken connections for idempotent calls, and connection failures (nothing was sent) for
    any call; at most `max_retries` times. The wait is the answer's `Retry-After` when it has
    one, else exponential backoff with jitter; a `Retry-After` above `max_retry_wait` is not
    waited for: the error is raised at once, with `retry_after` for the caller to decide."""

    settings: Settings
    call: Call
    done: int = 0

    def delay_after_status(self, response: httpx.Response) -> float | None:
        status = response.status_code
        if status not in RETRY_STATUSES or self.done >= self.settings.max_retries:
            return None
        if status != 429 and not self.call.idempotent:
            return None
        return self._delay(retry_after_seconds(response))

    def delay_after_error(self, exc: httpx.TransportError) -> float | None:
        if self.done >= self.settings.max_retries:
            return None
        if not isinstance(exc, _NOT_SENT) and not self.call.idempotent:
            return None
        return self._delay(None)

    def _delay(self, retry_after: float | None) -> float | None:
        if retry_after is not None:
            return retry_after if retry_after <= self.settings.max_retry_wait else None
        backoff = self.settings.backoff * 2**self.done
        return min(self.settings.max_retry_wait, backoff * (0.5 + random.random() / 2))

    def log_retry(self, delay: float, why: str) -> None:
        self.done += 1
        logger.info(
            "Retrying %s %s in %.2f s after %s (retry %d of %d)",
            self.call.method,
            self.call.path,
            delay,
            why,
            self.done,
            self.settings.max_retries,
        )

    def error(self, response: httpx.Response) -> ElephantasmError:
        error = error_from_response(response)
        if hasattr(error, "after_retry"):
            error.after_retry = self.done > 0
        return error


# --- flows --------------------------------------------------------------------------------------


@dataclass
class Step:
    """Where a flow is: the next call to make, or its final value."""

    flow: Flow | None
    call: Call | None = None
    value: Any = None

    @property
    def done(self) -> bool:
        return self.call is None

    def send(self, result: Any) -> Step:
        return self._advance(lambda: self.flow.send(result))

    def throw(self, error: ElephantasmError) -> Step:
        return self._advance(lambda: self.flow.throw(error))

    def _advance(self, resume: Callable[[], Call]) -> Step:
        try:
            return Step(self.flow, resume())
        except StopIteration as stop:
            return Step(None, None, stop.value)


def start(operation: Call | Flow) -> Step:
    """The first step of an operation; a single `Call` is a flow of one call."""
    if isinstance(operation, Call):
        operation = _single(operation)
    return Step(operation)._advance(lambda: next(operation))


def _single(call: Call) -> Flow:
    return (yield call)


# --- pages and the version ----------------------------------------------------------------------


def page_parser(model: type[T]) -> Callable[[Any], Page[T]]:
    return Page[model].model_validate  # type: ignore[valid-type]


def page_params(params: Mapping[str, Any] | None, limit: int, offset: int) -> dict[str, Any]:
    return {**(params or {}), "limit": limit, "offset": offset}


def server_api_version(body: Any, url: str) -> str | None:
    """The server's API version from `GET /`; VersionMismatchError when it is not ours.

    A server whose root document has no `api_version` (Elephantasm before it was added served
    only v1), or answers something that is not a JSON object, is taken as compatible."""
    if not isinstance(body, dict) or body.get("api_version") is None:
        return None
    version = str(body["api_version"])
    if version != API_VERSION:
        raise VersionMismatchError(client_version=API_VERSION, server_version=version, url=url)
    return version


def new_dedupe_key() -> str:
    return f"client-{uuid.uuid4().hex}"


def with_dedupe_key(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event with a dedupe key when the server would not derive the same one twice: it has
    neither a `dedupe_key` nor an `occurred_at`. (The server gives an event without a time its
    own clock's, before deriving its key, so a `source_uri` alone no longer makes a repeat a
    duplicate.) Sending it twice then records it once."""
    event = dict(event)
    if not any(event.get(name) for name in ("dedupe_key", "occurred_at")):
        event["dedupe_key"] = new_dedupe_key()
    return event
