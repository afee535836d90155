"""Settings for the test suite: a throwaway embedded PostgreSQL unless DATABASE_URL is given."""

import os
import tempfile

if not os.environ.get("DATABASE_URL") and not os.environ.get("EMBEDDED_PG_DIR"):
    os.environ["EMBEDDED_PG_DIR"] = tempfile.mkdtemp(prefix="elephantasm-test-pg-")
    os.environ["EMBEDDED_PG_CLEANUP"] = "delete"

from .base import *  # noqa: F403

DEBUG = False
# Transactional tests end with a flush (TRUNCATE); the audit log refuses TRUNCATE unless the
# connection opts in, which only the test suite does.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c elephantasm.allow_truncate=on"  # noqa: F405
# bcrypt's 12 rounds cost ~0.25 s per hash; tests that create users do not test the hash cost
# (test_settings checks the production hasher list in base).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
