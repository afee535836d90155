"""Relative dates in an event's text, resolved against the day it was said.

"I went to the support group yesterday", said on 8 May 2023, is rendered "I went to the support
group yesterday [7 May 2023]": an agent asked "when did Caroline go?" months later reads the day
instead of working it out. English expressions only; the stored text is never changed.

    yesterday, last night                     -> the day before
    tomorrow                                  -> the day after
    N days / weeks ago (digits or one..ten)   -> that day / "the week of ..."
    last / next Monday..Sunday                -> the day itself
    last / next week, last / this weekend     -> "the week before / after ...", "the weekend of"
    last / next month, last / next year       -> the month / the year
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
NUMBERS = {
    "a": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
_COUNT = r"(\d{1,2}|a|one|two|three|four|five|six|seven|eight|nine|ten)"
_PATTERN = re.compile(
    r"\b(?:"
    r"(?P<yesterday>yesterday|last night)"
    r"|(?P<tomorrow>tomorrow)"
    rf"|(?P<ago_count>{_COUNT}) (?P<ago_unit>days?|weeks?) ago"
    rf"|(?P<day_dir>last|next|this past|this coming) (?P<weekday>{'|'.join(WEEKDAYS)})"
    r"|(?P<week_dir>last|next) week(?!end)"
    r"|(?P<weekend_dir>last|this|next) weekend"
    r"|(?P<month_dir>last|next) month"
    r"|(?P<year_dir>last|next) year"
    r")\b",
    re.IGNORECASE,
)


def day(moment: date) -> str:
    return f"{moment.day} {moment.strftime('%B %Y')}"


def _weekday(said: date, name: str, direction: str) -> date:
    target = WEEKDAYS.index(name.lower())
    if direction.lower() in ("last", "this past"):
        back = (said.weekday() - target) % 7 or 7
        return said - timedelta(days=back)
    ahead = (target - said.weekday()) % 7 or 7
    return said + timedelta(days=ahead)


def _month(said: date, step: int) -> str:
    month = said.month - 1 + step
    return date(said.year + month // 12, month % 12 + 1, 1).strftime("%B %Y")


def _meaning(match: re.Match, said: date) -> str | None:
    groups = match.groupdict()
    if groups["yesterday"]:
        return day(said - timedelta(days=1))
    if groups["tomorrow"]:
        return day(said + timedelta(days=1))
    if groups["ago_count"]:
        count = groups["ago_count"].lower()
        n = int(count) if count.isdigit() else NUMBERS[count]
        if groups["ago_unit"].lower().startswith("day"):
            return day(said - timedelta(days=n))
        return "the week of " + day(said - timedelta(weeks=n))
    if groups["weekday"]:
        return day(_weekday(said, groups["weekday"], groups["day_dir"]))
    if groups["week_dir"]:
        before = groups["week_dir"].lower() == "last"
        return ("the week before " if before else "the week after ") + day(said)
    if groups["weekend_dir"]:
        monday = said - timedelta(days=said.weekday())
        offset = {"last": -2, "this": 5, "next": 12}[groups["weekend_dir"].lower()]
        return "the weekend of " + day(monday + timedelta(days=offset))
    if groups["month_dir"]:
        return _month(said, -1 if groups["month_dir"].lower() == "last" else 1)
    if groups["year_dir"]:
        return str(said.year + (-1 if groups["year_dir"].lower() == "last" else 1))
    return None


def resolve(text: str, said: datetime | date) -> str:
    """`text` with each relative date followed by its meaning in brackets, as of `said`."""
    when = said.date() if isinstance(said, datetime) else said

    def annotate(match: re.Match) -> str:
        meaning = _meaning(match, when)
        return f"{match.group(0)} [{meaning}]" if meaning else match.group(0)

    return _PATTERN.sub(annotate, text)
