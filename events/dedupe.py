"""Derivation of an event's dedupe key from its source, when the caller gives none."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from uuid import UUID

CONTENT_PREFIX_CHARS = 100
KEY_HEX_CHARS = 32
SEPARATOR = "|"


def derive_dedupe_key(
    *,
    spirit_id: UUID | str,
    event_type: str,
    content: str,
    occurred_at: datetime | None,
    source_uri: str,
) -> str:
    """The dedupe key of an event that has a `source_uri` but no explicit `dedupe_key`.

    It is the first 32 hexadecimal characters of the SHA-256 of this UTF-8 string::

        f"{spirit_id}|{event_type}|{content[:100]}|{occurred_at}|{source_uri}"

    where `spirit_id` is the spirit's UUID in canonical lower-case hyphenated form, `content[:100]`
    the first 100 characters of the content, and `occurred_at` the time the caller gave, converted
    to UTC and written as ISO 8601 with microseconds,
    e.g. ``2025-01-02T03:04:05.000000+00:00`` — or the empty string when the caller gave no
    `occurred_at` (so re-sending the same item without a time is still recognised as a duplicate;
    the server's "now" would differ on every call).
    """
    when = "" if occurred_at is None else occurred_at.astimezone(UTC).isoformat("T", "microseconds")
    joined = SEPARATOR.join(
        [str(UUID(str(spirit_id))), event_type, content[:CONTENT_PREFIX_CHARS], when, source_uri]
    )
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:KEY_HEX_CHARS]


def derive_identity_key(
    *,
    spirit_id: UUID | str,
    event_type: str,
    role: str,
    session_id: str,
    content: str,
    occurred_at: datetime,
) -> str:
    """The dedupe key of an event with neither `dedupe_key` nor `source_uri` but an explicit
    `occurred_at`: the same message of the same session at the same microsecond is the same
    event, so a retried call (single or bulk) creates nothing new.

    The first 32 hex characters of the SHA-256 of
    ``f"event|{spirit_id}|{event_type}|{role}|{session_id}|{sha256(content)}|{occurred_at}"``
    (occurred_at in UTC, ISO 8601 with microseconds; the whole content counts, through its own
    SHA-256). Events without an explicit time get no key: the server's "now" differs per call.
    """
    when = occurred_at.astimezone(UTC).isoformat("T", "microseconds")
    content_hash = hashlib.sha256(content.encode("utf-8")).hexdigest()
    joined = SEPARATOR.join(
        ["event", str(UUID(str(spirit_id))), event_type, role, session_id, content_hash, when]
    )
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:KEY_HEX_CHARS]
