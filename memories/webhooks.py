"""What the memories app tells a team's webhook (teams.webhooks does the sending).

Every audited change of a memory or knowledge item emits one event from `audit.record`, in the
transaction of the change:

- memory: "memory.created" (created, or made by supersede/merge: no state before),
  "memory.archived", "memory.deleted" (soft delete, or removed by a dream rollback),
  "memory.updated" (every other change: edit, pin, dispute, restore, split, ...);
- knowledge: "knowledge.created", "knowledge.closed", "knowledge.deleted", "knowledge.updated".

Plus "dream.completed" (end of a dream run) and "purge.completed" (a spirit purge, a retention
run). Lessons and identity revisions are not sent. `data.action` is always the audit action.
"""

from __future__ import annotations

from typing import Any

from teams.webhooks.services import webhook_emit

from .models import AuditAction, AuditEntry

_DELETED = {AuditAction.DELETE, AuditAction.PURGE}


def _event_type(entry: AuditEntry) -> str | None:
    if entry.object_type not in ("memory", "knowledge"):
        return None
    if entry.before is None and entry.action != AuditAction.PURGE:
        return f"{entry.object_type}.created"
    if entry.action in _DELETED:
        return f"{entry.object_type}.deleted"
    if entry.object_type == "memory" and entry.action == AuditAction.ARCHIVE:
        return "memory.archived"
    if entry.object_type == "knowledge" and entry.action == AuditAction.CLOSE:
        return "knowledge.closed"
    return f"{entry.object_type}.updated"


def emit_for_audit(entry: AuditEntry) -> None:
    event_type = _event_type(entry)
    if event_type is None:
        return
    data: dict[str, Any] = {
        "object_type": entry.object_type,
        "object_id": str(entry.object_id),
        "action": entry.action,
        "audit_entry_id": entry.pk,
        "reason": entry.reason,
        "actor": {"type": entry.actor_type, "id": entry.actor_id, "label": entry.actor_label},
        "state": entry.after,
        "related_ids": entry.related_ids,
        "related_states": entry.related_after or {},
    }
    webhook_emit(team_id=entry.team_id, spirit_id=entry.spirit_id, event_type=event_type, data=data)


def emit_dream_completed(session) -> None:
    """At the end of a completed dream run (pipeline.dreamer.run._run)."""
    webhook_emit(
        team_id=session.spirit.team_id,
        spirit_id=session.spirit_id,
        event_type="dream.completed",
        data={
            "dream_id": str(session.pk),
            "trigger": session.trigger,
            "status": session.status,
            "started_at": session.started_at,
            "finished_at": session.finished_at,
            "stats": session.stats,
        },
    )


def emit_purge_completed(*, team_id, spirit_id, scope: str, counts: dict, **extra) -> None:
    webhook_emit(
        team_id=team_id,
        spirit_id=spirit_id,
        event_type="purge.completed",
        data={"scope": scope, "deleted": counts, **extra},
    )
