"""elephantasm.settings.production, loaded in a subprocess with a realistic environment."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = "elephantasm.settings.production"


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST_", "SECURE_", "EMBEDDED_PG_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE=PRODUCTION,
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="memory.example.com",
        CSRF_TRUSTED_ORIGINS="https://memory.example.com",
        # Never connected to: `check --deploy` does not open a database connection.
        DATABASE_URL="postgres://elephantasm:secret@db.invalid:5432/elephantasm",
        CELERY_BROKER_URL="redis://redis.invalid:6379/0",
        CACHE_URL="redis://redis.invalid:6379/2",
        DEBUG="true",  # production ignores it
    )
    env.update(overrides)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def settings_of(env: dict[str, str], *names: str) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}))"
    )
    result = run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_passes_without_warnings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_secret_key():
    # Empty (not unset): a developer's .env cannot fill it in behind the test's back.
    result = run(["manage.py", "check"], production_env(SECRET_KEY=""))

    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set" in result.stderr


def test_production_refuses_the_public_development_secret_key():
    dev_key = "dev-insecure-elephantasm-secret-key-change-me-in-production-0123456789"

    result = run(["manage.py", "check"], production_env(SECRET_KEY=dev_key))

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = run(["manage.py", "check"], production_env(ALLOWED_HOSTS=""))

    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_production_is_https_only_behind_a_tls_proxy_and_never_debug():
    values = settings_of(
        production_env(),
        "DEBUG",
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "X_FRAME_OPTIONS",
        "SECURE_REFERRER_POLICY",
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "SECURE_REDIRECT_EXEMPT",
    )

    assert values == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_REFERRER_POLICY": "same-origin",
        "ALLOWED_HOSTS": ["memory.example.com"],
        "CSRF_TRUSTED_ORIGINS": ["https://memory.example.com"],
        "SECURE_REDIRECT_EXEMPT": ["^health$"],
    }


def test_ssl_redirect_and_the_proxy_header_are_configurable():
    values = settings_of(
        production_env(SECURE_SSL_REDIRECT="false", SECURE_PROXY_SSL_HEADER=""),
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
    )

    assert values == {"SECURE_SSL_REDIRECT": False, "SECURE_PROXY_SSL_HEADER": None}
