"""Error codes and the exception hierarchy of the API.

Every error response has one shape: {"error": {"code": ..., "message": ..., "details": ...}}.
Codes are stable: clients may branch on them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from rest_framework import status


class ErrorCode(StrEnum):
    VALIDATION_ERROR = "validation_error"
    PARSE_ERROR = "parse_error"
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    DUPLICATE_EVENT = "duplicate_event"
    CONFLICT = "conflict"
    SPIRIT_ARCHIVED = "spirit_archived"
    SPIRIT_PAUSED = "spirit_paused"
    THROTTLED = "throttled"
    SERVICE_UNAVAILABLE = "service_unavailable"
    SERVER_ERROR = "server_error"


class ApplicationError(Exception):
    """A domain error raised by services; the API renders it with its code and status."""

    code: ErrorCode = ErrorCode.VALIDATION_ERROR
    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, details: Any = None, code: ErrorCode | None = None):
        super().__init__(message)
        self.message = message
        self.details = details if details is not None else {}
        if code is not None:
            self.code = code


class ValidationFailed(ApplicationError):
    code = ErrorCode.VALIDATION_ERROR
    status_code = status.HTTP_400_BAD_REQUEST


class NotFound(ApplicationError):
    code = ErrorCode.NOT_FOUND
    status_code = status.HTTP_404_NOT_FOUND


class Conflict(ApplicationError):
    code = ErrorCode.CONFLICT
    status_code = status.HTTP_409_CONFLICT


class SpiritArchived(Conflict):
    """A write to an archived spirit or its data: archived spirits are read-only."""

    code = ErrorCode.SPIRIT_ARCHIVED

    def __init__(self, spirit_id=None):
        super().__init__(
            "This spirit is archived: it is read-only. Set its status to active to change it.",
            details={"spirit_id": str(spirit_id)} if spirit_id is not None else None,
        )


class SpiritPaused(Conflict):
    """Curation asked of a paused spirit (synthesis, a dream): nothing runs until it is active."""

    code = ErrorCode.SPIRIT_PAUSED

    def __init__(self, spirit_id=None):
        super().__init__(
            "This spirit is paused: its memory is not curated until its status is active again.",
            details={"spirit_id": str(spirit_id)} if spirit_id is not None else None,
        )


class PayloadTooLarge(ApplicationError):
    code = ErrorCode.PAYLOAD_TOO_LARGE
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": str(code), "message": message, "details": details or {}}}
