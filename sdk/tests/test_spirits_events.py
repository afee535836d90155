"""Spirits, events and sessions through the client, against the live test server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from elephantasm_client import (
    BulkResult,
    DuplicateEventError,
    Event,
    NotFoundError,
    Page,
    Session,
    Spirit,
)
from elephantasm_client.models import PipelineStatus, SpiritStats, SynthesisQueued


def test_spirits_are_created_read_paged_changed_deleted_restored_and_purged(client):
    made = [client.spirits.create(f"helper-{n}", description="test", config={}) for n in range(3)]

    assert all(isinstance(s, Spirit) for s in made)
    assert made[0].name == "helper-0" and made[0].effective_config
    page = client.spirits.list(limit=2)
    assert (page.count, len(page.results)) == (3, 2)
    assert isinstance(page, Page) and page.next is not None
    assert client.spirits.list(limit=2, offset=2).results[0].id in {s.id for s in made}
    assert sorted(s.name for s in client.spirits.iter(page_size=2)) == [
        "helper-0",
        "helper-1",
        "helper-2",
    ]
    assert [s.name for s in client.spirits.iter(name="helper-1")] == ["helper-1"]

    first = made[0].id
    assert client.spirits.get(first).name == "helper-0"
    assert client.spirits.update(first, name="renamed", status="paused").status == "paused"
    assert client.spirits.update(first, status="active").name == "renamed"
    stats = client.spirits.stats(first)
    assert isinstance(stats, SpiritStats) and stats.event_count == 0
    assert isinstance(client.spirits.pipeline(first), PipelineStatus)
    queued = client.spirits.synthesize(first)
    assert isinstance(queued, SynthesisQueued) and queued.spirit_id == first

    assert client.spirits.delete(first) is None
    with pytest.raises(NotFoundError):
        client.spirits.get(first)
    assert client.spirits.get(first, include_deleted=True).deleted_at is not None
    assert client.spirits.restore(first).deleted_at is None
    purged = client.spirits.purge(made[1].id, confirm="helper-1")
    assert purged.spirit_id == made[1].id and purged.deleted
    assert client.spirits.list().count == 2


def test_extract_records_an_event_and_gives_it_a_dedupe_key_only_when_none_can_be_derived(
    client, spirit_id
):
    event = client.extract(
        spirit_id,
        "message.in",
        "I live in Lisbon.",
        role="user",
        author="Ada",
        session_id="s-1",
        metadata={"channel": "chat"},
    )
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    dated = client.extract(spirit_id, "message.out", "Noted.", role="assistant", occurred_at=at)

    assert isinstance(event, Event)
    assert (event.spirit_id, event.event_type, event.role, event.author) == (
        spirit_id,
        "message.in",
        "user",
        "Ada",
    )
    assert (event.session_id, event.metadata) == ("s-1", {"channel": "chat"})
    assert event.dedupe_key.startswith("client-") and event.token_count > 0
    # occurred_at lets the server derive the key itself (a re-sent transcript is a duplicate).
    assert dated.occurred_at == at and not dated.dedupe_key.startswith("client-")


def test_a_duplicate_event_raises_with_the_existing_id_unless_duplicates_are_ignored(
    client, spirit_id
):
    first = client.extract(spirit_id, "system", "Booted.", dedupe_key="boot-1")

    with pytest.raises(DuplicateEventError) as caught:
        client.extract(spirit_id, "system", "Booted again.", dedupe_key="boot-1")
    again = client.extract(
        spirit_id, "system", "Booted again.", dedupe_key="boot-1", ignore_duplicates=True
    )

    error = caught.value
    assert (error.status, error.code, error.existing_id) == (409, "duplicate_event", first.id)
    assert error.existing_deleted is False and error.after_retry is False
    assert again == first


def test_bulk_records_each_item_and_reports_duplicates_and_errors(client, spirit_id):
    at = "2026-03-01T10:00:00Z"
    items = [
        {"event_type": "message.in", "role": "user", "content": "Hi!", "occurred_at": at},
        {"event_type": "message.out", "role": "assistant", "content": "Hello."},
        {"event_type": "message.in", "content": ""},
    ]

    result = client.events.bulk(spirit_id, items)
    again = client.events.bulk(spirit_id, items[:1])

    assert isinstance(result, BulkResult)
    assert (result.created, result.duplicates, result.errors) == (2, 0, 1)
    assert [r.status for r in result.results] == ["created", "created", "error"]
    assert result.results[2].error["details"] == {"content": ["This field may not be blank."]}
    assert client.events.get(result.results[1].id).dedupe_key.startswith("client-")
    assert again.results[0].status == "duplicate"
    assert again.results[0].id == result.results[0].id


def test_events_are_read_counted_changed_deleted_and_restored(client, spirit_id):
    event = client.extract(spirit_id, "tool.call", "search(lisbon)", session_id="s-9")

    assert client.events.get(event.id).content == "search(lisbon)"
    assert client.events.count(spirit_id=spirit_id, event_type="tool.call") == 1
    assert client.events.count(spirit_id=spirit_id, event_type="system") == 0
    changed = client.events.update(event.id, importance_score=0.9, meta_summary="A search.")
    assert (changed.importance_score, changed.meta_summary) == (0.9, "A search.")
    assert client.events.memories(event.id).count == 0
    assert client.events.delete(event.id) is None
    with pytest.raises(NotFoundError):
        client.events.get(event.id)
    assert client.events.get(event.id, include_deleted=True).deleted_at is not None
    assert client.events.restore(event.id).deleted_at is None

    [session] = client.sessions.list(spirit_id=spirit_id).results
    assert isinstance(session, Session) and session.session_id == "s-9"
    assert client.sessions.get(session.id).event_count == 1
    assert [s.id for s in client.sessions.iter(spirit_id=spirit_id)] == [session.id]


def test_event_iterators_follow_the_pages_and_list_returns_one_page(client, spirit_id):
    start = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    client.events.bulk(
        spirit_id,
        [
            {
                "event_type": "message.in",
                "content": f"turn {n}",
                "session_id": "long",
                "occurred_at": start + timedelta(minutes=n),
            }
            for n in range(7)
        ],
    )

    turns = list(client.events.iter(spirit_id=spirit_id, session_id="long", page_size=3))
    last = client.events.list(spirit_id=spirit_id, session_id="long", limit=3, offset=6)
    after = client.events.list(spirit_id=spirit_id, occurred_after=start + timedelta(minutes=4))

    assert [e.content for e in turns] == [f"turn {n}" for n in range(7)]
    assert (last.count, [e.content for e in last.results]) == (7, ["turn 6"])
    assert last.next is None
    assert [e.content for e in after.results] == ["turn 6", "turn 5"]
