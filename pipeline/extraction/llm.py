"""Extraction's language-model path: the model's facts and lessons as the rules' candidates.

The conventions (topic keys, fallbacks, the two phases) are described in `pipeline.extraction`,
which calls `plan_memories` outside any transaction and then writes what it planned.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from elephantasm.ai.llm import ChatModel, PermanentLanguageModelError
from memories.models import Memory
from pipeline.prompts import EXTRACTION_SCHEMA, EXTRACTION_SYSTEM, clean, memory_prompt

from .rules import FactCandidate, LessonCandidate, clean_value, normalise

logger = logging.getLogger(__name__)

TOPIC_ALIASES = {
    "full name": "name",
    "city": "location",
    "home city": "location",
    "residence": "location",
    "company": "employer",
    "workplace": "employer",
}
KIND_ALIASES = {"preferences": "preference", "tools": "tool"}
_USER_PREFIX = re.compile(r"^(?:the )?users? ")
_FAVOURITE = re.compile(r"^(?:favourite|favorite|preferred) (?P<x>.+)$")


@dataclass(frozen=True, slots=True)
class Planned:
    """The model's candidates for a memory, and the content it read."""

    content: str
    facts: list[FactCandidate]
    lessons: list[LessonCandidate]


def topic_key(raw: str) -> str:
    """A model's topic as the rules spell topic keys (module docstring of pipeline.extraction);
    "" when nothing is left."""
    parts = []
    for part in raw.split(":"):
        values = sorted(v for v in (normalise(v) for v in part.split("|")) if v)
        if values:
            parts.append("|".join(values))
    if not parts:
        return ""
    head = _USER_PREFIX.sub("", parts[0]) or parts[0]
    head = KIND_ALIASES.get(head, head)
    if len(parts) == 1:
        favourite = _FAVOURITE.match(head)
        if favourite is not None:
            return f"preference:{favourite['x']}"[:255]
        head = TOPIC_ALIASES.get(head, head)
    return ":".join([head, *parts[1:]])[:255]


def _one_line(text: str) -> str:
    return " ".join(clean(text).split())


def model_candidates(
    answer: dict[str, Any], min_confidence: float = 0.0
) -> tuple[list[FactCandidate], list[LessonCandidate]]:
    """The candidates of a (schema-valid) answer: the last fact per topic, distinct lessons,
    none below `min_confidence`."""
    facts: dict[str, FactCandidate] = {}
    for item in answer["facts"]:
        topic, content = topic_key(item["topic"]), _one_line(item["content"])
        confidence = float(item["confidence"])
        if topic and normalise(content) and confidence >= min_confidence:
            facts.pop(topic, None)
            facts[topic] = FactCandidate(topic=topic, content=content, confidence=confidence)
    lessons: dict[str, LessonCandidate] = {}
    for item in answer["lessons"]:
        statement = clean_value(_one_line(item["statement"]))
        confidence = float(item["confidence"])
        if not normalise(statement) or confidence < min_confidence:
            continue
        statement = statement[0].upper() + statement[1:] + "."
        lessons.setdefault(
            normalise(statement),
            LessonCandidate(
                statement=statement,
                confidence=confidence,
                rationale=_one_line(item["rationale"]),
            ),
        )
    return list(facts.values()), list(lessons.values())


def plan_memories(model: ChatModel, memory_ids: Iterable[UUID | str]) -> dict[UUID, Planned | None]:
    """Ask the model about each memory among `memory_ids` not yet extracted, of a spirit with
    extraction enabled. None for a memory means: use the rules (the model's answers stayed
    invalid, or it refused). Raises `TransientLanguageModelError`. Call it outside a transaction.
    """
    memories = (
        Memory.objects.filter(pk__in=list(memory_ids), extracted_at__isnull=True)
        .select_related("spirit")
        .order_by("created_at", "id")
    )
    planned: dict[UUID, Planned | None] = {}
    for memory in memories:
        cfg = memory.spirit.effective_config["extraction"]
        if not cfg["enabled"] or not memory.spirit.is_curated:
            continue
        try:
            answer = model.complete_json(
                system=EXTRACTION_SYSTEM,
                user=memory_prompt(memory),
                schema=EXTRACTION_SCHEMA,
                purpose="extraction",
                spirit_id=memory.spirit_id,
            )
        except PermanentLanguageModelError as exc:
            logger.warning(
                "extraction of memory %s: %s gave no usable answer (%s); using the rules",
                memory.pk,
                model.model,
                exc,
            )
            planned[memory.pk] = None
            continue
        facts, lessons = model_candidates(answer, cfg["min_confidence"])
        said_at = memory.time_end or memory.time_start or memory.created_at
        facts = [fact.said_at(said_at) for fact in facts]  # valid_from: when it was said
        planned[memory.pk] = Planned(memory.content, facts, lessons)
    return planned
