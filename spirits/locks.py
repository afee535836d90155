"""Every lock on a spirit's data, named for what it guards, and the order they are taken in.

Lock order (a transaction that takes several takes them in this order, so writers never
deadlock one another):

1. The spirit's row, one of:
   - `lock_spirit_row` (FOR UPDATE): the spirit itself changes: soft delete, restore, purge. It
     waits for event writes in flight and blocks new ones.
   - `lock_spirit_events` (FOR NO KEY UPDATE): the spirit's events and sessions change (ingest
     takes the same lock with its UPDATE of last_activity_at, see
     events.services._spirit.spirit_touch_for_ingest; event update, soft delete, restore;
     retention). Event writers of one spirit wait for one another and for 1a.
2. A dream session's row (FOR UPDATE), when a dream runs or is rolled back.
3. `lock_spirit_curation` (a transaction-scoped advisory lock): one curation run of the spirit at
   a time: a dream, a dream rollback, a retention run, a purge.
4. The rows being changed, by primary key: events, then sessions; memories (FOR UPDATE, in pk
   order where several), then knowledge and lessons; the identity.

Background steps that only claim work (enrichment, embedding, synthesis, extraction) take their
rows with SKIP LOCKED and no spirit lock: a row another worker holds is left to it.
"""

from __future__ import annotations

from uuid import UUID

from django.db import connection

from .models import Spirit


def lock_spirit_row(spirit_id: UUID) -> Spirit:
    """Lock the spirit's row FOR UPDATE (live or soft-deleted) and return it fresh."""
    return Spirit.all_objects.select_for_update().get(pk=spirit_id)


def lock_spirit_events(spirit_id: UUID) -> None:
    """Lock the spirit's row FOR NO KEY UPDATE: this transaction writes the spirit's events."""
    list(Spirit.all_objects.select_for_update(no_key=True).filter(pk=spirit_id).values("pk"))


def lock_spirit_curation(spirit_id: UUID) -> None:
    """One curation run of the spirit at a time (released when the transaction ends)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"dream:{spirit_id}"])
