import hashlib
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from events.dedupe import derive_dedupe_key

SPIRIT = uuid.UUID("12345678-1234-5678-1234-567812345678")
WHEN = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def key(**overrides):
    args = {
        "spirit_id": SPIRIT,
        "event_type": "message.in",
        "content": "hello",
        "occurred_at": WHEN,
        "source_uri": "slack://c/1",
    }
    args.update(overrides)
    return derive_dedupe_key(**args)


def test_key_is_the_documented_sha256_prefix():
    joined = f"{SPIRIT}|message.in|hello|2025-01-02T03:04:05.000000+00:00|slack://c/1"

    assert key() == hashlib.sha256(joined.encode()).hexdigest()[:32]


def test_key_uses_only_the_first_100_characters_of_content():
    assert key(content="a" * 100 + "tail one") == key(content="a" * 100 + "tail two")


def test_key_is_the_same_for_one_instant_in_any_time_zone():
    plus_two = timezone(timedelta(hours=2))

    assert key(occurred_at=WHEN.astimezone(plus_two)) == key()


@pytest.mark.parametrize(
    "change",
    [
        {"spirit_id": uuid.UUID(int=1)},
        {"event_type": "system"},
        {"content": "bye"},
        {"occurred_at": WHEN + timedelta(microseconds=1)},
        {"source_uri": "slack://c/2"},
    ],
    ids=["spirit", "type", "content", "time", "source"],
)
def test_key_changes_with_each_input(change):
    assert key(**change) != key()


def test_key_accepts_the_spirit_id_as_a_string():
    assert key(spirit_id=str(SPIRIT).upper()) == key()
