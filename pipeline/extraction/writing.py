"""Extraction's writes: candidates become knowledge and lessons, through their services.

Writing a FACT (per spirit, among current FACT knowledge — not closed, not deleted — of its topic):
- one with the same normalised content: *strengthened* — the memory is linked as provenance,
  then confidence = min(1, c + (1 - c) * 0.3), reason "repeated in memory <id>" (one UPDATE);
- otherwise it is created (knowledge_create, the memory as provenance), and every other current
  fact of that topic is *closed* (valid_to now, superseded_by the new one, reason "contradicted
  by memory <id>").
Within one memory the last fact of a topic wins. Writing a LESSON: a live lesson (any status) with
the same normalised statement is strengthened the same way (its status is left to curators);
otherwise one is created, with the memory as provenance.

Every write is audited by `Actor.system("extraction")`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from memories.models import Knowledge, KnowledgeMemory, KnowledgeType, Lesson, LessonMemory, Memory
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
