"""The language model: none by default, or an OpenAI-compatible chat model answering in JSON.

`get_language_model()` returns None when settings.LLM_PROVIDER is "none" (the default): callers
then use their deterministic offline methods. With "openai" it returns a `ChatModel` that talks to
any server speaking the chat-completions protocol at LLM_BASE_URL.

`ChatModel.complete_json()` asks for a JSON object (`response_format: json_object`, with the JSON
Schema in the system prompt, which every compatible server understands), validates the answer
against the schema with jsonschema, and re-asks, showing the model its mistake, when the answer is
not JSON or does not validate. Each request is retried on 429, 5xx, timeouts and connection errors
(see `elephantasm.ai.http`). Every HTTP request, failed ones included, is handed to the `record`
callback its caller gives (a `CallRecord`: token usage, latency and outcome); the pipeline's
callback stores it as an `LlmCall` row (`pipeline.llm_calls`). This module knows no model.

Errors: `TransientLanguageModelError` (retries ran out on a passing failure: a Celery task may
autoretry on it) and `PermanentLanguageModelError` (4xx, or answers that stayed invalid: do not
retry). Both are `LanguageModelError`s.

Call it outside `transaction.atomic()`: holding a transaction open across HTTP requests blocks the
database, and a rollback would erase the usage rows.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .http import (
    Attempt,
    JsonClient,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
)

PROVIDERS = ("none", "openai")
SCHEMA_INSTRUCTION = (
    "Answer with one JSON object and nothing else. It must validate against this JSON Schema:\n"
)


class LanguageModelError(ProviderError):
    """The language model could not give a usable answer."""


class TransientLanguageModelError(LanguageModelError, TransientProviderError):
    """Retries ran out on 429, 5xx, timeouts or connection errors: trying later may succeed."""


class PermanentLanguageModelError(LanguageModelError, PermanentProviderError):
    """The server refused the request (4xx other than 408/409/429): retrying will not help."""


class InvalidOutputError(PermanentLanguageModelError):
    """Every answer, re-asks included, was not JSON or did not validate against the schema."""


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    @classmethod
    def from_body(cls, body: Any) -> Usage:
        usage = body.get("usage") if isinstance(body, dict) else None
        if not isinstance(usage, dict):
            return cls()

        def count(key: str) -> int:
            value = usage.get(key)
            return value if isinstance(value, int) and value >= 0 else 0

        prompt, completion = count("prompt_tokens"), count("completion_tokens")
        return cls(prompt, completion, count("total_tokens") or prompt + completion)


@dataclass(frozen=True)
class CallRecord:
    """One HTTP request to the model, as handed to the `record` callback."""

    model: str
    purpose: str
    spirit_id: uuid.UUID | str | None
    usage: Usage
    latency_ms: int
    status: str
    http_status: int | None
    error: str


Recorder = Callable[[CallRecord], None]


class ChatModel:
    """An OpenAI-compatible chat model that answers in schema-validated JSON. `record`, when
    given, receives a `CallRecord` of every HTTP request (failed ones included)."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout: float = 60.0,
        max_retries: int = 3,
        max_reasks: int = 2,
        temperature: float | None = 0.0,
        backoff: float = 0.5,
        max_wait: float = 30.0,
        sleep=None,
        record: Recorder | None = None,
    ):
        self.model = model
        self.record = record
        self.max_reasks = max(0, max_reasks)
        self.temperature = temperature
        extra = {"sleep": sleep} if sleep is not None else {}
        self._client = JsonClient(
            base_url=base_url,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            backoff=backoff,
            max_wait=max_wait,
            **extra,
        )

    def __repr__(self) -> str:  # never shows the key
        return f"<ChatModel {self.model} at {self._client.base_url}>"

    def complete_json(
        self,
        *,
        system: str,
        user: str,
        schema: dict,
        purpose: str,
        spirit_id: uuid.UUID | str | None = None,
    ) -> dict:
        """The model's answer to `user`, as a dict that validates against `schema`."""
        validator_class = jsonschema.validators.validator_for(schema)
        validator_class.check_schema(schema)  # a wrong schema is a programming error: raise it
        validator = validator_class(schema)
        messages: list[dict[str, str]] = [
            {"role": "system", "content": f"{system}\n\n{SCHEMA_INSTRUCTION}{json.dumps(schema)}"},
            {"role": "user", "content": user},
        ]
        problem = ""
        for _ask in range(self.max_reasks + 1):
            attempt = self._send(messages, purpose=purpose, spirit_id=spirit_id)
            content, answer, problem = _parse(attempt.body, validator)
            usage = Usage.from_body(attempt.body)
            if answer is not None:
                self._record(attempt, purpose, spirit_id, usage)
                return answer
            self._record(attempt, purpose, spirit_id, usage, status="invalid_output", error=problem)
            messages = [
                *messages[:2],
                {"role": "assistant", "content": content},
                {
                    "role": "user",
                    "content": f"That answer is not valid: {problem}\n"
                    "Reply again with only the corrected JSON object.",
                },
            ]
        raise InvalidOutputError(
            f"{self.model} gave no valid answer for {purpose!r} in {self.max_reasks + 1} "
            f"tries; last problem: {problem}"
        )

    def _send(self, messages, *, purpose: str, spirit_id) -> Attempt:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "response_format": {"type": "json_object"},
        }
        if self.temperature is not None:
            payload["temperature"] = self.temperature

        def record_failure(attempt: Attempt) -> None:
            self._record(attempt, purpose, spirit_id, Usage.from_body(attempt.body))

        try:
            return self._client.post("/chat/completions", payload, on_failure=record_failure)
        except TransientProviderError as exc:
            raise TransientLanguageModelError(str(exc), http_status=exc.http_status) from exc
        except PermanentProviderError as exc:
            raise PermanentLanguageModelError(str(exc), http_status=exc.http_status) from exc

    def _record(
        self,
        attempt: Attempt,
        purpose: str,
        spirit_id,
        usage: Usage,
        *,
        status: str | None = None,
        error: str | None = None,
    ) -> None:
        if self.record is None:
            return
        self.record(
            CallRecord(
                model=self.model,
                purpose=purpose[:64],
                spirit_id=spirit_id,
                usage=usage,
                latency_ms=attempt.latency_ms,
                status=status or attempt.status,
                http_status=attempt.http_status,
                error=(error if error is not None else attempt.error)[:500],
            )
        )


def _parse(body: Any, validator) -> tuple[str, dict | None, str]:
    """(the answer's text, the answer if valid, what is wrong with it otherwise)."""
    try:
        content = body["choices"][0]["message"]["content"]
    except (TypeError, KeyError, IndexError):
        return "", None, "the response has no choices[0].message.content"
    if not isinstance(content, str):
        return "", None, "the message content is not text"
    try:
        answer = json.loads(content)
    except ValueError as exc:
        return content, None, f"not JSON ({exc.msg} at character {exc.pos})"
    if not isinstance(answer, dict):
        return content, None, "the JSON is not an object"
    error = jsonschema.exceptions.best_match(validator.iter_errors(answer))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        return content, None, f"schema violation at {where}: {error.message}"[:400]
    return content, answer, ""


def get_language_model(record: Recorder | None = None) -> ChatModel | None:
    """The configured language model, or None when there is none (use the offline methods).
    `record` receives every call (see `ChatModel`)."""
    provider = settings.LLM_PROVIDER
    if provider not in PROVIDERS:
        raise ImproperlyConfigured(f"LLM_PROVIDER must be one of {PROVIDERS}, not {provider!r}.")
    if provider == "none":
        return None
    return _chat_model(
        settings.LLM_BASE_URL,
        settings.LLM_MODEL,
        settings.LLM_API_KEY,
        float(settings.LLM_TIMEOUT),
        int(settings.LLM_MAX_RETRIES),
        record,
    )


@cache
def _chat_model(
    base_url: str, model: str, api_key: str, timeout: float, retries: int, record: Recorder | None
) -> ChatModel:
    """One per process, configuration and recorder (its HTTP connections are reused)."""
    return ChatModel(
        base_url=base_url,
        model=model,
        api_key=api_key,
        timeout=timeout,
        max_retries=retries,
        record=record,
    )
