"""Synthesis (pipeline.synthesis): the gate, episodes, the memories written, and exactly-once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from events.models import Event
from events.tests.factories import EventFactory
from memories.models import AuditEntry, Memory, MemoryEvent
from pipeline.synthesis import synthesis_due, synthesize_spirit

T0 = datetime(2025, 1, 2, 3, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def configure(spirit, **synthesis) -> None:
    spirit.config = {"synthesis": synthesis}
    spirit.save()


# The conditions of time that make the gate due on their own, out of the way of a test of the
# weighted score.
NO_TRIGGERS = {"idle_minutes": 100_000, "max_wait_minutes": 100_000}


def only(**weights) -> dict:
    """A config where only the weighted score decides, and only the given weights count."""
    return {**NO_TRIGGERS, "time_weight": 0, "event_weight": 0, "token_weight": 0, **weights}


# --- The gate --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_gate_is_not_due_without_pending_events(spirit):
    gate = synthesis_due(spirit, now=at(1000))
    assert (gate.due, gate.score) == (False, 0.0)


@pytest.mark.django_db
def test_gate_time_term_grows_with_the_age_of_the_oldest_pending_event(spirit):
    configure(spirit, **only(time_weight=1), max_idle_minutes=60, threshold=1)
    EventFactory(spirit=spirit, occurred_at=at(0))

    half = synthesis_due(spirit, now=at(30))
    assert half.score == pytest.approx(0.5)
    assert half.reasons["time"] == pytest.approx(0.5)
    assert not half.due
    assert synthesis_due(spirit, now=at(60)).due
    assert synthesis_due(spirit, now=at(600)).score == pytest.approx(1.0)  # capped


@pytest.mark.django_db
def test_gate_event_term_counts_pending_events_only(spirit):
    configure(spirit, **only(event_weight=0.5), max_pending_events=4, threshold=0.5)
    EventFactory.create_batch(2, spirit=spirit, occurred_at=at(0))
    EventFactory(spirit=spirit, occurred_at=at(0), synthesized_at=at(1))
    EventFactory(spirit=spirit, occurred_at=at(0), deleted_at=at(1))

    gate = synthesis_due(spirit, now=at(0))
    assert gate.reasons["events"] == pytest.approx(0.25)
    assert not gate.due
    EventFactory.create_batch(2, spirit=spirit, occurred_at=at(0))
    assert synthesis_due(spirit, now=at(0)).due


@pytest.mark.django_db
def test_gate_token_term_sums_pending_tokens(spirit):
    configure(spirit, **only(token_weight=0.8), max_pending_tokens=100, threshold=0.4)
    EventFactory(spirit=spirit, occurred_at=at(0), token_count=40)

    gate = synthesis_due(spirit, now=at(0))
    assert gate.reasons["tokens"] == pytest.approx(0.32)
    assert not gate.due
    EventFactory(spirit=spirit, occurred_at=at(0), token_count=500)
    gate = synthesis_due(spirit, now=at(0))
    assert gate.score == pytest.approx(0.8)  # capped at the weight
    assert gate.due


@pytest.mark.django_db
def test_gate_adds_the_weighted_terms_against_the_threshold(spirit):
    configure(
        spirit,
        **NO_TRIGGERS,
        time_weight=0.3,
        event_weight=0.4,
        token_weight=0.3,
        max_idle_minutes=10,
        max_pending_events=10,
        max_pending_tokens=100,
        threshold=0.5,
    )
    EventFactory.create_batch(5, spirit=spirit, occurred_at=at(0), token_count=10)

    gate = synthesis_due(spirit, now=at(5))  # 0.3*0.5 + 0.4*0.5 + 0.3*0.5
    assert gate.score == pytest.approx(0.5)
    assert gate.due


@pytest.mark.django_db
def test_gate_is_never_due_when_synthesis_is_disabled(spirit):
    configure(spirit, enabled=False, threshold=0.01)
    EventFactory.create_batch(50, spirit=spirit, occurred_at=at(0), token_count=1000)

    assert not synthesis_due(spirit, now=at(10_000)).due
    assert synthesize_spirit(spirit_id=spirit.pk, now=at(10_000), force=True) == []


@pytest.mark.django_db
def test_synthesize_does_nothing_until_the_gate_is_due(spirit):
    configure(spirit, **only(event_weight=1), max_pending_events=3, threshold=1)
    EventFactory.create_batch(2, spirit=spirit, occurred_at=at(0))

    assert synthesize_spirit(spirit_id=spirit.pk, now=at(0)) == []
    assert not Memory.objects.exists()
    EventFactory(spirit=spirit, occurred_at=at(1))
    assert len(synthesize_spirit(spirit_id=spirit.pk, now=at(1))) == 1


# --- Episodes and memories -------------------------------------------------------------------


def linked(memory) -> set:
    return set(memory.event_links.values_list("event_id", flat=True))


@pytest.mark.django_db
def test_episodes_split_by_session_and_by_time_gaps(spirit):
    configure(spirit, episode_gap_minutes=30)
    a1 = EventFactory(spirit=spirit, session_id="a", occurred_at=at(0))
    b1 = EventFactory(spirit=spirit, session_id="b", occurred_at=at(5))
    a2 = EventFactory(spirit=spirit, session_id="a", occurred_at=at(30))  # gap 30: same episode
    a3 = EventFactory(spirit=spirit, session_id="a", occurred_at=at(61))  # gap 31: new episode
    n1 = EventFactory(spirit=spirit, session_id="", occurred_at=at(100))
    n2 = EventFactory(spirit=spirit, session_id="", occurred_at=at(200))

    memories = synthesize_spirit(spirit_id=spirit.pk, now=at(300), force=True)

    assert [linked(m) for m in memories] == [
        {a1.pk, a2.pk},
        {b1.pk},
        {a3.pk},
        {n1.pk},
        {n2.pk},
    ]
    assert [m.metadata["synthesis"]["session_id"] for m in memories] == ["a", "b", "a", "", ""]


@pytest.mark.django_db
def test_a_chat_between_two_people_names_both_and_no_pronoun_is_a_topic(spirit):
    turns = [
        ("Maya", "user", "message.in", "ugh. I'll never get used to these Leeds winters honestly"),
        (
            "Tomás",
            "assistant",
            "message.out",
            "honestly Berlin is worse, I'll send you a photo of the canal",
        ),
        ("Maya", "user", "message.in", "I'm jealous of the canal. I'll visit Berlin in spring!"),
    ]
    for n, (author, role, kind, text) in enumerate(turns):
        EventFactory(
            spirit=spirit,
            author=author,
            role=role,
            event_type=kind,
            content=text,
            occurred_at=at(n),
        )

    memories = synthesize_spirit(spirit_id=spirit.pk, now=at(10), force=True)

    [talk] = [m for m in memories if " talked with " in m.content]
    assert talk.content.startswith("On 2 January 2025, Maya talked with Tomás about ")
    opening = talk.content.split(".")[0]
    assert "I'll" not in opening and "I'm" not in opening
    assert "Berlin" in opening and "Leeds" in opening


@pytest.mark.django_db
def test_what_was_learned_becomes_a_memory_of_its_subject_told_in_the_third_person(spirit):
    said = EventFactory(
        spirit=spirit,
        role="user",
        author="Tomasz",
        content="Hey! My sister Ana lives in Lisbon. What's the weather like there?",
        occurred_at=at(0),
        importance_score=0.4,
    )
    tool = EventFactory(
        spirit=spirit,
        role="",
        event_type="tool.call",
        content="raw tool payload " * 10,
        meta_summary="Looked up the weather in Lisbon for the next days.",
        occurred_at=at(3),
        importance_score=0.9,
    )

    family, talk = synthesize_spirit(spirit_id=spirit.pk, now=at(10), force=True)

    family.refresh_from_db()
    assert family.subject == "family and friends"
    assert family.content == "On 2 January 2025: Tomasz's sister Ana lives in Lisbon."
    assert family.summary == "Tomasz's sister is Ana. Ana lives in Lisbon."  # what was learned
    assert (family.memory_type, family.source_type) == ("episodic", "extraction")
    assert family.importance == pytest.approx(0.7)
    assert family.confidence == pytest.approx(0.7)
    assert (family.time_start, family.time_end) == (at(0), at(0))
    assert linked(family) == {said.pk}
    # The rest of the episode: a memory of the conversation, dated, with its key words.
    assert talk.content.startswith("On 2 January 2025, Tomasz talked with the assistant about")
    assert "Lisbon" in talk.subject
    assert "Looked up the weather in Lisbon" in talk.content
    assert talk.importance == pytest.approx(0.9)
    assert linked(talk) == {tool.pk}
    entry = AuditEntry.objects.get(object_id=family.pk)
    assert entry.actor_type == "system"
    assert entry.reason == "synthesis of 1 events"
    assert set(Event.objects.values_list("synthesized_at", flat=True)) == {at(10)}


@pytest.mark.django_db
def test_a_memory_names_the_user_by_the_name_they_gave_earlier(spirit):
    from memories.tests.factories import KnowledgeFactory

    KnowledgeFactory(spirit=spirit, topic="name", content="The user's name is Maya Okafor.")
    EventFactory(
        spirit=spirit, role="user", content="I just moved to Amsterdam!", occurred_at=at(0)
    )

    [memory] = synthesize_spirit(spirit_id=spirit.pk, now=at(10), force=True)

    assert memory.content == "On 2 January 2025: Maya Okafor just moved to Amsterdam!"
    assert memory.summary == "Maya Okafor lives in Amsterdam."
    assert memory.subject == "home"


@pytest.mark.django_db
def test_a_memory_drops_the_fillers_that_open_a_turn_and_writes_the_user_in_lower_case_inside(
    spirit,
):
    EventFactory(
        spirit=spirit,
        role="user",
        content="btw I just started at Fleetwise, so I'm trying to plan my week",
        occurred_at=at(0),
    )

    [memory, *_] = synthesize_spirit(spirit_id=spirit.pk, now=at(10), force=True)

    assert memory.content == (
        "On 2 January 2025: The user just started at Fleetwise, "
        "so the user is trying to plan the user's week."
    )


@pytest.mark.django_db
def test_an_assistant_turn_is_quoted_once_with_its_sentences_in_order(spirit):
    EventFactory(
        spirit=spirit, role="user", content="Could you plan a trip to Lisbon?", occurred_at=at(0)
    )
    EventFactory(
        spirit=spirit,
        role="assistant",
        event_type="message.out",
        content="Happy to help with Lisbon. The best months are May and September. Book trams.",
        occurred_at=at(1),
    )

    [memory] = synthesize_spirit(spirit_id=spirit.pk, now=at(10), force=True)

    assert memory.content.count("The assistant said:") == 1
    assert (
        "The assistant said: Happy to help with Lisbon. The best months are May and September. "
        "Book trams." in memory.content
    )


@pytest.mark.django_db
def test_importance_defaults_to_a_half_and_long_lines_are_trimmed(spirit):
    EventFactory(spirit=spirit, content="word " * 1000, importance_score=None, occurred_at=at(0))

    [memory] = synthesize_spirit(spirit_id=spirit.pk, now=at(1), force=True)

    assert memory.importance == pytest.approx(0.5)
    assert len(memory.content) <= 520
    assert memory.content.endswith("…")
    assert len(memory.summary) <= 200


@pytest.mark.django_db
def test_events_are_never_synthesized_twice(spirit):
    EventFactory.create_batch(3, spirit=spirit, occurred_at=at(0))

    assert len(synthesize_spirit(spirit_id=spirit.pk, now=at(1), force=True)) == 1
    assert synthesize_spirit(spirit_id=spirit.pk, now=at(2), force=True) == []

    late = EventFactory(spirit=spirit, occurred_at=at(3))
    [memory] = synthesize_spirit(spirit_id=spirit.pk, now=at(4), force=True)
    assert linked(memory) == {late.pk}
    assert MemoryEvent.objects.count() == 4


@pytest.mark.django_db
def test_a_run_takes_at_most_limit_events_oldest_first(spirit):
    events = [EventFactory(spirit=spirit, occurred_at=at(i)) for i in range(5)]

    [memory] = synthesize_spirit(spirit_id=spirit.pk, now=at(9), force=True, limit=3)

    assert linked(memory) == {e.pk for e in events[:3]}
    assert Event.objects.filter(synthesized_at__isnull=True).count() == 2


@pytest.mark.django_db
def test_a_deleted_spirit_is_not_synthesized(spirit):
    EventFactory(spirit=spirit, occurred_at=at(0))
    spirit.deleted_at = at(1)
    spirit.save()

    assert synthesize_spirit(spirit_id=spirit.pk, now=at(2), force=True) == []


@pytest.mark.django_db(transaction=True)
def test_two_racing_workers_link_every_event_exactly_once(spirit):
    # Many sessions make many episodes, so each run spends time writing while the other runs.
    events = [
        EventFactory(spirit=spirit, session_id=f"s{i % 15}", occurred_at=at(i)) for i in range(60)
    ]
    barrier = threading.Barrier(2)
    results: list[list] = []
    errors: list[BaseException] = []

    def worker():
        try:
            barrier.wait(timeout=10)
            results.append(synthesize_spirit(spirit_id=spirit.pk, force=True))
        except BaseException as exc:  # reported to the test thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(results) == 2
    per_run = [{pk for m in run for pk in linked(m)} for run in results]
    assert per_run[0].isdisjoint(per_run[1])
    counts = Counter(MemoryEvent.objects.values_list("event_id", flat=True))
    assert set(counts) == {e.pk for e in events}
    assert set(counts.values()) == {1}
    assert not Event.objects.filter(synthesized_at__isnull=True).exists()


# --- The gate's conditions: any one is enough --------------------------------------------------


@pytest.mark.django_db
def test_with_defaults_a_quiet_conversation_is_due_after_the_idle_time(spirit):
    EventFactory.create_batch(6, spirit=spirit, occurred_at=at(0), token_count=20)

    assert not synthesis_due(spirit, now=at(9)).due
    gate = synthesis_due(spirit, now=at(10))
    assert gate.due and gate.triggers == ("idle",)


@pytest.mark.django_db
def test_with_defaults_twenty_pending_events_are_due_at_once(spirit):
    EventFactory.create_batch(20, spirit=spirit, occurred_at=at(0), token_count=10)

    gate = synthesis_due(spirit, now=at(0))
    assert gate.due and gate.triggers == ("events",)


@pytest.mark.django_db
def test_with_defaults_two_thousand_pending_tokens_are_due_at_once(spirit):
    EventFactory.create_batch(2, spirit=spirit, occurred_at=at(0), token_count=1000)

    gate = synthesis_due(spirit, now=at(0))
    assert gate.due and gate.triggers == ("tokens",)


@pytest.mark.django_db
def test_a_conversation_that_never_pauses_is_due_when_its_oldest_event_waited_long_enough(spirit):
    configure(spirit, max_wait_minutes=60)
    for minute in range(0, 61, 5):  # an event every five minutes: never idle for ten
        EventFactory(spirit=spirit, occurred_at=at(minute), token_count=5)

    assert not synthesis_due(spirit, now=at(59)).due
    assert synthesis_due(spirit, now=at(60)).triggers == ("wait",)


@pytest.mark.django_db
def test_the_gate_says_when_time_alone_makes_it_due(spirit):
    EventFactory(spirit=spirit, occurred_at=at(0))
    EventFactory(spirit=spirit, occurred_at=at(4))

    gate = synthesis_due(spirit, now=at(5))
    assert not gate.due
    assert gate.due_at == at(14)  # the newest event, ten minutes later (idle_minutes)


@pytest.mark.django_db
def test_events_of_one_instant_are_synthesized_in_their_arrival_order(spirit):
    from events.services import events_bulk_create

    texts = [f"Step number {i} of the long plan." for i in range(5)]
    items = [{"event_type": "message.in", "role": "user", "content": t} for t in texts]
    events_bulk_create(spirit=spirit, items=items)  # one instant: no occurred_at given

    [memory] = synthesize_spirit(spirit_id=spirit.pk, force=True)
    positions = [memory.content.index(t.rstrip(".")) for t in texts]
    assert positions == sorted(positions)


@pytest.mark.django_db
def test_a_person_saying_their_name_is_not_told_as_name_is_name(spirit):
    EventFactory(
        spirit=spirit,
        role="user",
        author="Ada",
        content="I'm Ada, I live in Lisbon.",
        occurred_at=at(0),
    )

    [memory] = synthesize_spirit(spirit_id=spirit.pk, now=at(10), force=True)

    assert memory.content == "On 2 January 2025: Their name is Ada, Ada lives in Lisbon."
