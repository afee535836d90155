"""Extraction: knowledge (facts) and lessons drawn from new memories, by rules or a language model.

`extract_from_memories` takes each live memory among the given ids whose `extracted_at` is NULL
(locking it, skipping rows another worker holds), finds candidate statements in it, writes them
through the knowledge and lesson services (so every write is audited, by
`Actor.system("extraction")`) and sets `extracted_at`. Idempotent: a processed memory is never
processed again. Nothing happens for a spirit whose `extraction.enabled` is false (its memories
stay unprocessed).

Without a language model (the default) the candidates come from the deterministic rules below,
in one transaction. With one (`pipeline.llm_calls.language_model()`), in two phases, as the
model is never called inside a transaction: first, outside any transaction, the model is asked
for each unextracted memory's facts and lessons (`pipeline.prompts`: facts as {topic,
content, confidence}, lessons as {statement, rationale, confidence}); then one transaction locks
the memories (`SKIP LOCKED`, `extracted_at` still NULL) and writes the candidates exactly as the
rules' (below). A memory whose content changed in between gets the rules' candidates instead.
When the model's answers stay invalid or it refuses (`PermanentLanguageModelError`), that memory
gets the rules' candidates; when retries run out on a passing failure
(`TransientLanguageModelError`) the error is raised before anything is written and the Celery
task retries later.

The steps live in three modules: `rules` (the offline candidates), `llm` (the language model's
candidates) and `writing` (candidates become knowledge and lessons).

The model's FACT topics are brought to the same keys (`topic_key`): lowercase, each part
between ":" normalised as above; "a|b" pairs sorted; a leading "the user's" dropped;
"favourite|favorite|preferred <x>" becomes "preference:<x>", "preferences:" and "tools:"
become "preference:" and "tool:"; and a few synonyms name the rules' slots ("full name" →
name; "city", "home city", "residence" → location; "company", "workplace" → employer).
A topic that normalises to nothing drops the fact. The model's content is stored as given
(whitespace collapsed), its lessons capitalised and ended with "." like the rules'.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from elephantasm.ai.llm import (
    TransientLanguageModelError,  # noqa: F401 - raised through; the task retries on it
)
from memories.models import Memory

from ..llm_calls import language_model
from .llm import plan_memories
from .rules import (
    FactCandidate,
    LessonCandidate,
    candidates,
    fact_candidate,
    lesson_candidate,
    normalise,
    sentences,
    source_text,
)
from .writing import ExtractionResult, write_fact, write_lesson

__all__ = [
    "ExtractionResult",
    "FactCandidate",
    "LessonCandidate",
    "candidates",
    "extract_from_memories",
    "fact_candidate",
    "lesson_candidate",
    "normalise",
    "sentences",
    "source_text",
]


def extract_from_memories(*, memory_ids: Iterable[UUID | str]) -> ExtractionResult:
    """Knowledge and lessons from the memories among `memory_ids` not yet extracted (rules, or
    the language model, as in the module docstring). Memories of spirits with extraction
    disabled are left untouched. With a language model, call it outside a transaction."""
    ids = list(memory_ids)
    model = language_model()
    if model is None:
        return _extract(ids, planned=None)
    planned = plan_memories(model, ids)
    return _extract(list(planned), planned=planned)


@transaction.atomic
def _extract(ids: list, planned: dict | None) -> ExtractionResult:
    """Lock the memories (skipping rows another worker holds), write their candidates — the
    planned ones when the content is still what the model read, the rules' otherwise — and mark
    them extracted."""
    result = ExtractionResult()
    if not ids:
        return result
    memories = list(
        Memory.objects.filter(pk__in=ids, extracted_at__isnull=True)
        .select_related("spirit")
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("created_at", "id")
    )
    done = []
    for memory in memories:
        cfg = memory.spirit.effective_config["extraction"]
        if not cfg["enabled"] or not memory.spirit.is_curated:
            continue  # left unextracted: a paused spirit catches up once active (the sweep)
        plan = planned.get(memory.pk) if planned is not None else None
        if plan is not None and plan.content == memory.content:
            facts, lessons = plan.facts, plan.lessons
        else:
            facts, lessons = candidates(memory, cfg["min_confidence"])
        for fact in facts:
            write_fact(memory, fact, result)
        for lesson in lessons:
            write_lesson(memory, lesson, result)
        done.append(memory.pk)
    if done:
        Memory.all_objects.filter(pk__in=done).update(extracted_at=timezone.now())
    return result
