"""The Cortex: enrich events after ingest, offline and deterministically.

For each event: a `meta_summary` when it has none (extractive), an `importance_score` when it has
none (rule-based, see `importance`), its `token_count` (kept from ingest, counted when 0), its
`context` (the start of the turn before it in its session, searched by text with it), and an
embedding of `embedding_text` with the configured embedder, stored with the model's name; then
`enriched_at`. An event counts as done when it has `enriched_at` and an embedding of the current
model, so running twice (a redelivered task, the sweep racing ingest) does nothing the second time.
Marking an event for re-enrichment = clearing its `enriched_at` (`manage.py reembed` does that);
its old embedding keeps serving searches until the new one is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import timedelta
from uuid import UUID

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from elephantasm.ai.embeddings import get_batch_embedder, vector_text
from elephantasm.ai.tokens import count_tokens_many
from elephantasm.text import ELLIPSIS, squash, truncate_words
from events.models import Event, EventEmbedding, EventType
from events.selectors import neighbouring_turns

SUMMARY_CHARS = 200
# How much of the turn before an event its `context` keeps (searched by text with it).
CONTEXT_CHARS = 300
EXCERPT_CHARS = 120
# A sentence ends at . ! or ? followed by a space (or the end); "e.g. x" splits too: fine here.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def first_sentences(text: str, limit: int = SUMMARY_CHARS) -> str:
    """As many leading sentences as fit in `limit` characters; the first one cut if it alone is
    longer."""
    sentences = [s for s in _SENTENCE_END.split(squash(text)) if s]
    if not sentences:
        return ""
    summary = sentences[0]
    if len(summary) > limit:
        return truncate_words(summary, limit)
    for sentence in sentences[1:]:
        if len(summary) + 1 + len(sentence) > limit:
            break
        summary = f"{summary} {sentence}"
    return summary


def _tool_name(event: Event) -> str:
    """The tool's name: from metadata (tool, tool_name, name), else a JSON content's name/tool."""
    for key in ("tool", "tool_name", "name", "function"):
        value = event.metadata.get(key) if isinstance(event.metadata, dict) else None
        if isinstance(value, str) and value.strip():
            return squash(value)[:64]
    try:
        parsed = json.loads(event.content)
    except (TypeError, ValueError):
        return ""
    if isinstance(parsed, dict):
        for key in ("name", "tool", "function"):
            value = parsed.get(key)
            if isinstance(value, str) and value.strip():
                return squash(value)[:64]
            if isinstance(value, dict) and isinstance(value.get("name"), str):
                return squash(value["name"])[:64]
    return ""


_ERROR_WORDS = re.compile(
    r"\b(error|exception|traceback|failed|failure|fatal|denied|timeout|timed out|not found)\b",
    re.IGNORECASE,
)


def is_error_result(event: Event) -> bool:
    if event.event_type != EventType.TOOL_RESULT:
        return False
    if isinstance(event.metadata, dict) and (
        event.metadata.get("is_error") is True or event.metadata.get("error")
    ):
        return True
    return bool(_ERROR_WORDS.search(event.content[:2000]))


def summarize(event: Event) -> str:
    """The extractive summary of an event (deterministic, offline).

    Messages, system notes and custom types: their first sentence(s), at most ~200 characters,
    cut on a word boundary. Tool calls and results: "Tool call <name>: <excerpt>" / "Tool result
    <name> (error): <excerpt>", the excerpt being the first ~120 characters of the content.
    """
    if event.event_type in (EventType.TOOL_CALL, EventType.TOOL_RESULT):
        kind = "Tool call" if event.event_type == EventType.TOOL_CALL else "Tool result"
        name = _tool_name(event)
        label = f"{kind} {name}".strip()
        if is_error_result(event):
            label += " (error)"
        return f"{label}: {truncate_words(event.content, EXCERPT_CHARS)}"
    return first_sentences(event.content)


_TYPE_BASE = {
    EventType.MESSAGE_IN: 0.35,
    EventType.MESSAGE_OUT: 0.25,
    EventType.TOOL_CALL: 0.15,
    EventType.TOOL_RESULT: 0.15,
    EventType.SYSTEM: 0.3,
}
_MEMORY_WORDS = re.compile(
    r"\b(remember|always|never|important|prefer|prefers|preferred|favou?rite|don't forget|"
    r"do not forget|must|from now on|my name is|call me|allergic|deadline)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d")
# A capitalised word that does not start a sentence: a likely name (Alice, Paris, PostgreSQL).
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+[A-Za-z]*\b")


def importance(event: Event) -> float:
    """A rule-based importance in [0, 1], deterministic; rounded to 3 decimals.

    - base by type: message.in 0.35, system and custom types 0.30, message.out 0.25,
      tool.call/result 0.15;
    - length: +0.05 over 200 characters, +0.10 over 800;
    - a question mark: +0.05;
    - words that ask to be kept ("remember", "always", "never", "important", "prefer", "favorite",
      "must", "from now on", "my name is", "allergic", "deadline"...): +0.15 per distinct word, at
      most +0.30;
    - numbers (dates, amounts, versions): +0.05; names (capitalised words inside a sentence): +0.05;
    - a tool result that is an error (metadata is_error/error, or words like error, exception,
      traceback, failed): +0.25;
    - metadata "pinned" or "important" true: +0.2;
    then clamped to [0, 1].
    """
    text = event.content
    # A custom type (an integration's "calendar.invite.accepted") is scored as a system note.
    score = _TYPE_BASE.get(event.event_type, _TYPE_BASE[EventType.SYSTEM])
    if len(text) > 800:
        score += 0.10
    elif len(text) > 200:
        score += 0.05
    if "?" in text:
        score += 0.05
    words = {m.group(0).lower() for m in _MEMORY_WORDS.finditer(text)}
    score += min(0.30, 0.15 * len(words))
    if _NUMBER.search(text):
        score += 0.05
    if _NAME.search(text):
        score += 0.05
    if is_error_result(event):
        score += 0.25
    if isinstance(event.metadata, dict) and (
        event.metadata.get("pinned") is True or event.metadata.get("important") is True
    ):
        score += 0.2
    return round(min(1.0, max(0.0, score)), 3)


def embedding_text(event: Event) -> str:
    """What is embedded. A message or note: its author's name (when it has one), then its
    summary when that is not the content's start, then its content, so "what did Caroline say
    about..." finds Caroline's turns (the embedder truncates at 256 tokens). A tool call or
    result: its summary (label and excerpt), not the raw payload: JSON embeds poorly and costs
    most of the tokens; the full content stays searchable by text."""
    if event.event_type in (EventType.TOOL_CALL, EventType.TOOL_RESULT):
        return event.meta_summary or summarize(event)
    text = event.content
    if event.meta_summary and not event.content.startswith(event.meta_summary.rstrip(ELLIPSIS)):
        text = f"{event.meta_summary}\n{event.content}"
    author = squash(event.author)
    return f"{author}: {text}" if author else text


def _needs_work(model_name: str) -> Q:
    return Q(enriched_at__isnull=True) | Q(vector__isnull=True) | ~Q(vector__model=model_name)


def enrich_events(*, event_ids: Iterable[UUID | str], batch_size: int = 256) -> int:
    """Enrich the live events among `event_ids` that need it; returns how many were enriched.

    Per batch, in one transaction: one query loads the rows (locked, skipping rows another worker
    holds: that worker is enriching them), one embed call, one bulk UPDATE. Existing
    meta_summary and importance_score are kept; no audit entries (derived fields).
    """
    ids = list(dict.fromkeys(str(i) for i in event_ids))
    embedder = get_batch_embedder()
    done = 0
    for start in range(0, len(ids), batch_size):
        done += _enrich_batch(ids[start : start + batch_size], embedder)
    return done


@transaction.atomic
def _enrich_batch(ids: Sequence[str], embedder) -> int:
    events = list(
        Event.objects.filter(pk__in=ids)
        .filter(_needs_work(embedder.model_name))
        .select_for_update(skip_locked=True, of=("self",))
        .only(
            "id",
            "event_type",
            "author",
            "session_id",
            "content",
            "meta_summary",
            "metadata",
            "importance_score",
            "token_count",
            "enriched_at",
        )
    )
    if not events:
        return 0
    uncounted = [e for e in events if not e.token_count]
    for event, tokens in zip(
        uncounted, count_tokens_many([e.content for e in uncounted]), strict=True
    ):
        event.token_count = tokens
    for event in events:
        if not event.meta_summary:
            event.meta_summary = summarize(event)
        if event.importance_score is None:
            event.importance_score = importance(event)
    contexts = _previous_turns(events)
    for event in events:
        event.context = contexts.get(event.pk, "")
    vectors = embedder.embed([embedding_text(e) for e in events])
    _write_enrichment(events, vectors, embedder.model_name)
    return len(events)


def _previous_turns(events: list[Event]) -> dict:
    """Event id -> the first CONTEXT_CHARS characters of the turn before it in its session."""
    found = neighbouring_turns(before=[e.pk for e in events])
    return {hit: squash(content[:CONTEXT_CHARS]) for (hit, _), (_, content) in found.items()}


# One statement per table for the whole batch, the values as arrays (Django's bulk_update writes
# a CASE per field and row: 4x slower here, measured with bench/run.py --case ingest).
_UPDATE_EVENTS = f"""
    UPDATE {Event._meta.db_table} AS e
    SET meta_summary = v.summary, importance_score = v.importance, token_count = v.tokens,
        context = v.context, enriched_at = %s
    FROM unnest(%s::uuid[], %s::text[], %s::float8[], %s::int[], %s::text[])
        AS v(id, summary, importance, tokens, context)
    WHERE e.id = v.id
"""  # noqa: S608 - table names from the models, every value a parameter
_UPSERT_EMBEDDINGS = f"""
    INSERT INTO {EventEmbedding._meta.db_table} (event_id, embedding, model, updated_at)
    SELECT v.id, v.embedding::vector, %s, %s
    FROM unnest(%s::uuid[], %s::text[]) AS v(id, embedding)
    ON CONFLICT (event_id) DO UPDATE
    SET embedding = EXCLUDED.embedding, model = EXCLUDED.model, updated_at = EXCLUDED.updated_at
"""  # noqa: S608


def _write_enrichment(events: list[Event], vectors: list[list[float]], model_name: str) -> None:
    now = timezone.now()
    ids = [e.pk for e in events]
    with connection.cursor() as cursor:
        cursor.execute(
            _UPDATE_EVENTS,
            [
                now,
                ids,
                [e.meta_summary for e in events],
                [e.importance_score for e in events],
                [e.token_count for e in events],
                [e.context for e in events],
            ],
        )
        cursor.execute(
            _UPSERT_EMBEDDINGS,
            [model_name, now, ids, [vector_text(v) for v in vectors]],
        )
    for event in events:
        event.enriched_at = now


def events_pending_enrichment(*, limit: int | None, older_than_seconds: int = 0) -> list[UUID]:
    """Ids of live events not yet enriched, oldest first, at most `limit` (the sweep's query)."""
    qs = Event.objects.filter(enriched_at__isnull=True)
    if older_than_seconds:
        qs = qs.filter(created_at__lt=timezone.now() - timedelta(seconds=older_than_seconds))
    return list(qs.order_by("created_at").values_list("id", flat=True)[:limit])


def events_mark_for_reembedding(*, everything: bool = False) -> int:
    """Clear `enriched_at` of live events whose embedding is missing or from another model (all
    of them with `everything`), so the Cortex embeds them again. Returns how many."""
    qs = Event.objects.all()
    if not everything:
        qs = qs.filter(Q(vector__isnull=True) | ~Q(vector__model=get_batch_embedder().model_name))
    return qs.update(enriched_at=None)
