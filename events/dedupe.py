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
