"""Extraction: knowledge (facts) and lessons drawn from new memories, by rules or a language model.

`extract_from_memories` takes each live memory among the given ids whose `extracted_at` is NULL
(locking it, skipping rows another worker holds), finds candidate statements in it, writes them
through the knowledge and lesson services (so every write is audited, by
`Actor.system("extraction")`) and sets `extracted_at`. Idempotent: a processed memory is never
processed again. Nothing happens for a spirit whose `extraction.enabled` is false (its memories
stay unprocessed).

Without a language model (the default) the candidates come from the deterministic rules below,
in one transaction. With one (`elephantasm.ai.llm.get_language_model()`), in two phases, as the
model is never called inside a transaction: first, outside any transaction, the model is asked
for each unextracted memory's facts and lessons (`memories.llm_prompts`: facts as {topic,
content, confidence}, lessons as {statement, rationale, confidence}); then one transaction locks
the memories (`SKIP LOCKED`, `extracted_at` still NULL) and writes the candidates exactly as the
rules' (below). A memory whose content changed in between gets the rules' candidates instead.
When the model's answers stay invalid or it refuses (`PermanentLanguageModelError`), that memory
gets the rules' candidates; when retries run out on a passing failure
(`TransientLanguageModelError`) the error is raised before anything is written and the Celery
task retries later.

Which text (rules): in a synthesized memory (`metadata["synthesis"]`, one "role: text" line per
event) only the user's lines ("user: …", prefix removed) — unless the language model wrote it
(method "llm": prose, no such lines), then, like any other memory, the whole content. The text is
split into sentences at . ! ? and line breaks.

FACT candidates: a sentence (normalised: lowercase, punctuation dropped) matching one of the
rules below, first match wins. Each gives a `topic` key — the slot a contradicting fact would
fill — a canonical `content` and a confidence:

    "my favourite|favorite|preferred <slot> is <v>"  preference:<slot>   0.75
    "my name is <v>"                                   name               0.8
    "my <slot> is|are <v>"  (slot: 1-3 words)          <slot>             0.6
    "i live in|i'm based in|i moved to <v>"            location           0.8
    "i work at|for <v>"                                employer           0.8
    "i prefer <v> over|to|rather than <w>"             preference:<v|w>   0.75  (sorted pair)
    "i prefer <v>"                                     preference:<v>     0.7
    "i use <v> for <purpose>"                          tool:<purpose>     0.7
    "i use <v>"                                        tool:<v>           0.7

Values longer than 80 characters are not facts. A sentence that is no fact may be a LESSON
candidate: one with a normative cue — it starts (after an optional "please") with "always",
"never", "don't", "do not", "remember to", "make sure" or "next time", or it contains "should" —
and is no question (does not end with "?"); confidence 0.6.
Candidates below the spirit's `extraction.min_confidence` are dropped (the model's too).

The model's FACT topics are brought to the same keys (`topic_key`): lowercase, each part
between ":" normalised as above; "a|b" pairs sorted; a leading "the user's" dropped;
"favourite|favorite|preferred <x>" becomes "preference:<x>", "preferences:" and "tools:"
become "preference:" and "tool:"; and a few synonyms name the rules' slots ("full name" →
name; "city", "home city", "residence" → location; "company", "workplace" → employer).
A topic that normalises to nothing drops the fact. The model's content is stored as given
(whitespace collapsed), its lessons capitalised and ended with "." like the rules'.

Writing a FACT (per spirit, among current FACT knowledge — not closed, not deleted — of its topic):
- one with the same normalised content: *strengthened* — the memory is linked as provenance,
  then confidence = min(1, c + (1 - c) * 0.3), reason "repeated in memory <id>" (one UPDATE);
- otherwise it is created (knowledge_create, the memory as provenance), and every other current
  fact of that topic is *closed* (valid_to now, superseded_by the new one, reason "contradicted
  by memory <id>").
Within one memory the last fact of a topic wins. Writing a LESSON: a live lesson (any status) with
the same normalised statement is strengthened the same way (its status is left to curators);
otherwise one is created, with the memory as provenance.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from elephantasm.ai.llm import (
    TransientLanguageModelError,  # noqa: F401 - raised through; the task retries on it
    get_language_model,
)
from teams.actors import Actor

from .models import Knowledge, KnowledgeMemory, KnowledgeType, Lesson, LessonMemory, Memory
from .services.knowledge import knowledge_close, knowledge_create, knowledge_update, link_memories
from .services.lessons import lesson_create, lesson_update

logger = logging.getLogger(__name__)
ACTOR = Actor.system("extraction")
STRENGTHEN_RATE = 0.3
VALUE_MAX_CHARS = 80
LESSON_CONFIDENCE = 0.6

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_USER_LINE = re.compile(r"^\s*user\s*:\s*", re.IGNORECASE)
_V = r"(?P<v>.+)"


def normalise(text: str) -> str:
    """Lowercase, punctuation dropped (apostrophes too), whitespace collapsed."""
    text = text.lower().replace("'", "").replace("\u2019", "")
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


@dataclass(frozen=True, slots=True)
class FactRule:
    pattern: re.Pattern[str]
    topic: str  # formatted with the match groups (normalised)
    content: str  # formatted with the match groups (as written)
    confidence: float


def _rule(pattern: str, topic: str, content: str, confidence: float) -> FactRule:
    return FactRule(re.compile(pattern + r"$"), topic, content, confidence)


# Matched against the normalised sentence; the groups are then cut from the sentence as written.
FACT_RULES: tuple[FactRule, ...] = (
    _rule(
        r"^my (?:favourite|favorite|preferred) (?P<slot>\w+(?: \w+){0,2}) (?:is|are) " + _V,
        "preference:{slot}",
        "The user's favourite {slot} is {v}.",
        0.75,
    ),
    _rule(r"^my name is " + _V, "name", "The user's name is {v}.", 0.8),
    _rule(
        r"^my (?P<slot>\w+(?: \w+){0,2}?) (?:is|are) " + _V,
        "{slot}",
        "The user's {slot} is {v}.",
        0.6,
    ),
    _rule(
        r"^(?:i live in|im based in|i am based in|i moved to) " + _V,
        "location",
        "The user lives in {v}.",
        0.8,
    ),
    _rule(r"^i work (?:at|for) " + _V, "employer", "The user works at {v}.", 0.8),
    _rule(
        r"^i prefer (?P<v>.+?) (?:over|to|rather than) (?P<w>.+)",
        "preference:{pair}",
        "The user prefers {v} over {w}.",
        0.75,
    ),
    _rule(r"^i prefer " + _V, "preference:{v}", "The user prefers {v}.", 0.7),
    _rule(
        r"^i use (?P<v>.+?) for (?P<purpose>.+)",
        "tool:{purpose}",
        "The user uses {v} for {purpose}.",
        0.7,
    ),
    _rule(r"^i use " + _V, "tool:{v}", "The user uses {v}.", 0.7),
)

LESSON_CUE = re.compile(
    r"^(?:please )?(?:always|never|dont|do not|remember to|make sure|next time)\b|\bshould\b"
)


@dataclass(frozen=True, slots=True)
class FactCandidate:
    topic: str
    content: str
    confidence: float


@dataclass(frozen=True, slots=True)
class LessonCandidate:
    statement: str
    confidence: float = LESSON_CONFIDENCE
    rationale: str = ""  # the memory is named when empty


@dataclass(slots=True)
class ExtractionResult:
    created: list[Knowledge] = field(default_factory=list)
    strengthened: list[Knowledge] = field(default_factory=list)
    closed: list[Knowledge] = field(default_factory=list)
    lessons: list[Lesson] = field(default_factory=list)  # created or strengthened


def source_text(memory: Memory) -> str:
    """The user's lines of a synthesized memory (prefix removed), else the whole content."""
    if not isinstance(memory.metadata, dict) or "synthesis" not in memory.metadata:
        return memory.content
    synthesis = memory.metadata["synthesis"]
    if isinstance(synthesis, dict) and synthesis.get("method") == "llm":  # prose, no role lines
        return memory.content
    return "\n".join(
        _USER_LINE.sub("", line) for line in memory.content.splitlines() if _USER_LINE.match(line)
    )


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_SPLIT.split(text) if s and s.strip()]


def _clean(value: str) -> str:
    return value.strip().rstrip(".!?;:,").strip()


def _as_written(sentence: str, normalised_value: str) -> str:
    """The value as written in the sentence (its casing), found by its normalised form."""
    words = _clean(sentence).split()
    wanted = normalised_value.split()
    for start in range(len(words)):
        for end in range(start + 1, len(words) + 1):
            if normalise(" ".join(words[start:end])) == normalised_value:
                return _clean(" ".join(words[start:end]))
            if len(normalise(" ".join(words[start:end])).split()) > len(wanted):
                break
    return normalised_value


def fact_candidate(sentence: str) -> FactCandidate | None:
    """The FACT a sentence states by the rules of this module, or None."""
    norm = normalise(sentence)
    for rule in FACT_RULES:
        match = rule.pattern.match(norm)
        if match is None:
            continue
        groups = match.groupdict()
        if any(len(value) > VALUE_MAX_CHARS for value in groups.values()):
            return None
        keys = dict(groups)
        if "w" in groups:
            keys["pair"] = "|".join(sorted((groups["v"], groups["w"])))
        written = {
            name: (value if name in ("slot", "purpose") else _as_written(sentence, value))
            for name, value in groups.items()
        }
        return FactCandidate(
            topic=rule.topic.format(**keys)[:255],
            content=rule.content.format(**written),
            confidence=rule.confidence,
        )
    return None


def lesson_candidate(sentence: str) -> LessonCandidate | None:
    """A LESSON when the sentence carries a normative cue (see the module docstring)."""
    if sentence.rstrip().endswith("?") or not LESSON_CUE.search(normalise(sentence)):
        return None
    statement = _clean(sentence)
    if not statement:
        return None
    return LessonCandidate(statement=statement[0].upper() + statement[1:] + ".")


def candidates(
    memory: Memory, min_confidence: float = 0.0
) -> tuple[list[FactCandidate], list[LessonCandidate]]:
    """The memory's FACT candidates (the last per topic) and LESSON candidates (distinct)."""
    facts: dict[str, FactCandidate] = {}
    lessons: dict[str, LessonCandidate] = {}
    for sentence in sentences(source_text(memory)):
        fact = fact_candidate(sentence)
        if fact is not None:
            if fact.confidence >= min_confidence:
                facts.pop(fact.topic, None)
                facts[fact.topic] = fact
            continue
        lesson = lesson_candidate(sentence)
        if lesson is not None and lesson.confidence >= min_confidence:
            lessons.setdefault(normalise(lesson.statement), lesson)
    return list(facts.values()), list(lessons.values())


def strengthened(confidence: float) -> float:
    return min(1.0, confidence + (1.0 - confidence) * STRENGTHEN_RATE)


def _write_fact(memory: Memory, fact: FactCandidate, result: ExtractionResult) -> None:
    current = list(
        Knowledge.objects.filter(
            spirit_id=memory.spirit_id,
            knowledge_type=KnowledgeType.FACT,
            topic=fact.topic,
            valid_to__isnull=True,
        ).order_by("created_at", "id")
    )
    same = next((k for k in current if normalise(k.content) == normalise(fact.content)), None)
    if same is not None:
        link_memories(same, [memory.pk], KnowledgeMemory, "knowledge")
        result.strengthened.append(
            knowledge_update(
                knowledge=same,
                data={"confidence": strengthened(same.confidence)},
                actor=ACTOR,
                reason=f"repeated in memory {memory.pk}",
            )
        )
        return
    new = knowledge_create(
        spirit=memory.spirit,
        data={
            "knowledge_type": KnowledgeType.FACT,
            "topic": fact.topic,
            "content": fact.content,
            "summary": fact.content,
            "confidence": fact.confidence,
        },
        actor=ACTOR,
        memory_ids=[memory.pk],
        reason=f"extracted from memory {memory.pk}",
    )
    result.created.append(new)
    for old in current:
        result.closed.append(
            knowledge_close(
                knowledge=old,
                actor=ACTOR,
                superseded_by=new,
                reason=f"contradicted by memory {memory.pk}",
            )
        )


def _write_lesson(memory: Memory, lesson: LessonCandidate, result: ExtractionResult) -> None:
    key = normalise(lesson.statement)
    # Narrowed in SQL by the first word, compared on the normalised statement.
    first = lesson.statement.split()[0]
    same = next(
        (
            existing
            for existing in Lesson.objects.filter(
                spirit_id=memory.spirit_id, statement__istartswith=first
            ).order_by("created_at", "id")
            if normalise(existing.statement) == key
        ),
        None,
    )
    if same is not None:
        link_memories(same, [memory.pk], LessonMemory, "lesson")
        result.lessons.append(
            lesson_update(
                lesson=same,
                data={"confidence": strengthened(same.confidence)},
                actor=ACTOR,
                reason=f"repeated in memory {memory.pk}",
            )
        )
        return
    result.lessons.append(
        lesson_create(
            spirit=memory.spirit,
            data={
                "statement": lesson.statement,
                "rationale": lesson.rationale or f"Said in memory {memory.pk}.",
                "confidence": lesson.confidence,
            },
            actor=ACTOR,
            memory_ids=[memory.pk],
            reason=f"extracted from memory {memory.pk}",
        )
    )


def extract_from_memories(*, memory_ids: Iterable[UUID | str]) -> ExtractionResult:
    """Knowledge and lessons from the memories among `memory_ids` not yet extracted (rules, or
    the language model, as in the module docstring). Memories of spirits with extraction
    disabled are left untouched. With a language model, call it outside a transaction."""
    ids = list(memory_ids)
    model = get_language_model()
    if model is None:
        return _extract(ids, planned=None)
    from .extraction_llm import plan_memories  # it imports this module

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
        if not cfg["enabled"]:
            continue
        plan = planned.get(memory.pk) if planned is not None else None
        if plan is not None and plan.content == memory.content:
            facts, lessons = plan.facts, plan.lessons
        else:
            facts, lessons = candidates(memory, cfg["min_confidence"])
        for fact in facts:
            _write_fact(memory, fact, result)
        for lesson in lessons:
            _write_lesson(memory, lesson, result)
        done.append(memory.pk)
    if done:
        Memory.all_objects.filter(pk__in=done).update(extracted_at=timezone.now())
    return result
