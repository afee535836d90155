"""The pack compiler: layers, scores, the token budget, presets, and recorded use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from elephantasm.ai.tokens import count_tokens
from elephantasm.api.errors import ValidationFailed
from events.tests.factories import EventFactory
from memories.models import (
    ContextPack,
    Knowledge,
    Lesson,
    LessonStatus,
    Memory,
    MemoryStatus,
)
from memories.packs import LAYERS, PRESETS, PackRequest, compile_pack
from memories.packs.access import record_pack_use
from memories.packs.layers import HEADINGS
from memories.packs.scoring import recency, score
from memories.retrieval import SearchQuery, search
from memories.services.identity import identity_revise
from pipeline import cortex, embedding, flow
from spirits.tests.factories import SpiritFactory
from teams.actors import Actor

from .factories import KnowledgeFactory, LessonFactory, MemoryFactory

pytestmark = pytest.mark.django_db
USER = Actor(type="user", id="1", label="curator")


@pytest.fixture
def world(spirit):
    """A spirit with something in every layer (and things a pack must leave out)."""
    now = timezone.now()
    identity_revise(
        spirit=spirit,
        document={"essence": "A patient tutor.", "principles": ["Explain, then ask."]},
        actor=USER,
    )
    for i in range(3):
        EventFactory(
            spirit=spirit,
            session_id="current",
            content=f"current session message {i}",
            occurred_at=now - timedelta(minutes=10 - i),
        )
    EventFactory(spirit=spirit, session_id="other", content="an unsynthesized event")
    EventFactory(spirit=spirit, session_id="old", content="already remembered", synthesized_at=now)
    KnowledgeFactory(spirit=spirit, content="The user lives in Lisbon.", confidence=0.9)
    KnowledgeFactory(spirit=spirit, content="The user lived in Porto.", valid_to=now)
    LessonFactory(spirit=spirit, statement="Always answer briefly.", status=LessonStatus.ACTIVE)
    LessonFactory(spirit=spirit, statement="Use emojis.", status=LessonStatus.RETIRED)
    MemoryFactory(spirit=spirit, content="We planned a trip to the Azores.", importance=0.9)
    MemoryFactory(spirit=spirit, content="An archived thought.", status=MemoryStatus.ARCHIVED)
    return spirit


def texts(pack, layer: str) -> list[str]:
    return [item.line for item in pack.items if item.layer == layer]


def test_the_identity_and_events_of_a_pack_are_its_spirits_and_live_only(world):
    """The identity, session and pending reads are compiled once and run with each spirit's
    values (elephantasm.compiled): another spirit's, deleted events and their own sessions
    never show; without a session every unsynthesized event is pending."""
    other = SpiritFactory(team=world.team)
    identity_revise(spirit=other, document={"essence": "Someone else."}, actor=USER)
    EventFactory(spirit=other, session_id="current", content="another spirit's message")
    EventFactory(spirit=other, session_id="other", content="another spirit's pending event")
    EventFactory(
        spirit=world, session_id="current", content="a deleted message", deleted_at=timezone.now()
    )

    with_session = compile_pack(world, PackRequest(session_id="current", max_tokens=4000))
    without = compile_pack(world, PackRequest(max_tokens=4000))
    theirs = compile_pack(other, PackRequest(session_id="current", max_tokens=4000))

    assert [line.split(": ", 1)[1] for line in texts(with_session, "session")] == [
        f"current session message {i}" for i in range(3)
    ]
    assert "A patient tutor." in texts(with_session, "identity")[0]
    assert sorted(line.split(": ", 1)[1] for line in texts(without, "pending")) == [
        "an unsynthesized event",
        *(f"current session message {i}" for i in range(3)),
    ]
    assert texts(theirs, "identity") == ["Essence: Someone else."]
    assert [line.split(": ", 1)[1] for line in texts(theirs, "session")] == [
        "another spirit's message"
    ]
    assert [line.split(": ", 1)[1] for line in texts(theirs, "pending")] == [
        "another spirit's pending event"
    ]


def test_a_pack_has_every_layer_in_order_and_only_what_an_agent_should_see(world):
    pack = compile_pack(world, PackRequest(session_id="current", max_tokens=4000))

    assert [texts(pack, "identity")[0], texts(pack, "identity")[1]] == [
        "Essence: A patient tutor.",
        "Principles:\n- Explain, then ask.",
    ]
    session = texts(pack, "session")
    assert [line.split(": ", 1)[1] for line in session] == [
        f"current session message {i}" for i in range(3)
    ]  # oldest first
    assert [line.split(": ", 1)[1] for line in texts(pack, "pending")] == ["an unsynthesized event"]
    assert texts(pack, "knowledge") == ["- The user lives in Lisbon."]
    assert texts(pack, "lessons") == ["- Always answer briefly."]
    assert [line.split("] ", 1)[1] for line in texts(pack, "memories")] == [
        "We planned a trip to the Azores."
    ]
    present = [layer for layer in LAYERS if HEADINGS[layer] in pack.text]
    assert present == [layer for layer in LAYERS if layer != "past"]  # past: only with a query
    positions = [pack.text.index(HEADINGS[layer]) for layer in present]
    assert positions == sorted(positions)
    assert pack.token_count == count_tokens(pack.text) <= 4000
    assert (
        sum(item.tokens for item in pack.items)
        + sum(count_tokens(HEADINGS[layer]) for layer in present)
        == pack.token_count
    )


@pytest.mark.parametrize("max_tokens", [64, 70, 90, 130, 200, 400])
def test_the_budget_is_never_exceeded(world, max_tokens):
    for i in range(30):
        MemoryFactory(spirit=world, content=f"memory number {i} " + "word " * (i * 3))

    pack = compile_pack(world, PackRequest(session_id="current", max_tokens=max_tokens))

    assert pack.token_count == count_tokens(pack.text)
    assert pack.token_count <= max_tokens
    assert sum(b["used"] for b in pack.budget.values()) == pack.token_count
    for layer, budget in pack.budget.items():
        assert budget["used"] <= budget["allotted"], layer


def test_the_token_count_is_the_rendered_texts_for_any_characters(world):
    """The count is the sum of the headings' and lines' tokens: exact because the tokenizer
    splits at whitespace first. Punctuation glued to words, accents, CJK, emoji, tabs, a
    line break inside an item, a lone dash."""
    for content in [
        "Ça coûte 12,50€ — vraiment?!",
        "東京で会議 (tokyo) 会議",
        "emoji 🐘🐘 and\ttabs\tinside",
        "line one\nline two:done",
        "-",
        "C++/Rust 'quoted' \"double\" [x](y) a.b.c",
    ]:
        MemoryFactory(spirit=world, content=content)

    pack = compile_pack(world, PackRequest(session_id="current", max_tokens=4000))

    assert len(texts(pack, "memories")) == 7
    assert pack.token_count == count_tokens(pack.text)


def test_unused_tokens_flow_to_the_next_layers(spirit):
    MemoryFactory(spirit=spirit, content="the only thing there is")
    shares = PRESETS["conversational"].shares

    pack = compile_pack(spirit, PackRequest(max_tokens=1000))

    # No identity, session, past, knowledge or lessons: memories get all of theirs, and what
    # memories leave flows to the pending events, the last layer.
    before = LAYERS[: LAYERS.index("memories") + 1]
    expected = sum(int(shares[layer] * 1000) for layer in before)
    assert pack.budget["memories"]["allotted"] == expected
    assert pack.budget["pending"]["allotted"] == 1000 - pack.budget["memories"]["used"]
    assert len(texts(pack, "memories")) == 1


def test_limits_cap_each_layer(world):
    for i in range(8):
        MemoryFactory(spirit=world, content=f"memory {i}")

    pack = compile_pack(
        world, PackRequest(limits={"memories": 3, "session": 0, "identity": 1}, max_tokens=4000)
    )

    assert len(texts(pack, "memories")) == 3
    assert texts(pack, "session") == []
    assert len(texts(pack, "identity")) == 1


def test_without_a_query_memories_rank_by_importance_recency_and_decay(spirit):
    now = timezone.now()
    old = MemoryFactory(spirit=spirit, content="old", created_at=now - timedelta(days=60))
    faded = MemoryFactory(spirit=spirit, content="faded", decay=0.9)
    fresh = MemoryFactory(spirit=spirit, content="fresh")
    key = MemoryFactory(spirit=spirit, content="key", importance=1.0, confidence=1.0)

    pack = compile_pack(spirit, PackRequest(max_tokens=2000))

    order = [item.id for item in pack.items if item.layer == "memories"]
    assert order == [str(key.pk), str(fresh.pk), str(faded.pk), str(old.pk)]
    top = pack.items[0]
    assert set(top.reasons) >= {"importance", "confidence", "recency", "decay", "similarity"}
    assert top.reasons["similarity"] == 0


def test_with_a_query_the_relevant_memory_and_fact_come_first(spirit):
    MemoryFactory(spirit=spirit, content="We talked about the weather in spring.")
    MemoryFactory(spirit=spirit, content="The user drinks green tea every morning.")
    MemoryFactory(spirit=spirit, content="A long debugging session about CI caches.")
    KnowledgeFactory(spirit=spirit, content="The user's favourite drink is green tea.")
    KnowledgeFactory(spirit=spirit, content="The user's car is a blue hatchback.")
    for model in (Memory, Knowledge, Lesson):
        embedding.embed_stale(model=model)

    pack = compile_pack(
        spirit, PackRequest(query="what does the user like to drink?", preset="focused")
    )

    first_memory = next(i for i in pack.items if i.layer == "memories")
    first_fact = next(i for i in pack.items if i.layer == "knowledge")
    assert "green tea" in first_memory.line and "green tea" in first_fact.line
    assert first_memory.reasons["similarity"] == 1.0
    # Ranks are across kinds (the fact may be nearer): the memory is the nearest memory.
    other_memories = [i for i in pack.items if i.layer == "memories" and i is not first_memory]
    assert all(
        first_memory.reasons["vector_rank"] < i.reasons["vector_rank"] for i in other_memories
    )


def test_presets_differ_in_weights_and_shares(world):
    conversational = compile_pack(world, PackRequest(max_tokens=1000))
    focused = compile_pack(world, PackRequest(max_tokens=1000, preset="focused"))

    assert conversational.settings["weights"] == PRESETS["conversational"].weights
    assert focused.settings["weights"]["similarity"] == 0.5
    assert focused.budget["identity"]["allotted"] == 100


def test_score_is_the_weighted_mean_of_its_terms():
    terms = {"importance": 1, "confidence": 0, "recency": 0.5, "decay": 1, "similarity": 1}
    weights = {"importance": 1, "confidence": 1, "recency": 2, "decay": 0, "similarity": 1}

    assert score(terms, weights, with_query=True) == pytest.approx((1 + 0 + 1 + 1) / 5)
    assert score(terms, weights, with_query=False) == pytest.approx((1 + 0 + 1) / 4)
    now = timezone.now()
    assert recency(now - timedelta(days=14), now) == pytest.approx(0.5)
    assert recency(None, now) == 0


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (PackRequest(preset="chatty"), "preset"),
        (PackRequest(max_tokens=10), "max_tokens"),
        (PackRequest(limits={"dreams": 1}), "limits"),
        (PackRequest(limits={"memories": 500}), "limits"),
        (PackRequest(weights={"importance": 2}), "weights"),
        (PackRequest(query="x" * 1001), "query"),
    ],
)
def test_bad_requests_name_the_field(spirit, request_, field):
    with pytest.raises(ValidationFailed) as exc:
        compile_pack(spirit, request_)
    assert field in exc.value.details


def test_weights_cannot_all_be_zero(spirit):
    zero = dict.fromkeys(("importance", "confidence", "recency", "decay", "similarity"), 0.0)
    with pytest.raises(ValidationFailed):
        compile_pack(spirit, PackRequest(weights=zero))


def test_a_kept_pack_records_its_memories_use_and_the_history_stays_bounded(
    world, django_capture_on_commit_callbacks, sent_tasks
):
    sent = sent_tasks(flow.RECORD_PACK_USE)
    with django_capture_on_commit_callbacks(execute=True):
        pack = compile_pack(world, PackRequest(max_tokens=2000), actor=USER)
    memory_id = next(i.id for i in pack.items if i.kind == "memory")
    assert ContextPack.objects.get(pk=pack.id).actor_id == "1"
    assert sent == [(str(world.pk), [memory_id], pack.created_at.isoformat())]

    with override_settings(PACK_HISTORY_PER_SPIRIT=2):
        for _ in range(3):
            compile_pack(world, PackRequest(max_tokens=2000))
        assert record_pack_use(spirit_id=world.pk, memory_ids=[memory_id], at=pack.created_at) == 1
        assert ContextPack.objects.filter(spirit=world).count() == 2
    memory = Memory.objects.get(pk=memory_id)
    assert memory.access_count == 1 and memory.last_accessed_at == pack.created_at
    earlier = pack.created_at - timedelta(days=1)
    record_pack_use(spirit_id=world.pk, memory_ids=[memory_id], at=earlier)
    memory.refresh_from_db()
    assert memory.access_count == 2 and memory.last_accessed_at == pack.created_at  # not back


def test_a_query_pack_leaves_out_what_retrieval_finds_but_an_agent_should_not_see(spirit):
    """Search finds disputed memories (a curator looks for them); a pack leaves them out."""
    MemoryFactory(spirit=spirit, content="The Azores trip is in May.")
    MemoryFactory(spirit=spirit, content="The Azores trip is in June.", status="disputed")

    pack = compile_pack(spirit, PackRequest(query="When is the Azores trip?"), persist=False)

    assert [line.split("] ", 1)[1] for line in texts(pack, "memories")] == [
        "The Azores trip is in May."
    ]
    assert len(search(spirit, SearchQuery(text="Azores trip", kinds=("memories",))).hits) == 2


@pytest.mark.parametrize("query", [None, "When is the Azores trip?"])
def test_a_pack_never_holds_an_expired_memory(spirit, query):
    MemoryFactory(spirit=spirit, content="The Azores trip is in May.")
    MemoryFactory(
        spirit=spirit,
        content="The Azores trip is in June.",
        expires_at=timezone.now() - timedelta(hours=1),
    )
    embedding.embed_stale(model=Memory)

    pack = compile_pack(spirit, PackRequest(query=query), persist=False)

    assert [line.split("] ", 1)[1] for line in texts(pack, "memories")] == [
        "The Azores trip is in May."
    ]


# --- The past layer: relevant events, dated, with the turn they need ----------------------------


def _turns(spirit, session: str, at, turns: list[tuple[str, str]]):
    events = [
        EventFactory(
            spirit=spirit,
            session_id=session,
            author=author,
            content=text,
            occurred_at=at + timedelta(minutes=n),
        )
        for n, (author, text) in enumerate(turns)
    ]
    cortex.enrich_events(event_ids=[e.pk for e in events])
    return events


@pytest.fixture
def chat(spirit):
    may = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
    june = datetime(2023, 6, 20, 18, 0, tzinfo=UTC)
    first = _turns(
        spirit,
        "s1",
        may,
        [
            ("Caroline", "I went to an LGBTQ support group yesterday and it was powerful."),
            ("Melanie", "That's amazing, how did it feel?"),
            ("Caroline", "Honestly freeing. The transgender stories really moved me."),
        ],
    )
    second = _turns(
        spirit,
        "s2",
        june,
        [
            ("Melanie", "Did you ever pick a name for the new puppy?"),
            ("Caroline", "Biscuit!"),
            ("Melanie", "I painted a sunset over the lake last weekend."),
        ],
    )
    KnowledgeFactory(spirit=spirit, content="Caroline lived in Sweden.", valid_to=june)
    return first, second


def test_a_query_brings_the_relevant_past_events_dated(spirit, chat):
    first, _ = chat

    pack = compile_pack(
        spirit, PackRequest(query="When did Caroline go to the support group?", max_tokens=1000)
    )

    past = texts(pack, "past")
    assert past, pack.text
    assert HEADINGS["past"] in pack.text
    assert (
        "[8 May 2023] Caroline: I went to an LGBTQ support group yesterday [7 May 2023] and it "
        "was powerful." in "\n".join(past)
    )
    assert "Sweden" not in pack.text  # closed knowledge is left out
    item = next(i for i in pack.items if i.layer == "past" and i.id == str(first[0].pk))
    assert item.reasons["occurred_at"].startswith("2023-05-08")
    assert item.reasons["vector_rank"] and item.reasons["text_rank"]


def test_a_short_reply_brings_the_turn_before_and_a_question_the_turn_after(spirit, chat):

    pack = compile_pack(spirit, PackRequest(query="puppy name", max_tokens=1000))

    lines = "\n".join(texts(pack, "past")).splitlines()
    asked = "[20 June 2023] Melanie: Did you ever pick a name for the new puppy?"
    answered = "[20 June 2023] Caroline: Biscuit!"
    assert asked in lines and answered in lines
    assert lines.index(asked) + 1 == lines.index(answered)  # in time order
    assert lines.count(answered) == 1  # shown once, as a hit or as a neighbour


def test_past_lines_are_whole_where_the_budget_allows_and_short_where_it_does_not(spirit):
    at = datetime(2023, 3, 1, 9, 0, tzinfo=UTC)
    long_text = "Our trip to Kyoto was wonderful. " + "We walked and ate and talked. " * 40
    [event] = _turns(spirit, "s1", at, [("Dana", long_text)])
    event.refresh_from_db()

    roomy = compile_pack(spirit, PackRequest(query="trip to Kyoto", max_tokens=2000))
    tight = compile_pack(spirit, PackRequest(query="trip to Kyoto", max_tokens=120))

    assert texts(roomy, "past") == [f"[1 March 2023] Dana: {' '.join(long_text.split())}"]
    assert texts(tight, "past") == [f"[1 March 2023] Dana: {event.meta_summary}"]
    assert tight.token_count <= 120


def test_the_past_layer_leaves_out_what_is_neither_matched_nor_near(spirit, chat):
    pack = compile_pack(spirit, PackRequest(query="quantum chromodynamics", max_tokens=1000))

    assert texts(pack, "past") == []  # the nearest of unrelated chat is not relevant


def test_a_memory_that_says_its_own_date_is_not_dated_twice(spirit):
    MemoryFactory(spirit=spirit, content="On 4 December 2026: Ada lives in Lisbon.")
    MemoryFactory(
        spirit=spirit, content="Ada likes green tea.", time_end=datetime(2023, 5, 8, tzinfo=UTC)
    )

    pack = compile_pack(spirit, PackRequest(max_tokens=1000))

    assert sorted(texts(pack, "memories")) == [
        "- On 4 December 2026: Ada lives in Lisbon.",
        "- [8 May 2023] Ada likes green tea.",
    ]
