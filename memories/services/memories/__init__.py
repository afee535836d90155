"""Memory services (every write to memories): `writes` acts on one memory, `lineage` across
memories (supersede, merge, split, mark stale). Callers import from this package."""

from .lineage import memory_mark_stale, memory_merge, memory_split, memory_supersede
from .writes import (
    CREATE_FIELDS,
    EDITABLE_FIELDS,
    SETTABLE_STATUSES,
    memory_archive,
    memory_create,
    memory_mark_disputed,
    memory_pin,
    memory_restore,
    memory_soft_delete,
    memory_update,
)

__all__ = [
    "CREATE_FIELDS",
    "EDITABLE_FIELDS",
    "SETTABLE_STATUSES",
    "memory_archive",
    "memory_create",
    "memory_mark_disputed",
    "memory_mark_stale",
    "memory_merge",
    "memory_pin",
    "memory_restore",
    "memory_soft_delete",
    "memory_split",
    "memory_supersede",
    "memory_update",
]
