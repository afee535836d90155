"""Moments the API reads: one parser and one schema for every date-time a request carries.

A moment is an RFC 3339 date-time, as the OpenAPI schema's `format: date-time` says:
`YYYY-MM-DDThh:mm:ss`, an optional fraction of a second, then `Z` or an offset `+hh:mm`/`-hh:mm`.
Where a field says so (`naive_is_utc`: list filters, `as_of`, search, a memory's times), the
offset may be left out and the moment is read as UTC. Besides the format:

- an offset beyond ±15:59 is refused: PostgreSQL cannot take it (Python takes ±23:59);
- the first and the last day Python can hold (0001-01-01, 9999-12-31) are refused, as a moment
  on them with an offset is not a moment in UTC at all.

Anything else (a date alone, a space for the `T`, a leap second, a week date) is refused too, so
that what the schema declares and what the server takes are the same set. `MOMENT_SCHEMA` and
`UTC_MOMENT_SCHEMA` declare it for aware-only and naive-is-UTC fields.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from elephantasm.validators import MAX_UTC_OFFSET, OFFSET_MESSAGE

FORMAT_MESSAGE = "Datetime has wrong format. Use ISO 8601, e.g. 2025-01-02T03:04:05Z."
NAIVE_MESSAGE = "Include a time zone (Z or an offset like +02:00): naive times are ambiguous."
RANGE_MESSAGE = "Use a moment from 0001-01-02 to 9999-12-30."
EDGE_DAYS = ("0001-01-01", "9999-12-31")

_MOMENT = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[Tt]"
    r"(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})(?:\.(?P<fraction>\d+))?"
    r"(?P<offset>[Zz]|(?P<sign>[+-])(?P<oh>\d{2}):(?P<om>\d{2}))?",
    re.ASCII,
)


class MomentError(ValueError):
    """Why a text is not a moment the API takes: `code` is format, naive, offset or range."""

    MESSAGES = {
        "format": FORMAT_MESSAGE,
        "naive": NAIVE_MESSAGE,
        "offset": OFFSET_MESSAGE,
        "range": RANGE_MESSAGE,
    }

    def __init__(self, code: str):
        super().__init__(self.MESSAGES[code])
        self.code = code
        self.message = self.MESSAGES[code]


def parse_moment_text(text: object, *, naive_is_utc: bool) -> datetime:
    """The aware datetime `text` names, in its own offset (UTC when naive and allowed)."""
    match = _MOMENT.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise MomentError("format")
    if text[:10] in EDGE_DAYS:
        raise MomentError("range")
    tz = _zone(match)
    if tz is None and not naive_is_utc:
        raise MomentError("naive")
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    try:
        return datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            int(match["hour"]),
            int(match["minute"]),
            int(match["second"]),
            int(fraction),
            tzinfo=tz or UTC,
        )
    except ValueError:  # month 13, 30 February, second 60...
        raise MomentError("format") from None


def _zone(match: re.Match) -> timezone | None:
    if match["offset"] is None:
        return None
    if match["sign"] is None:
        return UTC
    hours, minutes = int(match["oh"]), int(match["om"])
    if hours > 23 or minutes > 59:
        raise MomentError("format")
    offset = timedelta(hours=hours, minutes=minutes)
    if offset > MAX_UTC_OFFSET:
        raise MomentError("offset")
    return timezone(-offset if match["sign"] == "-" else offset)


# --- the schema ----------------------------------------------------------------------------------

_NOT_EDGE_DAYS = {"not": {"pattern": "^(?:" + "|".join(EDGE_DAYS) + ")"}}
_OFFSET_WITHIN = "(?:[Zz]|[+-](?:0[0-9]|1[0-5]):[0-5][0-9])$"
_YEAR = "(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
# Valid days of each month (29 February left out: a schema cannot tell leap years).
_MONTH_DAY = (
    "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
_NAIVE = f"^{_YEAR}-{_MONTH_DAY}[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]+)?$"

MOMENT_SCHEMA = {
    "type": "string",
    "format": "date-time",
    "pattern": _OFFSET_WITHIN,
    **_NOT_EDGE_DAYS,
    "description": "RFC 3339 with Z or an offset within ±15:59, from 0001-01-02 to 9999-12-30.",
}
UTC_MOMENT_SCHEMA = {
    "anyOf": [
        {k: v for k, v in MOMENT_SCHEMA.items() if k != "description"},
        {"type": "string", "pattern": _NAIVE, **_NOT_EDGE_DAYS},
    ],
    "description": "RFC 3339 with Z or an offset within ±15:59, or without an offset for UTC; "
    "from 0001-01-02 to 9999-12-30.",
}
