"""Domain errors of the events app (rendered by elephantasm.api.exceptions)."""

from __future__ import annotations

from uuid import UUID

from elephantasm.api.errors import Conflict, ErrorCode


class DuplicateEvent(Conflict):
    """The spirit already has an event with this dedupe key (given or derived): HTTP 409."""

    code = ErrorCode.DUPLICATE_EVENT

    def __init__(self, *, existing_id: UUID, existing_deleted: bool = False):
        message = "An event with this dedupe_key already exists for this spirit."
        if existing_deleted:
            message += " It is soft-deleted: restore it (POST /api/v1/events/{id}/restore/)."
        super().__init__(
            message,
            details={"existing_id": str(existing_id), "existing_deleted": existing_deleted},
        )
        self.existing_id = existing_id
