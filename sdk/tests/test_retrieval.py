"""The agent verbs against the live test server: extract a conversation, search it, inject the
pack."""

from __future__ import annotations

import pytest
from elephantasm_client import NotFoundError, Pack, SearchHit, SearchResult

TURNS = [
    ("message.in", "user", "Hi! My name is Ada. I live in Lisbon."),
    ("message.out", "assistant", "Nice to meet you, Ada."),
    ("message.in", "user", "I use Neovim for writing code."),
    ("message.out", "assistant", "Noted: Neovim."),
]


@pytest.fixture
def conversation(client, spirit_id):
    for event_type, role, content in TURNS:
        client.extract(spirit_id, event_type, content, role=role, session_id="s-1")


@pytest.mark.usefixtures("conversation")
def test_search_returns_typed_hits_best_first_and_takes_filters(client, spirit_id):
    hits = client.search(spirit_id, "Which editor does Ada use for code?", k=3)
    only_memories = client.search(spirit_id, "Neovim", kinds=["memories"])
    other_session = client.search(spirit_id, "Neovim", kinds=["events"], session_id="s-2")
    full = client.spirits.search(spirit_id, "Lisbon", kinds=["events"], k=1, vector_weight=0)

    assert all(isinstance(hit, SearchHit) for hit in hits) and len(hits) <= 3
    assert hits[0].text == "I use Neovim for writing code."
    assert hits[0].kind == "event" and hits[0].reasons.text_rank == 1
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    assert only_memories == [] and other_session == []
    assert isinstance(full, SearchResult) and full.weights["vector"] == 0
    assert [hit.text for hit in full.results] == ["Hi! My name is Ada. I live in Lisbon."]


@pytest.mark.usefixtures("conversation")
def test_inject_returns_the_pack_text_items_and_token_count(client, spirit_id):
    with pytest.raises(NotFoundError):
        client.packs.latest(spirit_id)

    pack = client.inject(spirit_id, query="where does Ada live?", session_id="s-1", max_tokens=200)
    other = client.inject(spirit_id, query="Neovim", session_id="s-2", preset="focused")

    assert isinstance(pack, Pack) and pack.max_tokens == 200
    assert "## This session so far" in pack.text
    assert "user: Hi! My name is Ada. I live in Lisbon." in pack.text
    assert 0 < pack.token_count <= 200
    # The session's newest turns fill its share (30 % of 200 tokens); the turn that answers
    # the query comes back as a relevant past event.
    lines = {
        layer: [item.text.split("] ", 1)[1] for item in pack.items if item.layer == layer]
        for layer in ("session", "past")
    }
    assert lines["session"] == [
        "assistant: Nice to meet you, Ada.",
        "user: I use Neovim for writing code.",
        "assistant: Noted: Neovim.",
    ]
    assert lines["past"] == ["user: Hi! My name is Ada. I live in Lisbon."]
    assert len(pack.items) == 4
    assert sum(item.tokens for item in pack.items) < pack.token_count  # headings count too
    assert other.preset == "focused" and "## Relevant past events" in other.text
    assert "Neovim" in other.text
    assert client.packs.latest(spirit_id).id == other.id
    assert [p.id for p in client.packs.list(spirit_id).results] == [other.id, pack.id]
    assert [p.id for p in client.packs.iter(spirit_id, page_size=1)] == [other.id, pack.id]
