"""Extraction's writes: candidates become knowledge and lessons, through their services.

Writing a FACT (per spirit, among current knowledge — not closed, not deleted — of its topic):
- one with the same normalised content: *strengthened* — the memory is linked as provenance,
  then confidence = min(1, c + (1 - c) * 0.3), reason "repeated in memory <id>" (one UPDATE);
- otherwise it is created (knowledge_create, the memory as provenance, `valid_from` the moment it
  was said), and every other current fact of that topic is *closed*: `valid_to` the moment the
  change was said (not the processing time), `superseded_by` the new one, reason "contradicted
  by memory <id>". A fact said before the current one began is written already closed,
  superseded by it (events can be processed out of order).
- an *ending* ("not vegetarian anymore") closes the current facts of its topic that mention its
  value (all of them when it names none), at the moment it was said, replaced by nothing; an
  ending of "plan:*" closes the current plans that mention its value ("did the 10k").
Facts are written in the order they were said, so the last of a topic wins. Writing a LESSON: a
live lesson (any status) with
the same normalised statement is strengthened the same way (its status is left to curators);
otherwise one is created, with the memory as provenance.

Every write is audited by `Actor.system("extraction")`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from memories.models import Knowledge, KnowledgeMemory, Lesson, LessonMemory, Memory
from memories.services.knowledge import (
    knowledge_close,
    knowledge_create,
    knowledge_update,
    link_memories,
)
from memories.services.lessons import lesson_create, lesson_update
from teams.actors import Actor

from .rules import FactCandidate, LessonCandidate, normalise

ACTOR = Actor.system("extraction")
STRENGTHEN_RATE = 0.3


@dataclass(slots=True)
class ExtractionResult:
    created: list[Knowledge] = field(default_factory=list)
    strengthened: list[Knowledge] = field(default_factory=list)
    closed: list[Knowledge] = field(default_factory=list)
    lessons: list[Lesson] = field(default_factory=list)  # created or strengthened


def strengthened(confidence: float) -> float:
    return min(1.0, confidence + (1.0 - confidence) * STRENGTHEN_RATE)


def write_fact(memory: Memory, fact: FactCandidate, result: ExtractionResult) -> None:
    """Write one fact of `memory` (see the module docstring): strengthen the same current fact,
    or create it and close the other current facts of its topic; an ending closes them only."""
    same_topic = (
        {"topic__startswith": fact.topic[:-1]}
        if fact.topic.endswith("*")
        else {"topic": fact.topic}
    )
    current = list(
        Knowledge.objects.filter(
            spirit_id=memory.spirit_id, valid_to__isnull=True, **same_topic
        ).order_by("created_at", "id")
    )
    if fact.ends:
        value = normalise(fact.value)
        for old in current:
            if not value or value in normalise(old.content):
                _close(old, None, fact.at, f"ended in memory {memory.pk}", result)
        return
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
    newer = [k for k in current if fact.at and k.valid_from and k.valid_from > fact.at]
    new = knowledge_create(
        spirit=memory.spirit,
        data={
            "knowledge_type": fact.kind,
            "topic": fact.topic,
            "content": fact.content,
            "summary": fact.content,
            "confidence": fact.confidence,
            "valid_from": fact.at,
        },
        actor=ACTOR,
        memory_ids=[memory.pk],
        reason=f"extracted from memory {memory.pk}",
    )
    result.created.append(new)
    if newer:  # said before what is current now: history, replaced by the newest
        _close(new, newer[-1], newer[-1].valid_from, f"older than memory {memory.pk}", result)
        return
    for old in current:
        _close(old, new, fact.at, f"contradicted by memory {memory.pk}", result)


def _close(old: Knowledge, by: Knowledge | None, at, reason: str, result: ExtractionResult):
    """Close `old` at the moment the change was said (never before it began)."""
    when = at or timezone.now()
    if old.valid_from and when < old.valid_from:
        when = old.valid_from
    result.closed.append(
        knowledge_close(knowledge=old, actor=ACTOR, superseded_by=by, valid_to=when, reason=reason)
    )


def write_lesson(memory: Memory, lesson: LessonCandidate, result: ExtractionResult) -> None:
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
