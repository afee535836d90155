"""The export format: its name and version, its sections in order, and the fields of each.

A document is one JSON object:

    {"format": "elephantasm.spirit", "version": 1, "exported_at": "...", "embeddings": false,
     "spirit": {...}, "sessions": [...], "events": [...], "memories": [...], "knowledge": [...],
     "lessons": [...], "identity": {"current": {...} | null, "versions": [...]}, "dreams": [...]}

Sections come in this order so that a reader going front to back has seen what a row names
before it names it: events before the memories made from them, memories before the knowledge
and lessons drawn from them (memories may name each other in any order). Every object keeps its
original id as `id`; references are those ids. Each section's fields are declared here once:
the exporter writes them, the validator checks them and the importer reads them.

A change that an older importer could not read (a field added, removed or changed) bumps
VERSION; the importer refuses versions it does not know (`unsupported_format`).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models

from events.models import SessionStatus
from memories.models import (
    AuditAction,
    DreamActionKind,
    DreamStatus,
    DreamTrigger,
    KnowledgeType,
    LessonStatus,
    MemorySource,
    MemoryStatus,
    MemoryTier,
    MemoryType,
)
from memories.models.base import EMBEDDING_DIMENSIONS
from memories.models.knowledge import KnowledgeSource
from spirits.models import SpiritStatus

FORMAT = "elephantasm.spirit"
VERSION = 1
# The top-level keys, in the order they are written.
HEADER = ("format", "version", "exported_at", "embeddings")
SECTIONS = (
    "spirit",
    "sessions",
    "events",
    "memories",
    "knowledge",
    "lessons",
    "identity",
    "dreams",
)
# The sections that hold rows with ids others may name (a reference's target).
ID_SECTIONS = ("sessions", "events", "memories", "knowledge", "lessons", "dreams")

VECTOR_DIMENSIONS = EMBEDDING_DIMENSIONS
INT_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1


@dataclass(frozen=True)
class Field:
    """One field of a section's objects.

    kind: uuid, string (max_length; blank allowed unless `blank=False`), datetime, unit (a
    number in [0, 1]), count (an integer >= 0, at most `maximum`), bool, object (a JSON object),
    json (any JSON value), choice (one of `choices`), ref (the id of an object of section
    `target`), refs (a list of them, no repeats), strings (a list of strings of `max_length`;
    no repeats if `unique`), vector (VECTOR_DIMENSIONS numbers), records (a list of objects of
    `spec`), record (one object of `spec`).
    """

    kind: str
    null: bool = False
    required: bool = True
    blank: bool = True
    max_length: int | None = None
    maximum: int = INT_MAX
    choices: tuple[str, ...] = ()
    target: str = ""
    spec: dict[str, Field] = field(default_factory=dict)
    # Whether the row's model has it under this name (else the exporter and importer handle it:
    # references, links, tags, embeddings, nested rows).
    model: bool = True
    # strings: whether a repeated value is refused (tags are a set).
    unique: bool = False


def _choices(enum: type[models.TextChoices]) -> Field:
    return Field("choice", choices=tuple(enum.values))


UUID = Field("uuid")
TEXT = Field("string")
REQUIRED_TEXT = Field("string", blank=False)
WHEN = Field("datetime")
WHEN_OR_NULL = Field("datetime", null=True)
UNIT = Field("unit")
COUNT = Field("count")
OBJECT = Field("object")


def string(max_length: int, *, blank: bool = True) -> Field:
    return Field("string", max_length=max_length, blank=blank)


EMBEDDING = Field(
    "record",
    required=False,
    model=False,
    spec={"model": string(255, blank=False), "vector": Field("vector")},
)
MEMORY_IDS = Field("refs", target="memories", model=False)

SPIRIT: dict[str, Field] = {
    "id": UUID,
    "name": string(255, blank=False),
    "description": TEXT,
    "metadata": OBJECT,
    "status": _choices(SpiritStatus),
    "config": OBJECT,
    "last_activity_at": WHEN_OR_NULL,
    "created_at": WHEN,
    "updated_at": WHEN,
}

SESSION: dict[str, Field] = {
    "id": UUID,
    "session_id": string(255, blank=False),
    "title": string(255),
    "status": _choices(SessionStatus),
    "event_count": COUNT,
    "token_count": Field("count", maximum=BIGINT_MAX),
    "input_token_count": Field("count", maximum=BIGINT_MAX),
    "output_token_count": Field("count", maximum=BIGINT_MAX),
    "first_event_at": WHEN_OR_NULL,
    "last_event_at": WHEN_OR_NULL,
    "created_at": WHEN,
    "updated_at": WHEN,
}

EVENT: dict[str, Field] = {
    "id": UUID,
    # A known type or an integration's own ("calendar.invite.accepted"): the model checks it.
    "event_type": string(100, blank=False),
    "role": string(64),
    "author": string(255),
    "content": REQUIRED_TEXT,
    "meta_summary": TEXT,
    "occurred_at": WHEN,
    "session_id": string(255),
    "metadata": OBJECT,
    "source_uri": string(2048),
    "dedupe_key": Field("string", null=True, max_length=255),
    "importance_score": Field("unit", null=True),
    "token_count": COUNT,
    "context": TEXT,
    "enriched_at": WHEN_OR_NULL,
    "synthesized_at": WHEN_OR_NULL,
    "created_at": WHEN,
    "updated_at": WHEN,
    "deleted_at": WHEN_OR_NULL,
    "embedding": EMBEDDING,
}

PROVENANCE: dict[str, Field] = {
    "event": Field("ref", target="events"),
    "link_strength": UNIT,
}

MEMORY: dict[str, Field] = {
    "id": UUID,
    "memory_type": _choices(MemoryType),
    "content": REQUIRED_TEXT,
    "summary": TEXT,
    "subject": string(255),
    "importance": UNIT,
    "confidence": UNIT,
    "tier": _choices(MemoryTier),
    "status": _choices(MemoryStatus),
    "pinned": Field("bool"),
    "version": COUNT,
    "source_type": _choices(MemorySource),
    "extraction_model": string(255),
    "time_start": WHEN_OR_NULL,
    "time_end": WHEN_OR_NULL,
    "decay": UNIT,
    "access_count": COUNT,
    "last_accessed_at": WHEN_OR_NULL,
    "expires_at": WHEN_OR_NULL,
    "extracted_at": WHEN_OR_NULL,
    "metadata": OBJECT,
    "created_at": WHEN,
    "updated_at": WHEN,
    "deleted_at": WHEN_OR_NULL,
    "superseded_by": Field("ref", null=True, target="memories", model=False),
    "tags": Field("strings", max_length=64, unique=True, model=False),
    "events": Field("records", spec=PROVENANCE, model=False),
    "related_to": MEMORY_IDS,
    "contradicts": MEMORY_IDS,
    "embedding": EMBEDDING,
}

KNOWLEDGE: dict[str, Field] = {
    "id": UUID,
    "knowledge_type": _choices(KnowledgeType),
    "topic": string(255),
    "content": REQUIRED_TEXT,
    "summary": TEXT,
    "confidence": UNIT,
    "source_type": _choices(KnowledgeSource),
    "valid_from": WHEN_OR_NULL,
    "valid_to": WHEN_OR_NULL,
    "superseded_by": Field("ref", null=True, target="knowledge", model=False),
    "memories": MEMORY_IDS,
    "created_at": WHEN,
    "updated_at": WHEN,
    "deleted_at": WHEN_OR_NULL,
    "embedding": EMBEDDING,
}

LESSON: dict[str, Field] = {
    "id": UUID,
    "statement": REQUIRED_TEXT,
    "rationale": TEXT,
    "confidence": UNIT,
    "status": _choices(LessonStatus),
    "memories": MEMORY_IDS,
    "created_at": WHEN,
    "updated_at": WHEN,
    "deleted_at": WHEN_OR_NULL,
    "embedding": EMBEDDING,
}

# One revision of the identity: an audit entry of it (the state before and after, who, why).
IDENTITY_VERSION: dict[str, Field] = {
    "action": _choices(AuditAction),
    "before": Field("json", null=True),
    "after": Field("json", null=True),
    "actor_type": string(16, blank=False),
    "actor_id": string(64),
    "actor_label": string(255),
    "reason": TEXT,
    "related_ids": Field("strings"),
    "created_at": WHEN,
}

IDENTITY_CURRENT: dict[str, Field] = {
    "id": UUID,
    "document": OBJECT,
    "version": COUNT,
    "created_at": WHEN,
    "updated_at": WHEN,
}

IDENTITY: dict[str, Field] = {
    "current": Field("record", null=True, spec=IDENTITY_CURRENT),
    "versions": Field("records", spec=IDENTITY_VERSION),
}

DREAM_ACTION: dict[str, Field] = {
    "memory_id": UUID,
    "kind": _choices(DreamActionKind),
    "before": OBJECT,
    "after": OBJECT,
    "reasoning": TEXT,
    "related_ids": Field("strings"),
    "created_at": WHEN,
}

DREAM: dict[str, Field] = {
    "id": UUID,
    "trigger": _choices(DreamTrigger),
    "status": _choices(DreamStatus),
    "actor_type": string(16, blank=False),
    "actor_id": string(64),
    "actor_label": string(255),
    "started_at": WHEN_OR_NULL,
    "finished_at": WHEN_OR_NULL,
    "stats": OBJECT,
    "error": TEXT,
    "rolled_back_at": WHEN_OR_NULL,
    "rolled_back_by": string(255),
    "created_at": WHEN,
    "updated_at": WHEN,
    "actions": Field("records", spec=DREAM_ACTION, model=False),
}

# The spec of each list section's rows (spirit and identity are single objects).
ROWS: dict[str, dict[str, Field]] = {
    "sessions": SESSION,
    "events": EVENT,
    "memories": MEMORY,
    "knowledge": KNOWLEDGE,
    "lessons": LESSON,
    "dreams": DREAM,
}


def plain_fields(spec: dict[str, Field]) -> tuple[str, ...]:
    """The fields a row's model has under the same name: what the exporter reads with getattr
    and the importer passes to the model."""
    return tuple(name for name, f in spec.items() if f.model)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()  # every microsecond: a round trip keeps times exactly
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "tolist"):  # a pgvector/numpy vector
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> str:
    """One value of the document as compact JSON (UTF-8 text, times with microseconds)."""
    return json.dumps(value, default=_default, ensure_ascii=False, separators=(",", ":"))
