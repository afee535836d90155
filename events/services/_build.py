"""Turn one item of ingest data into an unsaved, validated Event (no queries)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from elephantasm.ai.tokens import count_tokens
from elephantasm.validators import metadata_problem, text_problem
from events.dedupe import derive_event_key
from events.models import EVENT_RECORDED_FIELDS, Event
from spirits.models import Spirit

INGEST_FIELDS = frozenset(EVENT_RECORDED_FIELDS)
TEXT_FIELDS = ("role", "author", "content", "meta_summary", "session_id", "source_uri")
# Not validated per item: set here, or by the database.
_NOT_CLEANED = ("id", "spirit", "created_at", "updated_at", "deleted_at")

# How far ahead of the server clock an event may be dated (clock skew, time zones).
MAX_FUTURE = timedelta(days=1)


def _problems(event: Event, *, skip: tuple[str, ...]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    try:
        event.clean_fields(exclude=[*_NOT_CLEANED, *skip])
    except ValidationError as exc:
        errors.update(exc.message_dict)

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    for name in TEXT_FIELDS:
        value = getattr(event, name)
        if name not in errors and isinstance(value, str):
            problem = text_problem(value)
            if problem:
                add(name, problem)
    if "content" not in errors:
        limit = settings.EVENT_CONTENT_MAX_CHARS
        if not event.content.strip():
            add("content", "This field may not be blank.")
        elif len(event.content) > limit:
            add("content", f"Ensure this field has no more than {limit} characters.")
    if "metadata" not in errors:
        problem = metadata_problem(event.metadata)
        if problem:
            add("metadata", problem)
    if "occurred_at" not in errors:
        when = event.occurred_at
        if when.utcoffset() is None:
            add("occurred_at", "Include a time zone: naive date-times are ambiguous.")
        else:
            try:
                when.astimezone(UTC)
            except OverflowError:
                add("occurred_at", "Out of range.")
            else:
                if when > timezone.now() + MAX_FUTURE:
                    # A far-future time would pin the spirit's and session's last activity.
                    add("occurred_at", "More than a day in the future; check the clock.")
    return errors


def build_event(
    *, spirit: Spirit, data: Mapping[str, Any], now: datetime, count: bool = True
) -> Event:
    """A validated, unsaved Event with defaults filled in; raises ValidationError (per field).

    Defaults: occurred_at `now` (the server's time, assigned before the dedupe key is derived),
    metadata {}, empty texts, token_count counted with the local tokenizer
    (elephantasm.ai.tokens; with count=False left None for the caller to count in a batch),
    dedupe_key derived when none is given (events.dedupe.derive_event_key).
    """
    unknown = sorted(set(data) - INGEST_FIELDS)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in unknown})
    values = dict(data)
    if values.get("occurred_at") is None:
        values["occurred_at"] = now
    for name in ("role", "author", "meta_summary", "session_id", "source_uri"):
        if values.get(name) is None:
            values[name] = ""
    if values.get("metadata") is None:
        values["metadata"] = {}
    if not values.get("dedupe_key"):
        values["dedupe_key"] = None
    token_count = values.pop("token_count", None)

    event = Event(spirit=spirit, **values)
    if token_count is not None:
        event.token_count = token_count
    errors = _problems(event, skip=() if token_count is not None else ("token_count",))
    if errors:
        raise ValidationError(errors)
    if token_count is None:
        event.token_count = count_tokens(event.content) if count else None
    if event.dedupe_key is None:
        event.dedupe_key = derive_event_key(
            spirit_id=spirit.pk,
            event_type=event.event_type,
            role=event.role,
            session_id=event.session_id,
            content=event.content,
            occurred_at=event.occurred_at,
            source_uri=event.source_uri,
        )
    return event
