"""Production settings (the Docker image and docker compose's web, worker and beat use them).

Everything in base, plus: DEBUG off whatever the environment says; SECRET_KEY and ALLOWED_HOSTS
required (the process refuses to start without them); HTTPS everywhere behind a TLS-terminating
proxy (redirect, secure cookies, HSTS); clickjacking and referrer protections.
`manage.py check --deploy --fail-level WARNING` passes with these (elephantasm/tests/
test_production_settings.py runs it).
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

DEBUG = False

_DEV_SECRET_KEY = "dev-insecure-elephantasm-secret-key-change-me-in-production-0123456789"  # noqa: S105
SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY or SECRET_KEY == _DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set in the environment for production (a long random value: "
        "python3 -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS must be set in the environment for production (comma-separated host names)."
    )
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- HTTPS ---------------------------------------------------------------------------------------
# TLS ends at a proxy (load balancer, nginx, Caddy) that sets this header to "https" on the
# requests it forwards; it must overwrite any such header a client sends. Empty: no proxy, trust
# only the connection itself.
_proxy_header = env("SECURE_PROXY_SSL_HEADER", default="HTTP_X_FORWARDED_PROTO")
SECURE_PROXY_SSL_HEADER = (_proxy_header, "https") if _proxy_header else None
# Plain-HTTP requests are redirected to HTTPS (turn off only if the proxy already does it)...
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# ...except the health endpoint, which the container health check asks over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^health$"]
# Browsers remember to use HTTPS only (one year by default). Preloading (hstspreload.org) is a
# commitment to opt into explicitly.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- Browser protections -------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
