"""Events (what a spirit lived through) and sessions (the events of one conversation)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from .._core import Call, Flow, with_dedupe_key
from ..errors import DuplicateEventError
from ..models import BulkResult, Event, LinkedMemory, Page, Session
from ._base import Resource, fields


def event_list_params(
    spirit_id: str | None,
    event_type: str | None,
    session_id: str | None,
    min_importance: float | None,
    occurred_after: datetime | str | None,
    occurred_before: datetime | str | None,
    include_deleted: bool,
) -> dict[str, Any]:
    return fields(
        spirit_id=spirit_id,
        event_type=event_type,
        session_id=session_id,
        min_importance=min_importance,
        occurred_after=occurred_after,
        occurred_before=occurred_before,
        include_deleted=include_deleted or None,
    )


class Events(Resource):
    def create(
        self,
        spirit_id: str,
        event_type: str,
        content: str,
        *,
        ignore_duplicates: bool = False,
        **event: Any,
    ) -> Event:
        """Record one event of the spirit.

        `event` holds the other fields: `session_id`, `role`, `author`, `occurred_at`,
        `dedupe_key`, `source_uri`, `metadata`, `meta_summary`, `importance_score`,
        `token_count`. An event with neither `dedupe_key` nor `occurred_at` gets a random
        `dedupe_key` (the server would date it by its own clock, so a retry would be a new
        event), so the client may retry it after a 5xx or a broken connection without
        recording it twice.

        A 409 `duplicate_event` raises DuplicateEventError (with `existing_id`), except with
        `ignore_duplicates=True`, or when it answers a retry (the first attempt recorded it):
        then the existing event is fetched and returned."""
        body = with_dedupe_key(
            {"spirit_id": spirit_id, "event_type": event_type, "content": content, **event}
        )
        return self._run(self._create(body, ignore_duplicates))

    def _create(self, body: dict[str, Any], ignore_duplicates: bool) -> Flow:
        try:
            return (
                yield Call(
                    "POST", "events/", body=body, parse=Event.model_validate, replayable=True
                )
            )
        except DuplicateEventError as exc:
            if exc.existing_id is None or not (ignore_duplicates or exc.after_retry):
                raise
            params = fields(include_deleted=exc.existing_deleted or None)
            return (
                yield Call(
                    "GET", f"events/{exc.existing_id}/", params=params, parse=Event.model_validate
                )
            )

    def bulk(self, spirit_id: str, events: Iterable[Mapping[str, Any]]) -> BulkResult:
        """Record up to 1,000 events of one spirit in one call.

        Each item gets a result in input order: `created`, `duplicate` (with the existing id) or
        `error` (its validation error; the other items are still recorded). Items with neither
        `dedupe_key` nor `occurred_at` get a random `dedupe_key`, so a retried call records
        nothing twice: after a retry, what the first attempt recorded comes back as
        `duplicate`."""
        body = {"spirit_id": spirit_id, "events": [with_dedupe_key(e) for e in events]}
        return self._run(
            Call(
                "POST",
                "events/bulk/",
                body=body,
                parse=BulkResult.model_validate,
                replayable=True,
            )
        )

    def get(self, event_id: str, *, include_deleted: bool = False) -> Event:
        params = fields(include_deleted=include_deleted or None)
        return self._run(
            Call("GET", f"events/{event_id}/", params=params, parse=Event.model_validate)
        )

    def list(
        self,
        *,
        spirit_id: str | None = None,
        event_type: str | None = None,
        session_id: str | None = None,
        min_importance: float | None = None,
        occurred_after: datetime | str | None = None,
        occurred_before: datetime | str | None = None,
        include_deleted: bool = False,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[Event]:
        """One page of events, newest first (one session's: oldest first)."""
        params = event_list_params(
            spirit_id,
            event_type,
            session_id,
            min_importance,
            occurred_after,
            occurred_before,
            include_deleted,
        )
        return self._page("events/", Event, params, limit, offset)

    def iter(
        self,
        *,
        spirit_id: str | None = None,
        event_type: str | None = None,
        session_id: str | None = None,
        min_importance: float | None = None,
        occurred_after: datetime | str | None = None,
        occurred_before: datetime | str | None = None,
        include_deleted: bool = False,
        page_size: int | None = None,
    ):
        """Every event matching the filters, page after page."""
        params = event_list_params(
            spirit_id,
            event_type,
            session_id,
            min_importance,
            occurred_after,
            occurred_before,
            include_deleted,
        )
        return self._iter("events/", Event, params, page_size)

    def count(self, **filters: Any) -> int:
        """How many events match the filters of `list` (`spirit_id`, `event_type`...)."""
        params = {k: v for k, v in filters.items() if v is not None}
        return self._run(
            Call("GET", "events/count/", params=params, parse=lambda data: int(data["count"]))
        )

    def update(self, event_id: str, **changes: Any) -> Event:
        """Change the curation fields: `meta_summary`, `importance_score`, `metadata`."""
        return self._run(
            Call("PATCH", f"events/{event_id}/", body=changes, parse=Event.model_validate)
        )

    def delete(self, event_id: str) -> None:
        return self._run(Call("DELETE", f"events/{event_id}/"))

    def restore(self, event_id: str) -> Event:
        return self._run(Call("POST", f"events/{event_id}/restore/", parse=Event.model_validate))

    def memories(
        self, event_id: str, *, limit: int | None = None, offset: int | None = None
    ) -> Page[LinkedMemory]:
        """The memories made from this event, with link strength."""
        return self._page(f"events/{event_id}/memories/", LinkedMemory, None, limit, offset)


class Sessions(Resource):
    def get(self, session_pk: str) -> Session:
        """A session by its id (the `id` of a listed session, not the agent's `session_id`)."""
        return self._run(Call("GET", f"sessions/{session_pk}/", parse=Session.model_validate))

    def list(
        self,
        *,
        spirit_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[Session]:
        """One page of sessions, most recently active first."""
        params = fields(spirit_id=spirit_id, status=status)
        return self._page("sessions/", Session, params, limit, offset)

    def iter(self, *, spirit_id: str | None = None, status: str | None = None, page_size=None):
        return self._iter(
            "sessions/", Session, fields(spirit_id=spirit_id, status=status), page_size
        )
