"""Settings for the test suite: a throwaway embedded PostgreSQL unless DATABASE_URL is given."""

import os
import tempfile

if not os.environ.get("DATABASE_URL") and not os.environ.get("EMBEDDED_PG_DIR"):
    os.environ["EMBEDDED_PG_DIR"] = tempfile.mkdtemp(prefix="elephantasm-test-pg-")
    os.environ["EMBEDDED_PG_CLEANUP"] = "delete"

from .base import *  # noqa: F403

DEBUG = False


def _test_redis_db(url: str) -> str:
    """The same Redis server, another database (TEST_REDIS_DB, default 15): tasks the tests
    enqueue never reach a development worker on database 0 (make run), and the suite can empty
    its queues at the end (conftest.py)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        return url
    return urlunsplit(parts._replace(path="/" + os.environ.get("TEST_REDIS_DB", "15")))


CELERY_BROKER_URL = _test_redis_db(CELERY_BROKER_URL)  # noqa: F405
CELERY_RESULT_BACKEND = _test_redis_db(CELERY_RESULT_BACKEND)  # noqa: F405
# The cache (rate-limit counters) on the test database too, never a development server's.
CACHES["default"]["LOCATION"] = _test_redis_db(CACHE_URL)  # noqa: F405
CACHES["default"]["KEY_PREFIX"] = "elephantasm-test"  # noqa: F405
# The throttles run on every test request (against the real Redis) but never refuse one: tests
# make many requests, and every anonymous test client is 127.0.0.1 (one shared counter). Tests
# of throttling set tiny rates with override_settings. Clearing the cache between tests instead
# would FLUSHDB the test database, Celery queues included, under tests that run a worker.
API_THROTTLE_RATE = "1000000/min"
API_THROTTLE_BURST_RATE = "1000000/s"
API_AUTH_FAILURE_RATE = "1000000/min"
# Celery prefers these environment variables to the settings: keep them in step.
os.environ["CELERY_BROKER_URL"] = CELERY_BROKER_URL
os.environ["CELERY_RESULT_BACKEND"] = CELERY_RESULT_BACKEND
# Transactional tests end with a flush (TRUNCATE); the audit log refuses TRUNCATE unless the
# connection opts in, which only the test suite does.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c elephantasm.allow_truncate=on"  # noqa: F405
# bcrypt's 12 rounds cost ~0.25 s per hash; tests that create users do not test the hash cost
# (test_settings checks the production hasher list in base).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
