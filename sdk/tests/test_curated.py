"""Memories, knowledge, lessons, identity and dreams through the client, against the live test
server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from elephantasm_client import (
    AuditEntry,
    ConflictError,
    DreamSession,
    Identity,
    Knowledge,
    Lesson,
    Memory,
    NotFoundError,
)
from elephantasm_client.models import SourceEvent, StateAsOf


def test_memories_are_created_curated_and_audited(client, spirit_id):
    event = client.extract(spirit_id, "message.in", "I use Neovim.", role="user")
    memory = client.memories.create(
        spirit_id,
        "The user uses Neovim.",
        memory_type="semantic",
        importance=0.7,
        tags=["tools"],
        event_ids=[event.id],
        reason="stated in chat",
        subject="tools",
    )
    other = client.memories.create(spirit_id, "The user likes Vim keybindings.")

    assert isinstance(memory, Memory)
    assert (memory.source_type, memory.tags, memory.subject) == ("explicit", ["tools"], "tools")
    assert [e.id for e in client.memories.events(memory.id).results] == [event.id]
    assert isinstance(client.memories.events(memory.id).results[0], SourceEvent)
    assert client.events.memories(event.id).results[0].id == memory.id
    assert client.memories.get(memory.id).importance == 0.7
    assert [m.id for m in client.memories.iter(spirit_id=spirit_id, tag="tools")] == [memory.id]
    assert client.memories.list(spirit_id=spirit_id, limit=1).count == 2
    assert client.memories.update(memory.id, summary="Neovim", reason="short").summary == "Neovim"
    assert client.memories.pin(memory.id).pinned is True
    assert client.memories.unpin(memory.id, reason="no longer").pinned is False
    assert client.memories.dispute(memory.id, other.id).contradicts == [other.id]
    newer = client.memories.supersede(memory.id, content="The user uses Neovim 0.10.")
    assert client.memories.get(memory.id).superseded_by_id == newer.id
    parts = client.memories.split(newer.id, [{"content": "Neovim."}, {"content": "0.10."}])
    assert [p.content for p in parts] == ["Neovim.", "0.10."]
    merged = client.memories.merge([parts[0].id, parts[1].id], content="Neovim 0.10.")
    assert merged.content == "Neovim 0.10."
    assert client.memories.archive(other.id).status == "archived"
    history = client.memories.history(memory.id)
    assert isinstance(history.results[0], AuditEntry)
    assert history.results[0].action == "create" and history.results[0].reason == "stated in chat"
    state = client.memories.as_of(memory.id, datetime.now(UTC))
    assert isinstance(state, StateAsOf) and state.state["status"] == "superseded"
    assert client.memories.delete(merged.id, reason="test") is None
    with pytest.raises(NotFoundError):
        client.memories.get(merged.id)
    assert client.memories.restore(merged.id).deleted_at is None


def test_knowledge_and_lessons_are_created_closed_and_traced_to_memories(client, spirit_id):
    memory = client.memories.create(spirit_id, "Ada lives in Lisbon and likes short examples.")
    fact = client.knowledge.create(
        spirit_id,
        "The user lives in Lisbon.",
        topic="location",
        knowledge_type="FACT",
        confidence=0.8,
        memory_ids=[memory.id],
    )
    moved = client.knowledge.create(
        spirit_id, "The user lives in Porto.", knowledge_type="FACT", topic="location"
    )
    lesson = client.lessons.create(
        spirit_id,
        "Always answer with short code examples.",
        rationale="Asked for it.",
        memory_ids=[memory.id],
    )

    assert isinstance(fact, Knowledge) and fact.is_current
    closed = client.knowledge.close(fact.id, superseded_by_id=moved.id, reason="moved")
    assert (closed.is_current, closed.superseded_by_id) == (False, moved.id)
    assert [k.id for k in client.knowledge.iter(spirit_id=spirit_id, current=True)] == [moved.id]
    assert [m.id for m in client.knowledge.memories(fact.id).results] == [memory.id]
    assert client.knowledge.update(moved.id, confidence=0.9).confidence == 0.9
    assert client.knowledge.history(fact.id).results[0].action == "create"

    assert isinstance(lesson, Lesson) and lesson.rationale == "Asked for it."
    assert [m.id for m in client.lessons.memories(lesson.id).results] == [memory.id]
    assert client.lessons.update(lesson.id, status="retired").status == "retired"
    assert client.lessons.list(spirit_id=spirit_id, status="retired").count == 1
    assert client.lessons.delete(lesson.id) is None
    assert client.lessons.get(lesson.id, include_deleted=True).deleted_at is not None
    assert client.knowledge.delete(moved.id) is None
    assert client.knowledge.restore(moved.id).deleted_at is None


def test_identity_is_read_replaced_patched_and_versioned(client, spirit_id):
    empty = client.identity.get(spirit_id)
    first = client.identity.replace(
        spirit_id, {"essence": "A helpful assistant.", "principles": ["Be brief."]}, reason="seed"
    )
    second = client.identity.update(spirit_id, {"purpose": "Help Ada write code."})

    assert isinstance(empty, Identity) and (empty.version, empty.updated_at) == (0, None)
    assert first.version >= 1 and second.version == first.version + 1
    assert second.document["essence"] == "A helpful assistant."
    assert second.document["purpose"] == "Help Ada write code."
    history = client.identity.history(spirit_id).results
    assert [entry.action for entry in history][-2:] == ["revise", "revise"]
    assert history[-2].reason == "seed"
    assert client.identity.as_of(spirit_id, first.updated_at).state["document"] == first.document


def test_dreams_are_queued_listed_and_a_queued_one_cannot_be_rolled_back(client, spirit_id):
    dream = client.dreams.request(spirit_id)

    with pytest.raises(ConflictError) as queued_twice:
        client.dreams.request(spirit_id)
    with pytest.raises(ConflictError) as not_done:
        client.dreams.rollback(dream.id, reason="test")

    assert isinstance(dream, DreamSession) and dream.status == "queued"
    assert queued_twice.value.details["existing_id"] == dream.id
    assert queued_twice.value.code == "conflict" and not_done.value.status == 409
    assert client.dreams.get(dream.id).trigger == "api"
    assert [d.id for d in client.dreams.list(spirit_id).results] == [dream.id]
    assert [d.id for d in client.dreams.iter(spirit_id, page_size=1)] == [dream.id]
    assert client.dreams.actions(dream.id).count == 0
