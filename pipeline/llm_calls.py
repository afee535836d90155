"""The pipeline's language model: the configured one, with every call stored as an `LlmCall`.

`elephantasm.ai.llm` knows no model of this project: it hands each HTTP request to the callback
given here, which writes the usage row (kept per spirit, shown by the pipeline status).
"""

from __future__ import annotations

from elephantasm.ai.llm import CallRecord, ChatModel, get_language_model
from memories.models import LlmCall


def record_llm_call(call: CallRecord) -> None:
    """Store one request to the language model (its usage, latency and outcome)."""
    LlmCall.objects.create(
        model=call.model,
        purpose=call.purpose,
        spirit_id=call.spirit_id,
        prompt_tokens=call.usage.prompt_tokens,
        completion_tokens=call.usage.completion_tokens,
        total_tokens=call.usage.total_tokens,
        latency_ms=call.latency_ms,
        status=call.status,
        http_status=call.http_status,
        error=call.error,
    )


def language_model() -> ChatModel | None:
    """The configured language model recording its calls, or None (use the offline methods)."""
    return get_language_model(record=record_llm_call)
