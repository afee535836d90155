"""Service-level views: the root document, health, and JSON error pages."""

from __future__ import annotations

from django.http import JsonResponse
from django.urls import reverse
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from . import __version__
from . import health as health_checks
from .api.errors import ErrorCode, error_body

_SAFE_METHODS = ("GET", "HEAD")
# The API served under /api/v1/; clients (elephantasm-client) compare it with theirs.
API_VERSION = "v1"


def _method_not_allowed(request) -> JsonResponse:
    response = JsonResponse(
        error_body(ErrorCode.METHOD_NOT_ALLOWED, f'Method "{request.method}" not allowed.'),
        status=405,
    )
    response["Allow"] = ", ".join(_SAFE_METHODS)
    return response


@csrf_exempt  # reads nothing from the body; a POST gets a JSON 405, not a CSRF page
def root(request):
    """Where everything is: the API, its documentation and schema, the admin, health."""
    if request.method not in _SAFE_METHODS:
        return _method_not_allowed(request)
    links = {
        "api": reverse("api-root"),
        "docs": reverse("api-docs"),
        "schema": reverse("schema"),
        "admin": reverse("admin:index"),
        "health": reverse("health"),
    }
    return JsonResponse(
        {
            "name": "Elephantasm",
            "version": __version__,
            "api_version": API_VERSION,
            "links": {name: request.build_absolute_uri(path) for name, path in links.items()},
        }
    )


@csrf_exempt
@never_cache
def health(request):
    """200 while the database answers ("ok", or "degraded" when the broker, a worker or beat
    does not answer); else 503."""
    if request.method not in _SAFE_METHODS:
        return _method_not_allowed(request)
    body = health_checks.report()
    status = 503 if body["status"] == health_checks.Status.DOWN else 200
    return JsonResponse(body, status=status)


@never_cache
@csrf_exempt
def health_live(request):
    """For orchestrators' liveness probes: the process serves requests. Checks nothing else
    (a database outage must not get the web processes restarted)."""
    if request.method not in _SAFE_METHODS:
        return _method_not_allowed(request)
    return JsonResponse({"status": health_checks.Status.OK})


@never_cache
@csrf_exempt
def health_ready(request):
    """For readiness probes: 200 while the database answers, else 503 (take it out of the load
    balancer meanwhile). The broker, workers and beat do not count: the API serves without them."""
    if request.method not in _SAFE_METHODS:
        return _method_not_allowed(request)
    body = health_checks.ready()
    return JsonResponse(body, status=200 if body["status"] == health_checks.Status.OK else 503)


def _is_admin(request) -> bool:
    return request.path.startswith("/admin/")


def not_found(request, exception=None):
    """JSON everywhere but in the admin, whose pages are HTML."""
    if _is_admin(request):
        return defaults.page_not_found(request, exception)
    return JsonResponse(error_body(ErrorCode.NOT_FOUND, "Not found."), status=404)


def server_error(request):
    if _is_admin(request):
        return defaults.server_error(request)
    return JsonResponse(error_body(ErrorCode.SERVER_ERROR, "Internal server error."), status=500)
