"""Extraction with a language model, against a real chat-completions server on loopback."""

from __future__ import annotations

import json

import pytest

from elephantasm.ai import llm
from elephantasm.ai.llm import TransientLanguageModelError
from elephantasm.tests.chat_server import CHAT_PATH, chat_reply, error_reply
from memories.models import (
    AuditAction,
    AuditEntry,
    Knowledge,
    Lesson,
    LlmCall,
    LlmCallStatus,
    Memory,
)
from memories.tests.factories import KnowledgeFactory, MemoryFactory
from pipeline.extraction import extract_from_memories, source_text
from pipeline.extraction.llm import topic_key

NO_WAIT = {"Retry-After": "0"}  # the server says when to retry: the tests never wait


def answer(facts=(), lessons=()) -> str:
    return json.dumps({"facts": list(facts), "lessons": list(lessons)})


def fact(topic, content, confidence=0.9) -> dict:
    return {"topic": topic, "content": content, "confidence": confidence}


def lesson(statement, rationale="", confidence=0.8) -> dict:
    return {"statement": statement, "rationale": rationale, "confidence": confidence}


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    llm._chat_model.cache_clear()
    yield
    llm._chat_model.cache_clear()


@pytest.fixture
def server(llm_server):
    return llm_server


@pytest.fixture
def memory(spirit):
    """A memory as offline synthesis writes it."""
    return MemoryFactory(
        spirit=spirit,
        content="user: Coffee is what I drink every morning.\nassistant: Noted!\n"
        "user: Please keep answers under five lines.",
        metadata={"synthesis": {"event_count": 3, "method": "offline"}},
    )


def facts(spirit):
    return Knowledge.all_objects.filter(spirit=spirit, knowledge_type="fact")


def calls() -> list[tuple[str, int | None]]:
    return list(LlmCall.objects.order_by("id").values_list("status", "http_status"))


def extracted(memory) -> bool:
    memory.refresh_from_db()
    return memory.extracted_at is not None


@pytest.mark.django_db
def test_the_models_facts_and_lessons_are_written_with_provenance(server, spirit, memory):
    server.script(
        CHAT_PATH,
        chat_reply(
            answer(
                [fact("Favourite Drink", "The user drinks coffee every morning.", 0.85)],
                [lesson("keep answers under five lines", "The user asked for it.", 0.9)],
            ),
            prompt_tokens=200,
            completion_tokens=40,
        ),
    )

    result = extract_from_memories(memory_ids=[memory.pk])

    [created] = result.created
    assert (created.topic, created.content, created.confidence) == (
        "preference:drink",
        "The user drinks coffee every morning.",
        0.85,
    )
    assert list(created.memories.all()) == [memory]
    [made] = result.lessons
    assert (made.statement, made.rationale, made.confidence) == (
        "Keep answers under five lines.",
        "The user asked for it.",
        0.9,
    )
    assert list(made.memories.all()) == [memory]
    create = AuditEntry.objects.get(object_id=created.pk, action=AuditAction.CREATE)
    assert (create.actor_id, create.reason) == ("extraction", f"extracted from memory {memory.pk}")
    assert extracted(memory)
    call = LlmCall.objects.get()
    assert (call.status, call.purpose, call.spirit_id) == (
        LlmCallStatus.OK,
        "extraction",
        spirit.pk,
    )
    assert (call.prompt_tokens, call.completion_tokens, call.total_tokens) == (200, 40, 240)


@pytest.mark.django_db
def test_the_request_carries_the_memory_and_the_schema(server, memory):
    server.script(CHAT_PATH, chat_reply(answer()))

    extract_from_memories(memory_ids=[memory.pk])

    [request] = server.received(CHAT_PATH)
    system, user = request.body["messages"]
    assert '"facts"' in system["content"] and '"lessons"' in system["content"]
    assert memory.content in user["content"]
    assert request.body["model"] == "test-model"


@pytest.mark.django_db
def test_the_models_topics_meet_the_rules_facts_to_strengthen_and_close_them(server, spirit):
    paris = KnowledgeFactory(
        spirit=spirit, topic="location", content="The user lives in Paris.", confidence=0.8
    )
    acme = KnowledgeFactory(
        spirit=spirit, topic="employer", content="The user works at Acme.", confidence=0.8
    )
    memory = MemoryFactory(spirit=spirit, content="Moved to Berlin, still at Acme.")
    server.script(
        CHAT_PATH,
        chat_reply(
            answer(
                [
                    fact("City", "The user lives in Berlin."),
                    fact("the user's Company", "the user works at ACME"),
                ]
            )
        ),
    )

    result = extract_from_memories(memory_ids=[memory.pk])

    [berlin] = result.created
    assert (berlin.topic, berlin.content) == ("location", "The user lives in Berlin.")
    assert [k.pk for k in result.closed] == [paris.pk]
    paris.refresh_from_db()
    assert paris.superseded_by_id == berlin.pk and paris.valid_to is not None
    [strengthened] = result.strengthened
    assert strengthened.pk == acme.pk
    assert strengthened.confidence == pytest.approx(0.8 + 0.2 * 0.3)
    assert set(strengthened.memories.all()) == {memory}


@pytest.mark.django_db
def test_candidates_below_min_confidence_and_without_a_topic_are_dropped(server, spirit, memory):
    spirit.config = {"extraction": {"min_confidence": 0.7}}
    spirit.save()
    server.script(
        CHAT_PATH,
        chat_reply(
            answer(
                [fact("birthday", "The user was born in May.", 0.6), fact("?!", "Odd.", 0.9)],
                [lesson("Be brief.", confidence=0.5), lesson("Use metric units.", confidence=0.7)],
            )
        ),
    )

    result = extract_from_memories(memory_ids=[memory.pk])

    assert result.created == []
    assert [x.statement for x in result.lessons] == ["Use metric units."]
    assert extracted(memory)


@pytest.mark.django_db
def test_a_malformed_answer_is_reasked_and_the_valid_one_is_used(server, spirit, memory):
    server.script(
        CHAT_PATH,
        chat_reply('{"facts": [{"topic": "drink"}], "lessons": []}'),  # breaks the schema
        chat_reply(answer([fact("drink", "The user drinks coffee.")])),
    )

    [created] = extract_from_memories(memory_ids=[memory.pk]).created

    assert created.content == "The user drinks coffee."
    assert calls() == [(LlmCallStatus.INVALID_OUTPUT, 200), (LlmCallStatus.OK, 200)]
    assert "schema violation" in server.received(CHAT_PATH)[1].body["messages"][3]["content"]


@pytest.mark.django_db
def test_answers_invalid_on_every_try_fall_back_to_the_rules(server, spirit):
    memory = MemoryFactory(
        spirit=spirit,
        content="user: I live in Paris.\nuser: Always answer in French.",
        metadata={"synthesis": {"event_count": 2, "method": "offline"}},
    )
    server.script(CHAT_PATH, *[chat_reply("no facts here, sorry")] * 3)

    result = extract_from_memories(memory_ids=[memory.pk])

    [created] = result.created
    assert (created.topic, created.content, created.confidence) == (
        "location",
        "The user lives in Paris.",
        0.8,
    )
    assert [x.statement for x in result.lessons] == ["Always answer in French."]
    assert calls() == [(LlmCallStatus.INVALID_OUTPUT, 200)] * 3
    assert extracted(memory)


@pytest.mark.django_db
def test_a_429_with_retry_after_is_retried_then_the_facts_are_written(server, spirit, memory):
    server.script(
        CHAT_PATH,
        error_reply(429, "rate limited", NO_WAIT),
        chat_reply(answer([fact("drink", "The user drinks coffee.")])),
    )

    [created] = extract_from_memories(memory_ids=[memory.pk]).created

    assert created.topic == "drink"
    assert calls() == [(LlmCallStatus.HTTP_ERROR, 429), (LlmCallStatus.OK, 200)]


@pytest.mark.django_db
@pytest.mark.parametrize("status", [500, 429])
def test_retries_running_out_raise_and_leave_the_memory_unextracted(server, spirit, memory, status):
    server.script(CHAT_PATH, *[error_reply(status, "unavailable", NO_WAIT)] * 3)

    with pytest.raises(TransientLanguageModelError):
        extract_from_memories(memory_ids=[memory.pk])

    assert len(server.received(CHAT_PATH)) == 3
    assert calls() == [(LlmCallStatus.HTTP_ERROR, status)] * 3
    assert not extracted(memory)
    assert not facts(spirit).exists() and not Lesson.objects.filter(spirit=spirit).exists()

    server.script(CHAT_PATH, chat_reply(answer([fact("drink", "The user drinks coffee.")])))
    assert len(extract_from_memories(memory_ids=[memory.pk]).created) == 1  # the retry, later
    assert extracted(memory)


@pytest.mark.django_db
def test_a_transient_failure_on_a_later_memory_writes_nothing(server, spirit, memory):
    second = MemoryFactory(spirit=spirit, content="I use Vim for editing.")
    server.script(
        CHAT_PATH,
        chat_reply(answer([fact("drink", "The user drinks coffee.")])),
        *[error_reply(503, "unavailable", NO_WAIT)] * 3,
    )

    with pytest.raises(TransientLanguageModelError):
        extract_from_memories(memory_ids=[memory.pk, second.pk])

    assert not facts(spirit).exists()
    assert not extracted(memory) and not extracted(second)


@pytest.mark.django_db
def test_processed_memories_and_disabled_spirits_are_not_sent_to_the_model(server, spirit, memory):
    server.script(CHAT_PATH, chat_reply(answer()))
    extract_from_memories(memory_ids=[memory.pk])
    spirit.config = {"extraction": {"enabled": False}}
    spirit.save()
    other = MemoryFactory(spirit=spirit, content="My name is Ada.")

    result = extract_from_memories(memory_ids=[memory.pk, other.pk])

    assert (result.created, result.lessons) == ([], [])
    assert len(server.received(CHAT_PATH)) == 1
    assert not extracted(other)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Location", "location"),
        ("city", "location"),
        ("Full Name", "name"),
        ("the user's company", "employer"),
        ("Favourite drink", "preference:drink"),
        ("preferences: Dark Mode", "preference:dark mode"),
        ("preference:tea|coffee", "preference:coffee|tea"),
        ("Tool: Editing", "tool:editing"),
        ("Email address", "email address"),
        ("?!", ""),
    ],
)
def test_model_topics_take_the_rules_topic_keys(raw, key):
    assert topic_key(raw) == key


def test_a_memory_the_model_synthesized_is_read_whole_by_the_rules():
    prose = "The user said they live in Rome."
    memory = Memory(content=prose, metadata={"synthesis": {"method": "llm"}})
    assert source_text(memory) == prose
