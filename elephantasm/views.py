"""Service-level views: the root document, health, and JSON error pages."""

from __future__ import annotations

from django.http import JsonResponse

from . import __version__
from .api.errors import ErrorCode, error_body


def root(request):
    return JsonResponse({"name": "Elephantasm", "version": __version__})


def health(request):
    return JsonResponse({"status": "ok"})


def not_found(request, exception=None):
    return JsonResponse(error_body(ErrorCode.NOT_FOUND, "Not found."), status=404)


def server_error(request):
    return JsonResponse(error_body(ErrorCode.SERVER_ERROR, "Internal server error."), status=500)
