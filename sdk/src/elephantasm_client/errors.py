"""The API's error envelope as exceptions, all under `ElephantasmError`.

Every error answer of the API has one shape,
``{"error": {"code": ..., "message": ..., "details": ...}}``; `error_from_response` turns it into
the exception class of its `code` first, of its HTTP status second (a proxy's answer has no
envelope), and the base class for anything else (405, 413, 415...).
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

import httpx

__all__ = [
    "APIConnectionError",
    "APITimeoutError",
    "AuthenticationError",
    "ConflictError",
    "DuplicateEventError",
    "ElephantasmError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ServerError",
    "ValidationError",
    "VersionMismatchError",
    "error_from_response",
    "retry_after_seconds",
]


class ElephantasmError(Exception):
    """Base of every error of this client.

    `status` is the HTTP status (None when no answer came), `code` the API's stable error code
    (`validation_error`, `not_found`...), `message` its message and `details` its facts (per-field
    messages for validation errors, `existing_id` for a duplicate event, `retry_after`...)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        details: Any = None,
        response: httpx.Response | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.details = details if details is not None else {}
        self.response = response

    def __str__(self) -> str:
        if self.status is None:
            return self.message
        return f"{self.status} {self.code or 'error'}: {self.message}"


class AuthenticationError(ElephantasmError):
    """401: no key, or a wrong, revoked or expired one."""


class PermissionDeniedError(ElephantasmError):
    """403: the key's role or scopes are too low; `details` names what is needed
    (`required_role` and `role`, or `required_scope` and `scopes`)."""


class NotFoundError(ElephantasmError):
    """404: no such object among the key's team (another team's object is a 404 too)."""


class ConflictError(ElephantasmError):
    """409 other than a duplicate event: `conflict` (a dream already queued: `existing_id`),
    `spirit_archived`, `spirit_paused`."""


class DuplicateEventError(ConflictError):
    """409 `duplicate_event`: the spirit already has an event with this dedupe key.

    `existing_id` is that event's id; `existing_deleted` says whether it is soft-deleted.
    `after_retry` is True when the client had sent this request before (a retry): the earlier
    attempt is then what recorded the event."""

    def __init__(self, message: str, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.existing_id: str | None = self.details.get("existing_id")
        self.existing_deleted: bool = bool(self.details.get("existing_deleted", False))
        self.after_retry = False


class ValidationError(ElephantasmError):
    """400 `validation_error` (or `parse_error`): `details` maps each field to its messages."""


class RateLimitedError(ElephantasmError):
    """429 `throttled`: `retry_after` is the seconds to wait (the `Retry-After` header)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(ElephantasmError):
    """5xx: `server_error` (a bug of the server) or `service_unavailable` (try again)."""


class APIConnectionError(ElephantasmError):
    """No answer: the server could not be reached or the connection broke."""


class APITimeoutError(APIConnectionError):
    """No answer within the client's timeout."""


class VersionMismatchError(ElephantasmError):
    """The server serves another API version than the one this client speaks."""

    def __init__(self, *, client_version: str, server_version: str, url: str):
        super().__init__(
            f"This client (elephantasm-client) speaks Elephantasm API {client_version}, but the "
            f"server at {url} serves API {server_version}: install the elephantasm-client release "
            f"for API {server_version}."
        )
        self.client_version = client_version
        self.server_version = server_version


_BY_CODE: dict[str, type[ElephantasmError]] = {
    "not_authenticated": AuthenticationError,
    "authentication_failed": AuthenticationError,
    "permission_denied": PermissionDeniedError,
    "not_found": NotFoundError,
    "duplicate_event": DuplicateEventError,
    "conflict": ConflictError,
    "spirit_archived": ConflictError,
    "spirit_paused": ConflictError,
    "validation_error": ValidationError,
    "parse_error": ValidationError,
    "throttled": RateLimitedError,
    "server_error": ServerError,
    "service_unavailable": ServerError,
}
_BY_STATUS: dict[int, type[ElephantasmError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitedError,
}


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The `Retry-After` header in seconds (a number of seconds or an HTTP date), else None."""
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _envelope(response: httpx.Response) -> tuple[str | None, str, Any]:
    """(code, message, details) of an error answer; a body without the envelope (a proxy's
    page) gives no code and the start of its text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error.get("code"), error["message"], error.get("details") or {}
    text = response.text.strip()[:200]
    reason = response.reason_phrase or "error"
    return None, f"HTTP {response.status_code} {reason}" + (f": {text}" if text else ""), {}


def error_from_response(response: httpx.Response) -> ElephantasmError:
    """The exception for an error answer: by the envelope's code first, then by status."""
    code, message, details = _envelope(response)
    status = response.status_code
    cls = _BY_CODE.get(code or "") or _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else ElephantasmError
    kwargs: dict[str, Any] = {
        "status": status,
        "code": code,
        "details": details,
        "response": response,
    }
    if cls is RateLimitedError:
        retry_after = retry_after_seconds(response)
        if retry_after is None and isinstance(details, dict):
            retry_after = details.get("retry_after")
        return RateLimitedError(message, retry_after=retry_after, **kwargs)
    return cls(message, **kwargs)
