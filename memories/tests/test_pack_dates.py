"""Relative dates resolved against the day they were said (memories.packs.dates)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from memories.packs.dates import resolve

MONDAY = date(2023, 5, 8)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I went yesterday.", "I went yesterday [7 May 2023]."),
        ("Yesterday!", "Yesterday [7 May 2023]!"),
        ("last night was fun", "last night [7 May 2023] was fun"),
        ("see you tomorrow", "see you tomorrow [9 May 2023]"),
        ("two days ago I ran", "two days ago [6 May 2023] I ran"),
        ("3 weeks ago", "3 weeks ago [the week of 17 April 2023]"),
        ("last Friday we met", "last Friday [5 May 2023] we met"),
        ("next Sunday?", "next Sunday [14 May 2023]?"),
        ("last Monday", "last Monday [1 May 2023]"),  # not the day itself
        ("last week was rough", "last week [the week before 8 May 2023] was rough"),
        ("last weekend we hiked", "last weekend [the weekend of 6 May 2023] we hiked"),
        ("this weekend I rest", "this weekend [the weekend of 13 May 2023] I rest"),
        ("next weekend", "next weekend [the weekend of 20 May 2023]"),
        ("last month", "last month [April 2023]"),
        ("next year maybe", "next year [2024] maybe"),
        ("the weekend was nice", "the weekend was nice"),
        ("a yesterdayish word", "a yesterdayish word"),
    ],
)
def test_relative_dates_get_their_day(text, expected):
    assert resolve(text, MONDAY) == expected


def test_a_moment_counts_by_its_day_and_months_roll_over_the_year():
    assert resolve("last month", datetime(2024, 1, 3, 23, 0, tzinfo=UTC)) == (
        "last month [December 2023]"
    )
    assert resolve("tomorrow", date(2023, 12, 31)) == "tomorrow [1 January 2024]"
