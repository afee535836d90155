"""Every write to events and sessions. Views, admin actions, tasks and other apps call these.

Split by domain: `ingest` (create, bulk), `lifecycle` (update, soft delete, restore, and a PATCH
doing them together), `sessions` (counters, idle sweep).
"""

from .ingest import BulkItemResult, ItemStatus, event_create, events_bulk_create
from .lifecycle import (
    UPDATABLE_FIELDS,
    event_patch,
    event_restore,
    event_soft_delete,
    event_update,
    events_restore_for_spirit,
    events_soft_delete_for_spirit,
)
from .sessions import sessions_mark_idle, sessions_recompute

__all__ = [
    "UPDATABLE_FIELDS",
    "BulkItemResult",
    "ItemStatus",
    "event_create",
    "event_patch",
    "event_restore",
    "event_soft_delete",
    "event_update",
    "events_bulk_create",
    "events_restore_for_spirit",
    "events_soft_delete_for_spirit",
    "sessions_mark_idle",
    "sessions_recompute",
]
