"""The language model against a real chat-completions server on loopback (no mock objects)."""

from __future__ import annotations

import json
import uuid

import pytest

from elephantasm.ai import llm
from elephantasm.ai.http import TransientProviderError
from elephantasm.ai.llm import (
    ChatModel,
    InvalidOutputError,
    PermanentLanguageModelError,
    TransientLanguageModelError,
    get_language_model,
)
from elephantasm.tests.chat_server import (
    CHAT_PATH,
    ChatServer,
    Reply,
    chat_reply,
    error_reply,
)
from memories.models import LlmCall, LlmCallStatus
from pipeline.llm_calls import record_llm_call

pytestmark = pytest.mark.django_db

SCHEMA = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "minLength": 1},
        "importance": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": ["summary", "importance"],
    "additionalProperties": False,
}
VALID = json.dumps({"summary": "The user prefers tea.", "importance": 0.7})
KEY = "sk-test-secret-key-123"


@pytest.fixture
def server():
    server = ChatServer().start()
    yield server
    server.stop()


@pytest.fixture
def waits():
    return []


@pytest.fixture
def model(server, waits):
    return ChatModel(
        base_url=server.base_url,
        model="test-model",
        api_key=KEY,
        timeout=5,
        max_retries=2,
        max_reasks=2,
        sleep=waits.append,
        record=record_llm_call,
    )


def ask(model, **kwargs):
    return model.complete_json(
        system="Summarise the event.",
        user="I like tea.",
        schema=SCHEMA,
        purpose=kwargs.pop("purpose", "test"),
        **kwargs,
    )


def statuses() -> list[str]:
    return list(LlmCall.objects.order_by("id").values_list("status", flat=True))


def test_default_settings_have_no_language_model(settings):
    assert settings.LLM_PROVIDER == "none"
    assert get_language_model() is None


def test_an_unknown_provider_is_a_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.LLM_PROVIDER = "magic"
    with pytest.raises(ImproperlyConfigured):
        get_language_model()


def test_the_configured_model_answers_through_the_server_with_settings(server, settings):
    settings.LLM_PROVIDER = "openai"
    settings.LLM_BASE_URL = server.base_url
    settings.LLM_MODEL = "configured-model"
    settings.LLM_API_KEY = KEY
    server.script(CHAT_PATH, chat_reply(VALID))

    chat = get_language_model()

    assert isinstance(chat, ChatModel)
    assert get_language_model() is chat  # one per process and configuration
    assert ask(chat) == {"summary": "The user prefers tea.", "importance": 0.7}
    [request] = server.received(CHAT_PATH)
    assert request.body["model"] == "configured-model"
    assert KEY not in repr(chat)


def test_a_valid_answer_returns_the_object_and_records_one_call_with_usage(server, model):
    spirit_id = uuid.uuid4()
    server.script(CHAT_PATH, chat_reply(VALID, prompt_tokens=40, completion_tokens=9))

    answer = ask(model, purpose="synthesis", spirit_id=spirit_id)

    assert answer == {"summary": "The user prefers tea.", "importance": 0.7}
    [call] = LlmCall.objects.all()
    assert (call.status, call.http_status, call.error) == (LlmCallStatus.OK, 200, "")
    assert (call.prompt_tokens, call.completion_tokens, call.total_tokens) == (40, 9, 49)
    assert (call.model, call.purpose, call.spirit_id) == ("test-model", "synthesis", spirit_id)
    assert call.latency_ms >= 0


def test_the_request_asks_for_a_json_object_with_the_schema_and_the_key(server, model):
    server.script(CHAT_PATH, chat_reply(VALID))

    ask(model)

    [request] = server.received(CHAT_PATH)
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"] == "application/json"
    assert request.body["model"] == "test-model"
    assert request.body["response_format"] == {"type": "json_object"}
    system, user = request.body["messages"]
    assert system["role"] == "system" and json.dumps(SCHEMA) in system["content"]
    assert user == {"role": "user", "content": "I like tea."}


def test_no_authorization_header_is_sent_without_a_key(server):
    server.script(CHAT_PATH, chat_reply(VALID))
    ask(ChatModel(base_url=server.base_url, model="local"))
    [request] = server.received(CHAT_PATH)
    assert "authorization" not in request.headers


def test_usage_absent_from_the_answer_is_recorded_as_zero(server, model):
    server.script(CHAT_PATH, chat_reply(VALID, usage=False))
    ask(model)
    call = LlmCall.objects.get()
    assert (call.prompt_tokens, call.completion_tokens, call.total_tokens) == (0, 0, 0)


def test_a_malformed_answer_is_reasked_with_the_problem_then_succeeds(server, model):
    server.script(CHAT_PATH, chat_reply("not json, sorry"), chat_reply(VALID))

    assert ask(model)["importance"] == 0.7

    assert statuses() == [LlmCallStatus.INVALID_OUTPUT, LlmCallStatus.OK]
    invalid = LlmCall.objects.order_by("id").first()
    assert "not JSON" in invalid.error and invalid.total_tokens == 17
    first, second = server.received(CHAT_PATH)
    assert len(first.body["messages"]) == 2
    assert second.body["messages"][2] == {"role": "assistant", "content": "not json, sorry"}
    assert "not JSON" in second.body["messages"][3]["content"]


def test_json_that_breaks_the_schema_is_reasked_then_succeeds(server, model):
    wrong = json.dumps({"summary": "tea", "importance": 7})
    server.script(CHAT_PATH, chat_reply(wrong), chat_reply(VALID))

    assert ask(model)["summary"] == "The user prefers tea."

    assert statuses() == [LlmCallStatus.INVALID_OUTPUT, LlmCallStatus.OK]
    assert "importance" in LlmCall.objects.order_by("id").first().error


def test_answers_that_stay_invalid_raise_a_permanent_error_after_the_reasks(server, model):
    server.script(CHAT_PATH, *[chat_reply("[1, 2]")] * 3)

    with pytest.raises(InvalidOutputError) as caught:
        ask(model)

    assert not caught.value.transient
    assert isinstance(caught.value, PermanentLanguageModelError)
    assert statuses() == [LlmCallStatus.INVALID_OUTPUT] * 3


def test_a_200_without_choices_counts_as_invalid_output(server, model):
    server.script(CHAT_PATH, Reply(200, {"object": "chat.completion"}), chat_reply(VALID))
    ask(model)
    assert statuses() == [LlmCallStatus.INVALID_OUTPUT, LlmCallStatus.OK]


def test_a_429_with_retry_after_is_retried_after_the_given_wait(server, model, waits):
    server.script(
        CHAT_PATH,
        error_reply(429, "rate limited", {"Retry-After": "0"}),
        chat_reply(VALID),
    )

    assert ask(model)["importance"] == 0.7

    assert waits == [0.0]
    assert statuses() == [LlmCallStatus.HTTP_ERROR, LlmCallStatus.OK]
    failed = LlmCall.objects.order_by("id").first()
    assert failed.http_status == 429 and "rate limited" in failed.error


def test_a_long_retry_after_is_capped(server, waits):
    chat = ChatModel(base_url=server.base_url, model="m", max_wait=2.5, sleep=waits.append)
    server.script(CHAT_PATH, error_reply(429, headers={"Retry-After": "3600"}), chat_reply(VALID))
    ask(chat)
    assert waits == [2.5]


def test_a_real_429_retry_after_zero_waits_for_real(server):
    chat = ChatModel(base_url=server.base_url, model="m", max_retries=1)
    server.script(CHAT_PATH, error_reply(429, headers={"Retry-After": "0"}), chat_reply(VALID))
    assert ask(chat)["importance"] == 0.7


def test_server_errors_until_retries_run_out_raise_a_transient_error(server, model, waits):
    server.script(CHAT_PATH, *[error_reply(500, "boom")] * 3)

    with pytest.raises(TransientLanguageModelError) as caught:
        ask(model)

    assert caught.value.transient and caught.value.http_status == 500
    assert isinstance(caught.value, TransientProviderError)  # what Celery tasks autoretry on
    assert len(server.received(CHAT_PATH)) == 3  # one try and max_retries=2 retries
    assert statuses() == [LlmCallStatus.HTTP_ERROR] * 3
    # exponential backoff with jitter: 0.5 s then 1 s, each between half and all of it
    assert 0.25 <= waits[0] <= 0.5 and 0.5 <= waits[1] <= 1.0


def test_a_400_is_a_permanent_error_without_retry(server, model, waits):
    server.script(CHAT_PATH, error_reply(400, "bad request"), chat_reply(VALID))

    with pytest.raises(PermanentLanguageModelError) as caught:
        ask(model)

    assert not caught.value.transient and caught.value.http_status == 400
    assert len(server.received(CHAT_PATH)) == 1 and waits == []
    call = LlmCall.objects.get()
    assert (call.status, call.http_status) == (LlmCallStatus.HTTP_ERROR, 400)


def test_a_server_slower_than_the_timeout_is_a_transient_error(server, waits):
    chat = ChatModel(
        base_url=server.base_url,
        model="m",
        timeout=0.2,
        max_retries=1,
        sleep=waits.append,
        record=record_llm_call,
    )
    server.script(CHAT_PATH, *[Reply(200, {}, delay=3)] * 2)

    with pytest.raises(TransientLanguageModelError):
        ask(chat)

    assert statuses() == [LlmCallStatus.TIMEOUT] * 2
    assert all(c.http_status is None for c in LlmCall.objects.all())


def test_a_refused_connection_is_a_transient_error(server, waits):
    url = server.base_url
    server.stop()
    chat = ChatModel(
        base_url=url, model="m", max_retries=1, sleep=waits.append, record=record_llm_call
    )

    with pytest.raises(TransientLanguageModelError):
        ask(chat)

    assert statuses() == [LlmCallStatus.HTTP_ERROR] * 2


def test_the_key_is_never_recorded_or_put_in_errors(server, model):
    server.script(CHAT_PATH, error_reply(401, "invalid key"))
    with pytest.raises(PermanentLanguageModelError) as caught:
        ask(model)
    assert KEY not in str(caught.value)
    assert not LlmCall.objects.filter(error__contains=KEY).exists()
    assert KEY not in repr(model)


def test_a_wrong_schema_is_a_programming_error(model):
    import jsonschema

    with pytest.raises(jsonschema.SchemaError):
        model.complete_json(system="s", user="u", schema={"type": 5}, purpose="test")


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    llm._chat_model.cache_clear()
    yield
    llm._chat_model.cache_clear()


def test_retry_after_reads_seconds_and_http_dates():
    from email.utils import format_datetime

    from django.utils import timezone

    from elephantasm.ai.http import _retry_after

    assert _retry_after("2") == 2.0
    assert _retry_after("-3") == 0.0
    assert _retry_after("soon") is None
    later = format_datetime(timezone.now() + timezone.timedelta(seconds=30), usegmt=True)
    assert 25 <= _retry_after(later) <= 30
