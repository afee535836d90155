"""Synthesis with a language model, against a real chat-completions server on loopback."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction

from elephantasm.ai import llm
from elephantasm.ai.llm import TransientLanguageModelError
from elephantasm.tests.chat_server import CHAT_PATH, chat_reply, error_reply
from events.models import Event
from events.tests.factories import EventFactory
from memories.models import AuditEntry, LlmCall, LlmCallStatus, Memory, MemoryEvent
from pipeline.episodes import episode_memories
from pipeline.synthesis import synthesize_spirit

T0 = datetime(2025, 1, 2, 3, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)
NO_WAIT = {"Retry-After": "0"}  # the server says when to retry: the tests never wait


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def answer(**fields) -> str:
    return json.dumps(
        {
            "content": "Ana told the agent that her sister lives in Lisbon.",
            "summary": "Ana's sister lives in Lisbon.",
            "subject": "Ana's family",
            "importance": 0.8,
            **fields,
        }
    )


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    llm._chat_model.cache_clear()
    yield
    llm._chat_model.cache_clear()


@pytest.fixture
def server(llm_server):
    return llm_server


def linked(memory) -> set:
    return set(memory.event_links.values_list("event_id", flat=True))


def calls() -> list[tuple[str, int | None]]:
    return list(LlmCall.objects.order_by("id").values_list("status", "http_status"))


def pending() -> int:
    return Event.objects.filter(synthesized_at__isnull=True).count()


@pytest.fixture
def episode(spirit):
    return [
        EventFactory(spirit=spirit, content="My sister Ana lives in Lisbon.", occurred_at=at(0)),
        EventFactory(
            spirit=spirit,
            role="assistant",
            content="Noted: your sister Ana is in Lisbon.",
            occurred_at=at(2),
            importance_score=0.3,
        ),
    ]


@pytest.mark.django_db
def test_the_model_writes_the_memory_of_an_episode_with_provenance(server, spirit, episode):
    server.script(
        CHAT_PATH,
        chat_reply(answer(memory_type="semantic"), prompt_tokens=120, completion_tokens=30),
    )

    [memory] = synthesize_spirit(spirit_id=spirit.pk, now=NOW, force=True)

    memory.refresh_from_db()
    assert memory.content == "Ana told the agent that her sister lives in Lisbon."
    assert memory.summary == "Ana's sister lives in Lisbon."
    assert memory.subject == "Ana's family"
    assert memory.importance == pytest.approx(0.8)
    assert memory.memory_type == "semantic"
    assert memory.source_type == "extraction"
    assert memory.extraction_model == "test-model"
    assert memory.metadata["synthesis"] == {"event_count": 2, "session_id": "s-1", "method": "llm"}
    assert linked(memory) == {e.pk for e in episode}
    assert (memory.time_start, memory.time_end) == (at(0), at(2))
    assert AuditEntry.objects.get(object_id=memory.pk).reason == "synthesis of 2 events"
    assert set(Event.objects.values_list("synthesized_at", flat=True)) == {NOW}
    call = LlmCall.objects.get()
    assert (call.status, call.purpose, call.spirit_id, call.model) == (
        LlmCallStatus.OK,
        "synthesis",
        spirit.pk,
        "test-model",
    )
    assert (call.prompt_tokens, call.completion_tokens, call.total_tokens) == (120, 30, 150)


@pytest.mark.django_db
def test_each_request_carries_its_episodes_text_and_the_schema(server, spirit):
    EventFactory(
        spirit=spirit, session_id="a", content="I adopted a cat named Miso.", occurred_at=at(0)
    )
    EventFactory(
        spirit=spirit, session_id="b", content="Deploy the API on Friday.", occurred_at=at(1)
    )
    server.script(
        CHAT_PATH, chat_reply(answer(subject="cat")), chat_reply(answer(subject="deploy"))
    )

    memories = synthesize_spirit(spirit_id=spirit.pk, now=NOW, force=True)

    assert [m.subject for m in memories] == ["cat", "deploy"]
    first, second = server.received(CHAT_PATH)
    system, user = first.body["messages"]
    assert '"importance"' in system["content"] and '"maximum": 1' in system["content"]
    assert (
        "Session: a" in user["content"] and "user: I adopted a cat named Miso." in user["content"]
    )
    assert "Deploy the API" not in user["content"]
    assert "Session: b" in second.body["messages"][1]["content"]
    assert "Deploy the API on Friday." in second.body["messages"][1]["content"]
    assert first.body["response_format"] == {"type": "json_object"}


@pytest.mark.django_db
def test_a_malformed_answer_is_reasked_and_the_valid_one_is_used(server, spirit, episode):
    server.script(
        CHAT_PATH, chat_reply("Sure! Here is the memory: {content: ..."), chat_reply(answer())
    )

    [memory] = synthesize_spirit(spirit_id=spirit.pk, now=NOW, force=True)

    assert memory.content == "Ana told the agent that her sister lives in Lisbon."
    assert memory.metadata["synthesis"]["method"] == "llm"
    assert calls() == [(LlmCallStatus.INVALID_OUTPUT, 200), (LlmCallStatus.OK, 200)]
    reask = server.received(CHAT_PATH)[1].body["messages"]
    assert "not JSON" in reask[3]["content"]


@pytest.mark.django_db
def test_answers_invalid_on_every_try_fall_back_to_the_offline_digest(server, spirit, episode):
    server.script(
        CHAT_PATH,
        chat_reply("not json"),
        chat_reply(answer(importance=7)),  # breaks the schema
        chat_reply(answer(summary="x" * 500)),  # too long
    )

    memories = synthesize_spirit(spirit_id=spirit.pk, now=NOW, force=True)

    offline = episode_memories(episode)  # the same memories as without a language model
    assert [(m.content, m.summary, m.subject) for m in memories] == [
        (data["content"], data["summary"], data["subject"]) for _, data in offline
    ]
    assert memories[0].content.endswith("sister Ana lives in Lisbon.")
    for memory in memories:
        assert memory.extraction_model == ""
        assert memory.metadata["synthesis"]["method"] == "offline"
        assert "summary" in memory.metadata["synthesis"]["llm_error"]
    assert set().union(*(linked(m) for m in memories)) == {e.pk for e in episode}
    assert pending() == 0
    assert calls() == [(LlmCallStatus.INVALID_OUTPUT, 200)] * 3


@pytest.mark.django_db
def test_a_refused_request_falls_back_to_the_offline_digest(server, spirit, episode):
    server.script(CHAT_PATH, error_reply(400, "context length exceeded"))

    memories = synthesize_spirit(spirit_id=spirit.pk, now=NOW, force=True)

    assert {m.metadata["synthesis"]["method"] for m in memories} == {"offline"}
    assert all("400" in m.metadata["synthesis"]["llm_error"] for m in memories)
    assert len(server.received(CHAT_PATH)) == 1


@pytest.mark.django_db
def test_a_429_with_retry_after_is_retried_then_the_memory_is_written(server, spirit, episode):
    server.script(CHAT_PATH, error_reply(429, "slow down", NO_WAIT), chat_reply(answer()))

    [memory] = synthesize_spirit(spirit_id=spirit.pk, now=NOW, force=True)

    assert memory.metadata["synthesis"]["method"] == "llm"
    assert calls() == [(LlmCallStatus.HTTP_ERROR, 429), (LlmCallStatus.OK, 200)]
    assert "slow down" in LlmCall.objects.order_by("id").first().error


@pytest.mark.django_db
@pytest.mark.parametrize("status", [500, 503, 429])
def test_retries_running_out_raise_and_leave_every_event_pending(server, spirit, episode, status):
    server.script(CHAT_PATH, *[error_reply(status, "unavailable", NO_WAIT)] * 3)

    with pytest.raises(TransientLanguageModelError) as caught:
        synthesize_spirit(spirit_id=spirit.pk, now=NOW, force=True)

    assert caught.value.http_status == status
    assert len(server.received(CHAT_PATH)) == 3  # one try and LLM_MAX_RETRIES=2 retries
    assert calls() == [(LlmCallStatus.HTTP_ERROR, status)] * 3  # usage recorded all the same
    assert not Memory.objects.exists() and not MemoryEvent.objects.exists()
    assert pending() == 2

    server.script(CHAT_PATH, chat_reply(answer()))  # the task's retry, later
    [memory] = synthesize_spirit(spirit_id=spirit.pk, now=NOW, force=True)
    assert linked(memory) == {e.pk for e in episode} and pending() == 0


@pytest.mark.django_db
def test_a_transient_failure_on_a_later_episode_writes_no_memory_at_all(server, spirit):
    EventFactory(spirit=spirit, session_id="a", occurred_at=at(0))
    EventFactory(spirit=spirit, session_id="b", occurred_at=at(1))
    server.script(CHAT_PATH, chat_reply(answer()), *[error_reply(502, "bad gateway", NO_WAIT)] * 3)

    with pytest.raises(TransientLanguageModelError):
        synthesize_spirit(spirit_id=spirit.pk, now=NOW, force=True)

    assert not Memory.objects.exists()
    assert pending() == 2


@pytest.mark.django_db
def test_the_gate_is_checked_before_the_model_is_asked(server, spirit, episode):
    assert synthesize_spirit(spirit_id=spirit.pk, now=at(3)) == []  # default gate: not yet
    assert server.requests == [] and pending() == 2


@pytest.mark.django_db
def test_without_a_language_model_the_digest_is_recorded_as_offline(spirit, episode, settings):
    assert settings.LLM_PROVIDER == "none"

    memories = synthesize_spirit(spirit_id=spirit.pk, now=NOW, force=True)

    assert {m.metadata["synthesis"]["method"] for m in memories} == {"offline"}
    assert all(m.extraction_model == "" for m in memories) and not LlmCall.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_episode_with_an_event_held_by_another_run_is_left_whole_for_the_next_run(
    server, spirit
):
    # Episode b starts after episode a, so the model is asked about a first and the scripted
    # replies below go in that order (episodes starting at the same minute are ordered by their
    # first event's random id).
    a = [EventFactory(spirit=spirit, session_id="a", occurred_at=at(i)) for i in range(2)]
    b = [EventFactory(spirit=spirit, session_id="b", occurred_at=at(2 + i)) for i in range(3)]
    locked, release, done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def other_run():  # holds one event of episode b, as a concurrent synthesis would
        try:
            with transaction.atomic():
                list(Event.objects.filter(pk=b[1].pk).select_for_update())
                locked.set()
                release.wait(timeout=30)
        except BaseException as exc:  # reported to the test thread below
            errors.append(exc)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=other_run)
    thread.start()
    try:
        assert locked.wait(timeout=10)
        server.script(CHAT_PATH, chat_reply(answer(subject="a")), chat_reply(answer(subject="b")))

        memories = synthesize_spirit(spirit_id=spirit.pk, now=NOW, force=True)
    finally:
        release.set()
        thread.join(timeout=10)
    assert done.is_set() and errors == []

    assert [(m.subject, linked(m)) for m in memories] == [("a", {e.pk for e in a})]
    assert set(Event.objects.filter(synthesized_at__isnull=True)) == set(b)  # none half-written
    assert len(server.received(CHAT_PATH)) == 2

    server.script(CHAT_PATH, chat_reply(answer(subject="b again")))
    [memory] = synthesize_spirit(spirit_id=spirit.pk, now=NOW, force=True)
    assert (memory.subject, linked(memory)) == ("b again", {e.pk for e in b})
    assert pending() == 0
