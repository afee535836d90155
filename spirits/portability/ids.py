"""The importer's map of ids: each id of a document to the copy's new one."""

from __future__ import annotations

import uuid
from typing import Any


class IdMap(dict):
    """{old id: new id}, UUIDs both."""

    def new_id(self, old: uuid.UUID) -> uuid.UUID:
        """The copy's id of `old`; an id that names no row of the document (a dream action's
        memory that a rollback removed) gets a new one too, the same wherever it appears."""
        if old not in self:
            self[old] = uuid.uuid4()
        return self[old]

    def remap(self, value: Any) -> Any:
        """A JSON value with every id of the map in it (as a string, keys too) replaced."""
        if isinstance(value, str):
            try:
                old = uuid.UUID(value)
            except ValueError:
                return value
            return str(self[old]) if old in self else value
        if isinstance(value, list):
            return [self.remap(v) for v in value]
        if isinstance(value, dict):
            return {self.remap(k): self.remap(v) for k, v in value.items()}
        return value


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
