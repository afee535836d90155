"""Moments: one parser for every date-time the API reads, the same set its schema declares."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jsonschema_rs
import pytest

from elephantasm.api.moments import (
    MOMENT_SCHEMA,
    UTC_MOMENT_SCHEMA,
    MomentError,
    parse_moment_text,
)

# The validator Schemathesis judges requests with (formats checked, as RFC 3339 reads them).
AWARE = jsonschema_rs.Draft202012Validator(MOMENT_SCHEMA, validate_formats=True)
NAIVE_OR_AWARE = jsonschema_rs.Draft202012Validator(UTC_MOMENT_SCHEMA, validate_formats=True)


def accepts(text: str, *, naive_is_utc: bool) -> bool:
    try:
        parse_moment_text(text, naive_is_utc=naive_is_utc)
    except MomentError:
        return False
    return True


def test_an_offset_and_a_fraction_are_read():
    moment = parse_moment_text("2025-01-02T03:04:05.25+02:00", naive_is_utc=False)

    assert moment == datetime(2025, 1, 2, 1, 4, 5, 250000, tzinfo=UTC)
    assert moment.utcoffset() == timedelta(hours=2)


def test_a_naive_moment_is_utc_where_the_field_says_so():
    assert parse_moment_text("2025-01-02T03:04:05", naive_is_utc=True) == datetime(
        2025, 1, 2, 3, 4, 5, tzinfo=UTC
    )
    with pytest.raises(MomentError) as refused:
        parse_moment_text("2025-01-02T03:04:05", naive_is_utc=False)
    assert refused.value.code == "naive"


def test_more_than_six_digits_of_a_second_are_cut_not_refused():
    moment = parse_moment_text("2025-01-02T03:04:05.1234567Z", naive_is_utc=False)

    assert moment.microsecond == 123456
    assert moment.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("2025-01-02T03:04:05+16:00", "offset"),  # PostgreSQL takes ±15:59
        ("2025-01-02T03:04:05-23:14", "offset"),
        ("0001-01-01T00:30:00+01:00", "range"),  # not a moment in UTC at all
        ("9999-12-31T23:30:00-01:00", "range"),
        ("2025-01-02", "format"),  # a date alone: DRF took it as midnight
        ("2025-01-02 03:04:05Z", "format"),
        ("2025-02-30T00:00:00Z", "format"),
        ("2025-01-02T03:04:60Z", "format"),
        ("2025-01-02T03:04:05+02", "format"),
        (" 2025-01-02T03:04:05Z", "format"),
    ],
)
def test_what_is_refused_and_why(text, code):
    with pytest.raises(MomentError) as refused:
        parse_moment_text(text, naive_is_utc=True)

    assert refused.value.code == code


@pytest.mark.parametrize(
    "text",
    [
        "2025-01-02T03:04:05Z",
        "2025-01-02t03:04:05z",
        "2025-01-02T03:04:05.123456-15:59",
        "0001-01-02T00:00:00+15:59",
        "9999-12-30T23:59:59-15:59",
        "2025-01-02T03:04:05+16:00",
        "2025-01-02T03:04:05-23:59",
        "0001-01-01T00:00:00Z",
        "9999-12-31T00:00:00Z",
        "2025-01-02T03:04:05",
        "2025-02-28T23:59:59.5",
        "2025-01-02",
        "2025-13-02T03:04:05Z",
        "2025-01-02 03:04:05Z",
    ],
)
def test_the_schema_declares_exactly_what_the_parser_takes(text):
    assert AWARE.is_valid(text) is accepts(text, naive_is_utc=False), text
    assert NAIVE_OR_AWARE.is_valid(text) is accepts(text, naive_is_utc=True), text
