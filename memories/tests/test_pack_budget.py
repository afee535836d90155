"""The pack's budget with a query: the tokens left at the end go back to the past layer, and
knowledge, lessons and memories come only from what the search ranks (memories.packs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from events.tests.factories import EventFactory
from memories.models import Knowledge, Memory
from memories.packs import PackRequest, compile_pack
from pipeline import cortex, embedding

from .factories import KnowledgeFactory, MemoryFactory

pytestmark = pytest.mark.django_db
AT = datetime(2024, 2, 1, 9, 0, tzinfo=UTC)
SIGHTS = [
    "the Fushimi Inari gates at dawn, thousands of them up the hill",
    "a tea ceremony in a tiny room in Gion with a very strict teacher",
    "the bamboo grove at Arashiyama, which was packed by nine",
    "Kinkaku-ji in the snow, the gold pavilion glowing over the pond",
    "Nishiki market, where we ate grilled octopus on sticks and mochi",
    "a night walk through Pontocho alley, lanterns and little bars",
    "the Philosopher's Path along the canal under the cherry trees",
    "a day trip to Nara with the deer bowing for crackers",
    "Kiyomizu-dera's wooden stage above the whole city at sunset",
    "an onsen in Kurama after hiking over the mountain from Kibune",
    "the moss garden at Saiho-ji, which you need a postcard to book",
    "a kaiseki dinner of fourteen courses that took three hours",
]


def trip_events(spirit):
    """One turn per sight about Kyoto, each alone in its session (no neighbours), ~40 tokens."""
    events = [
        EventFactory(
            spirit=spirit,
            session_id=f"trip-{n}",
            author="Dana",
            content=f"In Kyoto we saw {sight}, and I still think about it every single day.",
            occurred_at=AT + timedelta(days=n),
            synthesized_at=AT + timedelta(days=n, hours=1),
        )
        for n, sight in enumerate(SIGHTS)
    ]
    cortex.enrich_events(event_ids=[e.pk for e in events])
    return events


def test_the_tokens_left_at_the_end_go_back_to_the_past_layer(spirit):
    trip_events(spirit)
    query = "What did Dana see in Kyoto?"

    whole = compile_pack(spirit, PackRequest(query=query, max_tokens=4000))
    lines = sum(i.tokens for i in whole.items if i.layer == "past")
    budget = int(lines / 0.85)  # more than the past layer's first allotment (75%), under all
    pack = compile_pack(spirit, PackRequest(query=query, max_tokens=budget))

    past = [i for i in pack.items if i.layer == "past"]
    # identity and session are empty: past gets 75% of the budget first, then what the four
    # layers after it leave unused (all of theirs: they are empty)
    assert len(past) == len(SIGHTS) == len([i for i in whole.items if i.layer == "past"])
    assert pack.budget["past"]["used"] > int(0.75 * budget)
    assert budget - 7 <= pack.budget["past"]["allotted"] <= budget  # shares are floored
    assert pack.token_count == pack.budget["past"]["used"] <= budget


def test_with_a_query_knowledge_that_ranks_nowhere_stays_out(spirit):
    trip_events(spirit)
    for n in range(40):
        EventFactory(
            spirit=spirit,
            session_id=f"tea-{n}",
            content=f"Green tea number {n}: a sencha from Uji, brewed at seventy degrees.",
        )
    cortex.enrich_events(event_ids=list(spirit.events.values_list("pk", flat=True)))
    KnowledgeFactory(spirit=spirit, content="The user's car is a blue hatchback.", topic="")
    KnowledgeFactory(spirit=spirit, content="The user drinks sencha green tea.", topic="")
    embedding.embed_stale(model=Knowledge)

    pack = compile_pack(spirit, PackRequest(query="green tea sencha", max_tokens=4000))
    bare = compile_pack(spirit, PackRequest(max_tokens=4000))

    facts = [i.line for i in pack.items if i.layer == "knowledge"]
    assert facts == ["- The user drinks sencha green tea."]
    # without a query, the layer holds the most confident facts, the car too
    assert len([i for i in bare.items if i.layer == "knowledge"]) == 2


def test_a_fact_and_the_memory_it_came_from_with_the_same_words_show_once(spirit):
    MemoryFactory(spirit=spirit, content="Ada prefers short answers.", importance=0.9)
    MemoryFactory(spirit=spirit, content="On 3 May 2024: Ada plays the cello.", importance=0.8)
    KnowledgeFactory(spirit=spirit, content="Ada prefers short answers.", topic="")
    KnowledgeFactory(spirit=spirit, content="Ada plays the cello", topic="")  # no full stop
    for model in (Memory, Knowledge):
        embedding.embed_stale(model=model)

    for query in (None, "How does Ada like her answers?"):
        pack = compile_pack(spirit, PackRequest(query=query, max_tokens=2000))

        facts = [i.line for i in pack.items if i.layer == "knowledge"]
        memories = [i.line for i in pack.items if i.layer == "memories"]
        assert sorted(facts) == ["- Ada plays the cello", "- Ada prefers short answers."]
        assert memories == []  # both say what a fact above already says


def test_two_memories_that_say_the_same_show_once(spirit):
    MemoryFactory(spirit=spirit, content="Ada prefers short answers.", importance=0.9)
    MemoryFactory(
        spirit=spirit, content="On 3 May 2024: Ada prefers short answers!", importance=0.8
    )

    pack = compile_pack(spirit, PackRequest(max_tokens=2000))

    assert len([i for i in pack.items if i.layer == "memories"]) == 1
