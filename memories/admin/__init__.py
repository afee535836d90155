"""The curation console: memories, knowledge, lessons, identities and the read-only audit log.

Every write goes through memories.services (and so into the audit log); nothing hard-deletes.
"""

from . import audit, dreams, identity, knowledge, lessons, memory

__all__ = ["audit", "dreams", "identity", "knowledge", "lessons", "memory"]
