"""Curated memory: memories, knowledge and lessons. Every write is audited on the server, and
takes an optional `reason` that the audit entry keeps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .._core import Call
from ..models import AuditEntry, Knowledge, Lesson, Memory, Page, SourceEvent, StateAsOf
from ._base import Resource, fields


class Curated(Resource):
    """What memories, knowledge and lessons share: get, list, change, delete, restore, history.

    List filters (`list` and `iter` keywords): `spirit_id`, `created_after`, `created_before`,
    `include_deleted`, and per kind: memories `type`, `tier`, `status`, `pinned`, `tag`,
    `occurred_after`, `occurred_before`; knowledge `type`, `source_type`, `current`; lessons
    `status`."""

    path = ""
    model: type = Memory

    def get(self, item_id: str, *, include_deleted: bool = False):
        params = fields(include_deleted=include_deleted or None)
        return self._run(
            Call("GET", f"{self.path}/{item_id}/", params=params, parse=self.model.model_validate)
        )

    def list(self, *, limit: int | None = None, offset: int | None = None, **filters: Any) -> Page:
        return self._page(f"{self.path}/", self.model, _filters(filters), limit, offset)

    def iter(self, *, page_size: int | None = None, **filters: Any):
        """Every item matching the filters, page after page."""
        return self._iter(f"{self.path}/", self.model, _filters(filters), page_size)

    def update(self, item_id: str, *, reason: str | None = None, **changes: Any):
        body = changes | fields(reason=reason)
        return self._run(
            Call("PATCH", f"{self.path}/{item_id}/", body=body, parse=self.model.model_validate)
        )

    def delete(self, item_id: str, *, reason: str | None = None) -> None:
        """Soft-delete (restorable)."""
        return self._run(Call("DELETE", f"{self.path}/{item_id}/", params=fields(reason=reason)))

    def restore(self, item_id: str, *, reason: str | None = None):
        return self._run(
            Call(
                "POST",
                f"{self.path}/{item_id}/restore/",
                body=fields(reason=reason),
                parse=self.model.model_validate,
            )
        )

    def history(
        self, item_id: str, *, limit: int | None = None, offset: int | None = None
    ) -> Page[AuditEntry]:
        """Its audit entries, oldest first."""
        return self._page(f"{self.path}/{item_id}/history/", AuditEntry, None, limit, offset)

    def as_of(self, item_id: str, moment: datetime | str) -> StateAsOf:
        """The item as it was at `moment`, rebuilt from its audit log."""
        return self._run(
            Call(
                "GET",
                f"{self.path}/{item_id}/history/",
                params={"as_of": moment},
                parse=StateAsOf.model_validate,
            )
        )

    def _post(self, item_id: str, operation: str, body: dict[str, Any], parse=None):
        return self._run(
            Call(
                "POST",
                f"{self.path}/{item_id}/{operation}/",
                body=body,
                parse=parse or self.model.model_validate,
            )
        )


def _filters(filters: dict[str, Any]) -> dict[str, Any]:
    if filters.get("include_deleted") is False:
        filters = {k: v for k, v in filters.items() if k != "include_deleted"}
    return {k: v for k, v in filters.items() if v is not None}


class Memories(Curated):
    path = "memories"
    model = Memory

    def create(
        self,
        spirit_id: str,
        content: str,
        *,
        memory_type: str | None = None,
        importance: float | None = None,
        tags: list[str] | None = None,
        event_ids: list[str] | None = None,
        reason: str | None = None,
        **memory: Any,
    ) -> Memory:
        """A memory stated by the caller (`source_type` explicit). `memory` holds the other
        editable fields: `summary`, `subject`, `confidence`, `tier`, `pinned`, `time_start`,
        `time_end`, `expires_at`, `metadata`, `related_ids`..."""
        body = {"spirit_id": spirit_id, "content": content} | fields(
            memory_type=memory_type,
            importance=importance,
            tags=tags,
            event_ids=event_ids,
            reason=reason,
        )
        return self._run(Call("POST", "memories/", body=body | memory, parse=Memory.model_validate))

    def pin(self, memory_id: str, *, reason: str | None = None) -> Memory:
        return self._post(memory_id, "pin", fields(reason=reason))

    def unpin(self, memory_id: str, *, reason: str | None = None) -> Memory:
        return self._post(memory_id, "unpin", fields(reason=reason))

    def archive(self, memory_id: str, *, reason: str | None = None) -> Memory:
        return self._post(memory_id, "archive", fields(reason=reason))

    def dispute(self, memory_id: str, conflicting_id: str, *, reason: str | None = None) -> Memory:
        body = {"conflicting_id": conflicting_id} | fields(reason=reason)
        return self._post(memory_id, "dispute", body)

    def supersede(self, memory_id: str, *, reason: str | None = None, **changes: Any) -> Memory:
        """A new version of the memory; fields left out are copied. Returns the new one."""
        return self._post(memory_id, "supersede", changes | fields(reason=reason))

    def split(
        self, memory_id: str, parts: list[dict[str, Any]], *, reason: str | None = None
    ) -> list[Memory]:
        """Split into at least two parts (each with its `content`); returns the parts."""
        body = {"parts": parts} | fields(reason=reason)
        return self._post(
            memory_id,
            "split",
            body,
            parse=lambda data: [Memory.model_validate(item) for item in data],
        )

    def merge(self, memory_ids: list[str], *, reason: str | None = None, **fields_: Any) -> Memory:
        """Merge memories of one spirit into a new one (the sources become superseded)."""
        body = {"memory_ids": memory_ids} | fields_ | fields(reason=reason)
        return self._run(Call("POST", "memories/merge/", body=body, parse=Memory.model_validate))

    def events(
        self, memory_id: str, *, limit: int | None = None, offset: int | None = None
    ) -> Page[SourceEvent]:
        """The events the memory was made from (its provenance), with link strength."""
        return self._page(f"memories/{memory_id}/events/", SourceEvent, None, limit, offset)


class KnowledgeItems(Curated):
    path = "knowledge"
    model = Knowledge

    def create(
        self,
        spirit_id: str,
        content: str,
        *,
        knowledge_type: str,
        topic: str | None = None,
        confidence: float | None = None,
        memory_ids: list[str] | None = None,
        reason: str | None = None,
        **knowledge: Any,
    ) -> Knowledge:
        """Knowledge of a `knowledge_type`: FACT, CONCEPT, METHOD, PRINCIPLE or EXPERIENCE.
        `knowledge` holds `summary`, `source_type`, `valid_from`."""
        body = {"spirit_id": spirit_id, "content": content} | fields(
            topic=topic,
            knowledge_type=knowledge_type,
            confidence=confidence,
            memory_ids=memory_ids,
            reason=reason,
        )
        return self._run(
            Call("POST", "knowledge/", body=body | knowledge, parse=Knowledge.model_validate)
        )

    def close(
        self,
        knowledge_id: str,
        *,
        valid_to: datetime | str | None = None,
        superseded_by_id: str | None = None,
        reason: str | None = None,
    ) -> Knowledge:
        """It stopped being true (at `valid_to`, default now), maybe replaced by another."""
        body = fields(valid_to=valid_to, superseded_by_id=superseded_by_id, reason=reason)
        return self._post(knowledge_id, "close", body)

    def memories(
        self, knowledge_id: str, *, limit: int | None = None, offset: int | None = None
    ) -> Page[Memory]:
        """The memories it was drawn from."""
        return self._page(f"knowledge/{knowledge_id}/memories/", Memory, None, limit, offset)


class Lessons(Curated):
    path = "lessons"
    model = Lesson

    def create(
        self,
        spirit_id: str,
        statement: str,
        *,
        rationale: str | None = None,
        confidence: float | None = None,
        status: str | None = None,
        memory_ids: list[str] | None = None,
        reason: str | None = None,
    ) -> Lesson:
        body = {"spirit_id": spirit_id, "statement": statement} | fields(
            rationale=rationale,
            confidence=confidence,
            status=status,
            memory_ids=memory_ids,
            reason=reason,
        )
        return self._run(Call("POST", "lessons/", body=body, parse=Lesson.model_validate))

    def memories(
        self, lesson_id: str, *, limit: int | None = None, offset: int | None = None
    ) -> Page[Memory]:
        """The memories it was drawn from."""
        return self._page(f"lessons/{lesson_id}/memories/", Memory, None, limit, offset)
