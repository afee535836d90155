"""Lesson services: what the spirit learned to do differently."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from spirits.models import Spirit
from teams.actors import Actor

from ..models import Lesson, LessonMemory
from . import common
from .knowledge import link_memories

EDITABLE_FIELDS = ("statement", "rationale", "confidence", "status")


@transaction.atomic
def lesson_create(
    *,
    spirit: Spirit,
    data: dict[str, Any],
    actor: Actor,
    memory_ids: Iterable = (),
    reason: str = "",
) -> Lesson:
    lesson = common.create(Lesson(spirit=spirit), data, EDITABLE_FIELDS, actor, reason)
    link_memories(lesson, memory_ids, LessonMemory, "lesson")
    common.log_created(lesson, actor, reason)
    return lesson


@transaction.atomic
def lesson_update(*, lesson: Lesson, data: dict[str, Any], actor: Actor, reason: str = ""):
    return common.update(lesson, data, EDITABLE_FIELDS, actor, reason)


@transaction.atomic
def lesson_soft_delete(*, lesson: Lesson, actor: Actor, reason: str = "") -> Lesson:
    return common.soft_delete(lesson, actor, reason)


@transaction.atomic
def lesson_restore(*, lesson: Lesson, actor: Actor, reason: str = "") -> Lesson:
    return common.restore(lesson, actor, reason)


@transaction.atomic
def lesson_mark_stale(*, lessons, actor: Actor, reason: str = "") -> int:
    """Ask the pipeline to re-embed these lessons."""
    return common.mark_stale(Lesson, lessons, actor, reason)
