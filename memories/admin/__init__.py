"""The curation console: memories, knowledge, lessons, identities, the read-only audit log,
and the spirits' curation actions (dream now, purge).

Every write goes through memories.services (and so into the audit log); nothing hard-deletes.
"""

from . import audit, dreams, identity, knowledge, lessons, memory, spirits

__all__ = ["audit", "dreams", "identity", "knowledge", "lessons", "memory", "spirits"]
