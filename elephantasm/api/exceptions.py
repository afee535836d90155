"""One DRF exception handler: every error leaves the API in the shape of `errors.error_body`."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import ApplicationError, ErrorCode, error_body

logger = logging.getLogger(__name__)

_CODES: dict[type[exceptions.APIException], ErrorCode] = {
    exceptions.ValidationError: ErrorCode.VALIDATION_ERROR,
    exceptions.ParseError: ErrorCode.PARSE_ERROR,
    exceptions.NotAuthenticated: ErrorCode.NOT_AUTHENTICATED,
    exceptions.AuthenticationFailed: ErrorCode.AUTHENTICATION_FAILED,
    exceptions.PermissionDenied: ErrorCode.PERMISSION_DENIED,
    exceptions.NotFound: ErrorCode.NOT_FOUND,
    exceptions.MethodNotAllowed: ErrorCode.METHOD_NOT_ALLOWED,
    exceptions.NotAcceptable: ErrorCode.NOT_ACCEPTABLE,
    exceptions.UnsupportedMediaType: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    exceptions.Throttled: ErrorCode.THROTTLED,
}


def _message(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ValidationError):
        fields = sorted(exc.detail) if isinstance(exc.detail, dict) else []
        if fields:
            return "Invalid input: " + ", ".join(fields) + "."
        return "Invalid input."
    detail = exc.detail
    if isinstance(detail, list | dict):
        return str(exc.default_detail)
    return str(detail)


# Seconds a client is asked to wait when the database does not answer (503).
DATABASE_RETRY_AFTER = 5
# SQLSTATEs of a database that is not there: connection exceptions (class 08), and the server
# shutting down or not yet accepting connections (57P01-57P03).
_UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03")


def _database_unavailable(exc: Exception) -> bool:
    """A connection-level failure (no server, connection lost or refused): worth a retry.
    Other OperationalErrors (a cancelled statement, a deadlock, a full disk) stay 500s."""
    if isinstance(exc, InterfaceError):  # the connection is closed
        return True
    if not isinstance(exc, OperationalError):
        return False
    state = getattr(exc.__cause__, "sqlstate", None)
    return state is None or state.startswith(_UNAVAILABLE_STATES)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if _database_unavailable(exc):
        # The database is down, restarting or refusing connections (or a statement was
        # cancelled): the request may succeed later, as /health says "down". Not a 500.
        logger.warning("Database unavailable: %s", type(exc).__name__, exc_info=exc)
        response = Response(
            error_body(
                ErrorCode.SERVICE_UNAVAILABLE,
                "The database is unavailable; try again shortly.",
                {"retry_after": DATABASE_RETRY_AFTER},
            ),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # unexpected: Django's 500 handler renders it (and it is a bug)

    code = next(
        (c for cls, c in _CODES.items() if isinstance(exc, cls)),
        ErrorCode.SERVER_ERROR if response.status_code >= 500 else ErrorCode.VALIDATION_ERROR,
    )
    details: Any = {}
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
    elif isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        details = {"retry_after": exc.wait}
    response.data = error_body(code, _message(exc), details)
    if response.status_code == status.HTTP_401_UNAUTHORIZED and "WWW-Authenticate" not in response:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response
