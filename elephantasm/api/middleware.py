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
