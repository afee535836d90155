"""API key format: `elk_<prefix>_<secret>`. The prefix finds the row; the SHA-256 proves the key."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

KEY_PREFIX = "elk"
_ALPHABET = string.ascii_lowercase + string.digits
PREFIX_LENGTH = 10
_PREFIX_CHARS = frozenset(_ALPHABET)


def generate() -> tuple[str, str, str]:
    """Return (raw key, prefix, hash)."""
    prefix = "".join(secrets.choice(_ALPHABET) for _ in range(PREFIX_LENGTH))
    raw = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    return raw, prefix, hash_key(raw)


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def parse_prefix(raw: str) -> str | None:
    """The lookup prefix of a well-formed key, else None (nothing malformed reaches a query)."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != PREFIX_LENGTH:
        return None
    if not set(parts[1]) <= _PREFIX_CHARS:
        return None
    return parts[1]


def matches(raw: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented key against the stored hash."""
    return hmac.compare_digest(hash_key(raw), stored_hash)
