"""Extraction (pipeline.extraction): the rules, and facts and lessons written from memories."""

from __future__ import annotations

import pytest
from django.utils import timezone

from memories.models import AuditAction, AuditEntry, Knowledge, KnowledgeType, Lesson, Memory
from memories.tests.factories import KnowledgeFactory, MemoryFactory
from pipeline.extraction import (
    candidates,
    extract_from_memories,
    fact_candidate,
    lesson_candidate,
    source_text,
)


def synthesized(spirit, *lines: str) -> Memory:
    """A memory shaped like synthesis writes it: one "role: text" line per event."""
    return MemoryFactory(
        spirit=spirit, content="\n".join(lines), metadata={"synthesis": {"event_count": 1}}
    )


def facts(spirit):
    return Knowledge.all_objects.filter(spirit=spirit, knowledge_type=KnowledgeType.FACT)


def entries(obj, action):
    return AuditEntry.objects.filter(object_id=obj.pk, action=action)


# --- Rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "topic", "content"),
    [
        ("My name is Ada Lovelace.", "name", "The user's name is Ada Lovelace."),
        (
            "my favourite drink is Green Tea!",
            "preference:drink",
            "The user's favourite drink is Green Tea.",
        ),
        ("I live in Paris", "location", "The user lives in Paris."),
        ("I'm based in Berlin.", "location", "The user lives in Berlin."),
        ("I work at Acme Corp.", "employer", "The user works at Acme Corp."),
        ("I prefer tea over coffee", "preference:coffee|tea", "The user prefers tea over coffee."),
        ("I prefer dark mode", "preference:dark mode", "The user prefers dark mode."),
        ("I use Vim for editing", "tool:editing", "The user uses Vim for editing."),
        ("I use PostgreSQL.", "tool:postgresql", "The user uses PostgreSQL."),
        (
            "My email address is ada@example.com",
            "email address",
            "The user's email address is ada@example.com.",
        ),
    ],
)
def test_fact_rules_give_a_topic_and_canonical_content(sentence, topic, content):
    fact = fact_candidate(sentence)
    assert (fact.topic, fact.content) == (topic, content)


@pytest.mark.parametrize(
    "sentence",
    [
        "The sky is blue.",
        "Thanks!",
        "I think so",
        "Always answer in French.",
        "my name is " + "x" * 90,
    ],
)
def test_sentences_without_a_fact_pattern_are_no_facts(sentence):
    assert fact_candidate(sentence) is None


@pytest.mark.parametrize(
    "sentence",
    [
        "Always answer in French.",
        "Never share my address",
        "Don't use emojis",
        "Please remember to cite sources.",
        "Next time, ask before deleting files.",
        "You should keep answers short.",
    ],
)
def test_normative_sentences_are_lessons(sentence):
    assert lesson_candidate(sentence) is not None


@pytest.mark.parametrize("sentence", ["Should I go?", "I went home.", "Please help me."])
def test_questions_and_plain_sentences_are_no_lessons(sentence):
    assert lesson_candidate(sentence) is None


def test_synthesized_memories_are_read_from_the_users_lines_only():
    memory = Memory(
        content="user: My name is Ada.\nassistant: My name is Bot. Always be kind.\nUser: hi",
        metadata={"synthesis": {}},
    )
    assert source_text(memory) == "My name is Ada.\nhi"
    assert source_text(Memory(content="assistant: I live in Rome.", metadata={})) == (
        "assistant: I live in Rome."
    )


def test_candidates_keep_every_fact_in_order_and_distinct_lessons():
    memory = Memory(
        content="I live in Paris. I live in Rome. Always be brief. always be brief!", metadata={}
    )
    found_facts, found_lessons = candidates(memory)
    # every fact in the order said: written so, the last of a topic is the current one
    assert [f.content for f in found_facts] == [
        "The user lives in Paris.",
        "The user lives in Rome.",
    ]
    assert [lesson.statement for lesson in found_lessons] == ["Always be brief."]


def test_candidates_below_min_confidence_are_dropped():
    memory = Memory(content="My email is a@b.c. I live in Rome. Always be brief.", metadata={})
    found_facts, found_lessons = candidates(memory, min_confidence=0.7)
    assert [f.topic for f in found_facts] == ["location"]
    assert found_lessons == []


# --- Writing facts ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_fact_is_created_with_the_memory_as_provenance(spirit):
    memory = synthesized(spirit, "user: I live in Paris.", "assistant: Nice!")

    result = extract_from_memories(memory_ids=[memory.pk])

    [fact] = result.created
    assert (fact.topic, fact.content, fact.confidence) == (
        "location",
        "The user lives in Paris.",
        0.8,
    )
    assert list(fact.memories.all()) == [memory]
    create = entries(fact, AuditAction.CREATE).get()
    assert (create.actor_type, create.actor_id) == ("system", "extraction")
    memory.refresh_from_db()
    assert memory.extracted_at is not None


@pytest.mark.django_db
def test_a_repeated_fact_strengthens_the_existing_one(spirit):
    first = synthesized(spirit, "user: I work at Acme.")
    extract_from_memories(memory_ids=[first.pk])
    second = synthesized(spirit, "user: As I said, hello. I work at ACME!")

    result = extract_from_memories(memory_ids=[second.pk])

    [fact] = facts(spirit)
    assert result.strengthened == [fact] and result.created == []
    assert fact.confidence == pytest.approx(0.8 + 0.2 * 0.3)
    assert set(fact.memories.all()) == {first, second}
    update = entries(fact, AuditAction.UPDATE).get()
    assert update.reason == f"repeated in memory {second.pk}"
    assert update.after["confidence"] == pytest.approx(0.86)
    assert sorted(update.after["memory_ids"]) == sorted([str(first.pk), str(second.pk)])


@pytest.mark.django_db
def test_a_contradicting_fact_closes_the_old_one(spirit):
    first = synthesized(spirit, "user: I live in Paris.")
    extract_from_memories(memory_ids=[first.pk])
    second = synthesized(spirit, "user: I moved to Berlin.")

    result = extract_from_memories(memory_ids=[second.pk])

    [old] = result.closed
    [new] = result.created
    old.refresh_from_db()
    assert old.content == "The user lives in Paris."
    assert old.valid_to is not None and old.superseded_by_id == new.pk
    assert new.is_current and new.content == "The user lives in Berlin."
    assert list(new.memories.all()) == [second]
    close = entries(old, AuditAction.CLOSE).get()
    assert close.reason == f"contradicted by memory {second.pk}"
    assert list(Knowledge.objects.filter(spirit=spirit, valid_to__isnull=True)) == [new]


@pytest.mark.django_db
def test_facts_of_other_spirits_and_closed_facts_are_not_matched(spirit, foreign_spirit):
    KnowledgeFactory(spirit=foreign_spirit, topic="location", content="The user lives in Rome.")
    closed = KnowledgeFactory(
        spirit=spirit, topic="location", content="The user lives in Rome.", valid_to=timezone.now()
    )
    memory = synthesized(spirit, "user: I live in Rome.")

    result = extract_from_memories(memory_ids=[memory.pk])

    assert len(result.created) == 1 and result.strengthened == result.closed == []
    closed.refresh_from_db()
    assert closed.superseded_by_id is None and closed.confidence == 0.7


# --- Writing lessons -------------------------------------------------------------------------


@pytest.mark.django_db
def test_lessons_are_created_then_strengthened(spirit):
    first = synthesized(spirit, "user: Always answer in French.")
    [lesson] = extract_from_memories(memory_ids=[first.pk]).lessons
    assert (lesson.statement, lesson.confidence) == ("Always answer in French.", 0.6)
    assert list(lesson.memories.all()) == [first]

    second = synthesized(spirit, "user: always answer in french")
    [again] = extract_from_memories(memory_ids=[second.pk]).lessons

    assert again.pk == lesson.pk and Lesson.objects.filter(spirit=spirit).count() == 1
    assert again.confidence == pytest.approx(0.6 + 0.4 * 0.3)
    assert set(again.memories.all()) == {first, second}
    assert entries(lesson, AuditAction.UPDATE).get().reason == f"repeated in memory {second.pk}"


# --- Once, and only when enabled -------------------------------------------------------------


@pytest.mark.django_db
def test_extracting_the_same_memories_twice_changes_nothing(spirit):
    memory = synthesized(spirit, "user: My name is Ada. I prefer tea. Never use emojis.")
    first = extract_from_memories(memory_ids=[memory.pk])
    assert (len(first.created), len(first.lessons)) == (2, 1)
    audit_count = AuditEntry.objects.count()

    second = extract_from_memories(memory_ids=[memory.pk])

    assert (second.created, second.strengthened, second.closed, second.lessons) == ([], [], [], [])
    assert AuditEntry.objects.count() == audit_count
    assert [k.confidence for k in facts(spirit).order_by("topic")] == [0.8, 0.7]


@pytest.mark.django_db
def test_disabled_extraction_writes_nothing(spirit):
    spirit.config = {"extraction": {"enabled": False}}
    spirit.save()
    memory = synthesized(spirit, "user: My name is Ada. Always be brief.")

    result = extract_from_memories(memory_ids=[memory.pk])

    assert (result.created, result.lessons) == ([], [])
    assert not facts(spirit).exists() and not Lesson.objects.filter(spirit=spirit).exists()
    memory.refresh_from_db()
    assert memory.extracted_at is None


@pytest.mark.django_db
def test_deleted_memories_are_not_extracted(spirit):
    memory = synthesized(spirit, "user: My name is Ada.")
    Memory.all_objects.filter(pk=memory.pk).update(deleted_at=memory.created_at)

    assert extract_from_memories(memory_ids=[memory.pk]).created == []
