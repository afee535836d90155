"""One depth for both fused lists across kinds, and diversity by provenance (memories.retrieval
.fusion, .diversity)."""

from __future__ import annotations

from uuid import UUID

import pytest

from events.tests.factories import EventFactory
from memories.models import KnowledgeMemory, LessonMemory, MemoryEvent
from memories.retrieval import Reasons, Weights, fuse
from memories.retrieval.diversity import diversify
from memories.retrieval.fusion import Fused

from .factories import KnowledgeFactory, LessonFactory, MemoryFactory

WEIGHTS = Weights(vector=0.5, text=0.5, rrf_k=60)


def test_a_weak_match_in_both_lists_outranks_the_best_of_one_unless_the_lists_are_cut():
    best, other, weak = (UUID(int=n + 1) for n in range(3))
    vector = {"events": [(best, 0.1), (other, 0.2)], "knowledge": [(weak, 0.6)]}
    text = {"events": [(other, 9.0), (UUID(int=9), 8.0)], "knowledge": [(weak, 0.5)]}

    uncut = fuse(vector, text, WEIGHTS)
    cut = fuse(vector, text, WEIGHTS, depth=2)

    assert [f.id for f in uncut].index(weak) < [f.id for f in uncut].index(best)
    assert weak not in {f.id for f in cut}  # third in both lists: in neither at depth 2
    assert [f.id for f in cut][:2] == [other, best]
    by_id = {f.id: f for f in cut}
    assert by_id[best].reasons.vector_rank == 1 and by_id[best].reasons.text_rank is None


def item(kind: str, row, score: float) -> Fused:
    return Fused(kind, row.pk, score, Reasons())


@pytest.fixture
def made(spirit):
    """Two events, a memory made from the first, knowledge and a lesson made from that memory,
    and a memory made from the second event only."""
    first, second = EventFactory(spirit=spirit), EventFactory(spirit=spirit)
    from_first, from_second = MemoryFactory(spirit=spirit), MemoryFactory(spirit=spirit)
    MemoryEvent.objects.create(memory=from_first, event=first)
    MemoryEvent.objects.create(memory=from_second, event=second)
    fact, lesson = KnowledgeFactory(spirit=spirit), LessonFactory(spirit=spirit)
    KnowledgeMemory.objects.create(knowledge=fact, memory=from_first)
    LessonMemory.objects.create(lesson=lesson, memory=from_first)
    return {
        "first": first,
        "second": second,
        "from_first": from_first,
        "from_second": from_second,
        "fact": fact,
        "lesson": lesson,
    }


def kinds_and_rows(fused: list[Fused], made: dict) -> list[str]:
    names = {row.pk: name for name, row in made.items()}
    return [names[f.id] for f in fused]


def test_a_memory_below_its_own_event_moves_under_the_other_items(made):
    fused = [
        item("events", made["first"], 0.9),
        item("memories", made["from_first"], 0.8),
        item("memories", made["from_second"], 0.7),
        item("events", made["second"], 0.6),
    ]

    result = diversify(fused, k=4, window=4)

    assert kinds_and_rows(result, made) == ["first", "from_second", "second", "from_first"]


def test_a_memory_above_its_event_keeps_its_place(made):
    fused = [item("memories", made["from_first"], 0.9), item("events", made["first"], 0.8)]

    assert diversify(fused, k=2, window=4) == fused


def test_knowledge_and_lessons_move_down_under_their_memory_or_its_events(made):
    under_memory = [
        item("memories", made["from_first"], 0.9),
        item("knowledge", made["fact"], 0.8),
        item("events", made["second"], 0.7),
    ]
    under_event = [
        item("events", made["first"], 0.9),
        item("lessons", made["lesson"], 0.8),
        item("events", made["second"], 0.7),
    ]

    assert kinds_and_rows(diversify(under_memory, k=2, window=6), made) == ["from_first", "second"]
    assert kinds_and_rows(diversify(under_event, k=2, window=6), made) == ["first", "second"]


def test_only_the_window_is_reordered_and_k_items_come_back(made):
    fused = [
        item("events", made["first"], 0.9),
        item("memories", made["from_first"], 0.8),
        item("events", made["second"], 0.7),
        item("knowledge", made["fact"], 0.6),
    ]

    result = diversify(fused, k=3, window=2)

    # the window (first two) keeps the memory after the event: nothing else is in it
    assert kinds_and_rows(result, made) == ["first", "from_first", "second"]
    assert len(diversify(fused, k=10, window=10)) == 4
