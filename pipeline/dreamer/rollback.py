"""Undo a dream session: every memory it touched goes back to its state before the session.

A completed session can be rolled back once. The log is replayed backwards on the tracked state
(decay, tier, status, successor) of each memory: each action's `after` must still be what the
memory holds (after undoing the later actions of the same session), else something changed it
since — a curator, the API, a later dream — and the rollback is refused (409 `conflict`,
details["memory_ids"] naming them) without writing anything. A merged memory is also refused
when it was edited or deleted since, or when knowledge or lessons now cite it.

Then, in one transaction: each memory gets its state from before the session (an audited
ROLLBACK when tier, status or successor change; decay alone is derived and not audited), each
memory the session's merges created is removed (logged as PURGE first: the audit log keeps its
history), and the session becomes `rolled_back`.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from elephantasm.api.errors import Conflict
from memories import audit
from memories.models import (
    AuditAction,
    DreamActionKind,
    DreamSession,
    DreamStatus,
    KnowledgeMemory,
    LessonMemory,
    Memory,
)
from memories.services.common import transition
from spirits.locks import lock_spirit_curation
from teams.actors import Actor

from .run import tracked

AUDITED = ("tier", "status", "superseded_by_id")


def _differs(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    return any(actual.get(k) != v for k, v in expected.items() if k != "updated_at")


@transaction.atomic
def dream_rollback(*, session: DreamSession, actor: Actor, reason: str = "") -> DreamSession:
    session = DreamSession.objects.select_for_update().get(pk=session.pk)
    if session.status != DreamStatus.COMPLETED:
        raise Conflict(
            f"Only a completed dream can be rolled back; this one is {session.status}.",
            details={"status": session.status},
        )
    lock_spirit_curation(session.spirit_id)
    actions = list(session.actions.order_by("-id"))
    ids = {a.memory_id for a in actions}
    for action in actions:
        ids.update(action.related_ids)
    current = {
        str(m.pk): m
        for m in Memory.all_objects.select_for_update().filter(pk__in=list(ids)).order_by("pk")
    }
    state = {pk: tracked(m) for pk, m in current.items()}
    conflicts: set[str] = set()
    merged: list[Memory] = []
    for action in actions:
        if action.kind == DreamActionKind.MERGE:
            memory = current.get(str(action.memory_id))
            if memory is None or not _merged_untouched(memory, action):
                conflicts.add(str(action.memory_id))
            else:
                merged.append(memory)
            pairs = [
                (pk, after, action.before["sources"][pk])
                for pk, after in action.after["sources"].items()
            ]
        else:
            pairs = [(str(action.memory_id), action.after, action.before)]
        for pk, after, before in pairs:
            if pk not in state or _differs(after, state[pk]):
                conflicts.add(pk)
            else:
                state[pk] = {**state[pk], **before}
    if conflicts:
        raise Conflict(
            "Memories this dream touched have changed since; it cannot be rolled back exactly.",
            details={"memory_ids": sorted(conflicts)},
        )
    why = f"rollback of dream {session.pk}" + (f": {reason}" if reason else "")
    merged_ids = {str(m.pk) for m in merged}
    for pk, memory in current.items():
        if pk in merged_ids:
            continue
        target = state[pk]
        if target == tracked(memory):
            continue
        if any(target[k] != tracked(memory)[k] for k in AUDITED):
            transition(
                memory,
                AuditAction.ROLLBACK,
                actor,
                why,
                decay=target["decay"],
                tier=target["tier"],
                status=target["status"],
                superseded_by_id=target["superseded_by_id"],
            )
        else:
            Memory.all_objects.filter(pk=pk).update(decay=target["decay"])
    for memory in merged:
        _remove(memory, actor, why)
    session.status = DreamStatus.ROLLED_BACK
    session.rolled_back_at = timezone.now()
    session.rolled_back_by = actor.label or actor.id
    session.save()
    return session


def _merged_untouched(memory: Memory, action) -> bool:
    recorded = action.after["memory"]
    return (
        memory.deleted_at is None
        and memory.updated_at.isoformat() == recorded["updated_at"]
        and not _differs(recorded, tracked(memory))
        and not KnowledgeMemory.objects.filter(memory=memory).exists()
        and not LessonMemory.objects.filter(memory=memory).exists()
        and not Memory.all_objects.filter(superseded_by=memory)
        .exclude(pk__in=action.related_ids)
        .exists()
    )


def _remove(memory: Memory, actor: Actor, why: str) -> None:
    before = audit.snapshot(memory)
    memory.updated_at = timezone.now()  # the entry is stamped with this instant
    audit.record(
        obj=memory,
        action=AuditAction.PURGE,
        actor=actor,
        before=before,
        after=None,
        reason=why,
    )
    memory.delete()
