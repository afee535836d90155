"""Typed results: the API's JSON shapes as pydantic models.

Every model allows extra fields (`extra="allow"`), so a field a newer server adds never breaks
an older client: it is kept, readable as an attribute and in `model_dump()`. Ids are strings (as
sent by the API), times are timezone-aware datetimes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class Page(Model, Generic[T]):
    """One page of a list: `count` is the total, `results` this page's items."""

    count: int
    next: str | None = None
    previous: str | None = None
    results: list[T] = Field(default_factory=list)


# --- spirits, events, sessions -------------------------------------------------------------------


class Spirit(Model):
    id: str
    team: str | None = None
    name: str = ""
    description: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)
    status: str = "active"
    config: dict[str, Any] = Field(default_factory=dict)
    effective_config: dict[str, Any] = Field(default_factory=dict)
    last_activity_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None


class SpiritStats(Model):
    events_by_type: dict[str, int] = Field(default_factory=dict)
    event_count: int = 0
    session_count: int = 0
    first_activity_at: datetime | None = None
    last_activity_at: datetime | None = None


class SynthesisQueued(Model):
    spirit_id: str
    pending_events: int = 0


class PurgeResult(Model):
    spirit_id: str
    deleted: dict[str, int] = Field(default_factory=dict)
    audit_scrubbed: int = 0


class PipelineStatus(Model):
    spirit_id: str
    generated_at: datetime | None = None
    steps: dict[str, dict[str, Any]] = Field(default_factory=dict)
    language_model: dict[str, Any] = Field(default_factory=dict)
    failures: list[dict[str, Any]] = Field(default_factory=list)


class Event(Model):
    id: str
    spirit_id: str | None = None
    event_type: str = ""
    role: str = ""
    author: str = ""
    content: str = ""
    meta_summary: str = ""
    occurred_at: datetime | None = None
    session_id: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)
    source_uri: str = ""
    dedupe_key: str | None = None
    importance_score: float | None = None
    token_count: int | None = None
    enriched_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None


class SourceEvent(Event):
    """An event a memory was made from, with how strongly it supports the memory."""

    link_strength: float | None = None


class BulkItemResult(Model):
    """One item of a bulk call: `created` (the new event's id), `duplicate` (the existing
    event's id) or `error` (the error envelope's `error` object)."""

    index: int
    status: str
    id: str | None = None
    error: dict[str, Any] | None = None


class BulkResult(Model):
    results: list[BulkItemResult] = Field(default_factory=list)
    created: int = 0
    duplicates: int = 0
    errors: int = 0


class Session(Model):
    id: str
    spirit_id: str | None = None
    session_id: str = ""
    title: str = ""
    status: str = ""
    event_count: int = 0
    token_count: int = 0
    input_token_count: int = 0
    output_token_count: int = 0
    first_event_at: datetime | None = None
    last_event_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


# --- curated memory ------------------------------------------------------------------------------


class Memory(Model):
    id: str
    spirit_id: str | None = None
    memory_type: str = ""
    content: str = ""
    summary: str = ""
    subject: str = ""
    importance: float | None = None
    confidence: float | None = None
    tier: str = ""
    status: str = ""
    pinned: bool = False
    version: int | None = None
    superseded_by_id: str | None = None
    contradicts: list[str] = Field(default_factory=list)
    related_ids: list[str] = Field(default_factory=list)
    source_type: str = ""
    extraction_model: str = ""
    time_start: datetime | None = None
    time_end: datetime | None = None
    decay: float | None = None
    access_count: int = 0
    last_accessed_at: datetime | None = None
    expires_at: datetime | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None


class LinkedMemory(Memory):
    """A memory made from an event, with how strongly the event supports it."""

    link_strength: float | None = None


class Knowledge(Model):
    id: str
    spirit_id: str | None = None
    knowledge_type: str = ""
    topic: str = ""
    content: str = ""
    summary: str = ""
    confidence: float | None = None
    source_type: str = ""
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    is_current: bool = True
    superseded_by_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None


class Lesson(Model):
    id: str
    spirit_id: str | None = None
    statement: str = ""
    rationale: str = ""
    confidence: float | None = None
    status: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None


class AuditEntry(Model):
    """One change of a curated object: who, what, why, and its state before and after."""

    id: int
    action: str = ""
    object_type: str = ""
    object_id: str | None = None
    actor_type: str = ""
    actor_id: str = ""
    actor_label: str = ""
    reason: str = ""
    related_ids: list[str] = Field(default_factory=list)
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    created_at: datetime | None = None


class StateAsOf(Model):
    """An object as it was at a moment (`history(..., as_of=...)`)."""

    as_of: datetime
    state: dict[str, Any] = Field(default_factory=dict)


class Identity(Model):
    """The spirit's self-model; version 0 with the empty document until first written."""

    spirit_id: str | None = None
    version: int = 0
    document: dict[str, Any] = Field(default_factory=dict)
    updated_at: datetime | None = None


class DreamSession(Model):
    id: str
    spirit_id: str | None = None
    trigger: str = ""
    status: str = ""
    requested_by: dict[str, Any] = Field(default_factory=dict)
    stats: dict[str, Any] = Field(default_factory=dict)
    action_count: int = 0
    error: str = ""
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    rolled_back_at: datetime | None = None
    rolled_back_by: str = ""


class DreamAction(Model):
    id: int
    memory_id: str | None = None
    kind: str = ""
    before: dict[str, Any] = Field(default_factory=dict)
    after: dict[str, Any] = Field(default_factory=dict)
    reasoning: str = ""
    related_ids: list[str] = Field(default_factory=list)


# --- search and packs ----------------------------------------------------------------------------


class SearchReasons(Model):
    """Where a hit came from; null for a list it was not in."""

    vector_rank: int | None = None
    vector_similarity: float | None = None
    text_rank: int | None = None
    text_score: float | None = None


class SearchHit(Model):
    kind: str
    id: str
    score: float = 0.0
    reasons: SearchReasons = Field(default_factory=SearchReasons)
    text: str = ""
    summary: str = ""
    subject: str = ""
    type: str | None = None
    tier: str | None = None
    status: str | None = None
    session_id: str | None = None
    tags: list[str] = Field(default_factory=list)
    importance: float | None = None
    occurred_at: datetime | None = None
    created_at: datetime | None = None


class SearchResult(Model):
    """The whole answer of a search: the hits in `results`, and how they were found."""

    query: str = ""
    kinds: list[str] = Field(default_factory=list)
    weights: dict[str, float] = Field(default_factory=dict)
    embedding_model: str | None = None
    text_query: str | None = None
    results: list[SearchHit] = Field(default_factory=list)


class PackItem(Model):
    layer: str
    kind: str = ""
    id: str | None = None
    score: float | None = None
    reasons: dict[str, Any] = Field(default_factory=dict)
    tokens: int = 0
    text: str = ""


class LayerBudget(Model):
    allotted: int = 0
    used: int = 0


class Pack(Model):
    """A context pack: `text` goes in the prompt; it has `token_count` tokens (never more than
    `max_tokens`); `items` are its lines, each with its layer, score and reasons."""

    id: str | None = None
    spirit_id: str | None = None
    preset: str = ""
    query: str | None = None
    session_id: str | None = None
    max_tokens: int = 0
    token_count: int = 0
    settings: dict[str, Any] = Field(default_factory=dict)
    budget: dict[str, LayerBudget] = Field(default_factory=dict)
    items: list[PackItem] = Field(default_factory=list)
    text: str = ""
    created_at: datetime | None = None
