"""Refuse oversized request bodies before any view reads them."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse

from .errors import ErrorCode, error_body


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.MAX_REQUEST_BYTES
        if length > limit:
            return JsonResponse(
                error_body(
                    ErrorCode.PAYLOAD_TOO_LARGE,
                    f"Request body is {length} bytes; the limit is {limit} bytes.",
                    {"limit_bytes": limit},
                ),
                status=413,
            )
        return self.get_response(request)


class JsonErrorsMiddleware:
    """Error pages of the API are JSON in the one error shape, also under DEBUG.

    DRF views already answer so; this covers what happens outside them under /api/ and /health
    (an unknown URL, a crash): Django's own HTML pages (the DEBUG ones included) are replaced.
    The admin and other HTML pages keep Django's pages.
    """

    PREFIXES = ("/api/", "/health")
    CODES = {
        404: (ErrorCode.NOT_FOUND, "Not found."),
        405: (ErrorCode.METHOD_NOT_ALLOWED, "Method not allowed."),
        500: (ErrorCode.SERVER_ERROR, "Internal server error."),
    }

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code in self.CODES
            and request.path.startswith(self.PREFIXES)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            code, message = self.CODES[response.status_code]
            return JsonResponse(error_body(code, message), status=response.status_code)
        return response
