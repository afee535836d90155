"""Rates such as "1200/min": parsed here, with no Django setup needed, so the settings can
refuse a bad one when they load (elephantasm.api.throttling applies them)."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

PERIODS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
}


def parse_rate(rate: str | None, *, name: str = "rate") -> tuple[int, int] | None:
    """ "1200/min" -> (1200, 60); "" or None -> None (no limit). The count is a whole number of
    at least 1; the period one of PERIODS (case and spaces aside): s, sec, second, m, min,
    minute, h, hour, d, day, or their plurals. Anything else is ImproperlyConfigured (a period
    such as "month" is not taken for another one)."""
    if not rate:
        return None
    count, _, period = rate.partition("/")
    seconds = PERIODS.get(period.strip().lower())
    try:
        number = int(count.strip())
    except ValueError:
        number = 0
    if seconds is None or number < 1:
        raise ImproperlyConfigured(
            f"Invalid {name} {rate!r}: use N/s, N/min, N/hour or N/day, N a whole number of at "
            "least 1 (e.g. 1200/min)."
        )
    return number, seconds
