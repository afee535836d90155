"""Derivation of an event's dedupe key when the caller gives none (docs/api.md, "Dedupe and
retries"): every event gets one, from its source or its identity, with its time (the caller's,
or the server's assigned before the key)."""

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
    occurred_at: datetime,
    source_uri: str,
) -> str:
    """The dedupe key of an event that has a `source_uri` but no explicit `dedupe_key`: the
    original specification's formula, ``sha256(spirit_id | event_type | content[:100] |
    occurred_at | source_uri)``.

    It is the first 32 hexadecimal characters of the SHA-256 of this UTF-8 string::

        f"{spirit_id}|{event_type}|{content[:100]}|{occurred_at}|{source_uri}"

    where `spirit_id` is the spirit's UUID in canonical lower-case hyphenated form, `content[:100]`
    the first 100 characters of the content, and `occurred_at` the event's time, converted to UTC
    and written as ISO 8601 with microseconds, e.g. ``2025-01-02T03:04:05.000000+00:00``: the
    time the caller gave, else the server's time, assigned to the event before its key is
    derived (so the same item sent twice without a time is recorded twice, as the specification
    does; a client that retries sends a `dedupe_key` or an `occurred_at`).
    """
    joined = SEPARATOR.join(
        [
            str(UUID(str(spirit_id))),
            event_type,
            content[:CONTENT_PREFIX_CHARS],
            _utc(occurred_at),
            source_uri,
        ]
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
    """The dedupe key of an event with neither `dedupe_key` nor `source_uri`: the same message
    of the same session at the same microsecond is the same event, so a retried call (single or
    bulk) with an `occurred_at` creates nothing new.

    The first 32 hex characters of the SHA-256 of
    ``f"event|{spirit_id}|{event_type}|{role}|{session_id}|{sha256(content)}|{occurred_at}"``
    (occurred_at in UTC, ISO 8601 with microseconds; the whole content counts, through its own
    SHA-256). It keeps apart every pair of events the specification's formula keeps apart (the
    same spirit, type, time, content and an empty source_uri), and also those it would merge
    without a source to tell them apart: another role or session, or content that differs only
    after its first 100 characters (docs/api.md, "Differences from the original specification").
    """
    when = _utc(occurred_at)
    content_hash = hashlib.sha256(content.encode("utf-8")).hexdigest()
    joined = SEPARATOR.join(
        ["event", str(UUID(str(spirit_id))), event_type, role, session_id, content_hash, when]
    )
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:KEY_HEX_CHARS]


def derive_event_key(
    *,
    spirit_id: UUID | str,
    event_type: str,
    role: str,
    session_id: str,
    content: str,
    occurred_at: datetime,
    source_uri: str,
) -> str:
    """The dedupe key of an event given none: from its source when it has one
    (`derive_dedupe_key`), else from its identity (`derive_identity_key`). `occurred_at` is the
    event's time, the caller's or the server's (assigned before this is called)."""
    if source_uri:
        return derive_dedupe_key(
            spirit_id=spirit_id,
            event_type=event_type,
            content=content,
            occurred_at=occurred_at,
            source_uri=source_uri,
        )
    return derive_identity_key(
        spirit_id=spirit_id,
        event_type=event_type,
        role=role,
        session_id=session_id,
        content=content,
        occurred_at=occurred_at,
    )


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat("T", "microseconds")
