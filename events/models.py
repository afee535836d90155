from __future__ import annotations

import re

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Func, Value
from django.db.models.expressions import RawSQL
from django.utils import timezone
from pgvector.django import VectorField

from elephantasm.models import TEXT_SEARCH_CONFIG, BaseModel, SoftDeleteModel, cosine_hnsw_index
from elephantasm.validators import TEXT_MAX_CHARS, validate_json_object, validate_no_nul
from spirits.models import Spirit


def content_search_vector() -> models.Func:
    """`to_tsvector('english', author || ' ' || content || ' ' || context)`, stored as the
    event's `search_vector` (a generated column, which the GIN index reads). The author is in
    it ("what did Caroline say about..." finds Caroline's turns), and the turn before it in its
    session (`context`, which the Cortex writes: a reply is found by the words of what it
    answers). An immutable `||`, as a generated column's expression must be."""
    text = models.Func(
        models.F("author"),
        Value(" "),
        models.F("content"),
        Value(" "),
        models.F("context"),
        # keyword arguments in the order the migration writer sorts them: the expression then
        # compares equal to the migration's, and the autodetector sees no change
        arg_joiner=" || ",
        template="(%(expressions)s)",
        output_field=models.TextField(),
    )
    return models.Func(
        # A literal, not SearchConfig (which compares equal to no other instance: the migration
        # autodetector saw the index changed on every run).
        RawSQL(f"'{TEXT_SEARCH_CONFIG}'::regconfig", ()),  # noqa: S611 - a constant
        text,
        function="to_tsvector",
        output_field=SearchVectorField(),
    )


class EventType(models.TextChoices):
    MESSAGE_IN = "message.in", "Message in"
    MESSAGE_OUT = "message.out", "Message out"
    TOOL_CALL = "tool.call", "Tool call"
    TOOL_RESULT = "tool.result", "Tool result"
    SYSTEM = "system", "System"


# event_type is extensible: the five known types above, or a custom one (an integration's
# "calendar.invite.accepted"), stored as is in a 100-character column, no migration needed.
# A custom type is dotted lower case: a dot is required, so a typo of a known type ("mesage",
# "sytem") is refused rather than recorded as a new type; the known types' namespaces
# ("message.", "tool.", "system.") are reserved for the same reason ("message.inn", "tool.resutl").
EVENT_TYPE_MAX_CHARS = 100
CUSTOM_EVENT_TYPE = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+")
RESERVED_EVENT_TYPE_PREFIXES = tuple(
    sorted({value.split(".")[0] + "." for value in EventType.values})
)
EVENT_TYPE_RULE = (
    f"one of {', '.join(EventType.values)}, or a custom type: a dotted lower-case name such as "
    f"calendar.invite.accepted (letters, digits and _, at least one dot, at most "
    f"{EVENT_TYPE_MAX_CHARS} characters, not starting with "
    f"{', '.join(RESERVED_EVENT_TYPE_PREFIXES)})"
)


def is_custom_event_type(value: object) -> bool:
    """Whether `value` is a valid custom event type (not one of the known five)."""
    return (
        isinstance(value, str)
        and len(value) <= EVENT_TYPE_MAX_CHARS
        and CUSTOM_EVENT_TYPE.fullmatch(value) is not None
        and not value.startswith(RESERVED_EVENT_TYPE_PREFIXES)
    )


def is_event_type(value: object) -> bool:
    """Whether `value` may be an event's type: a known one or a valid custom one."""
    return value in EventType.values or is_custom_event_type(value)


def event_type_problem(value: object) -> str | None:
    """Why `value` is not a valid event type, or None."""
    if is_event_type(value):
        return None
    if isinstance(value, str) and len(value) > EVENT_TYPE_MAX_CHARS:
        return f"Ensure this field has no more than {EVENT_TYPE_MAX_CHARS} characters."
    return f"Not a valid event type: use {EVENT_TYPE_RULE}."


def validate_event_type(value: str) -> None:
    if isinstance(value, str) and len(value) > EVENT_TYPE_MAX_CHARS:
        return  # the field's max_length says so
    problem = event_type_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_event_type")


def event_type_label(value: str) -> str:
    """A known type's label ("Message in"), a custom type as it is."""
    return EventType(value).label if value in EventType.values else value


# The event's fields, written once: what a caller records (every input path and output list builds
# on this tuple, in this order), then what the service keeps about it.
EVENT_RECORDED_FIELDS = (
    "event_type",
    "role",
    "author",
    "content",
    "meta_summary",
    "occurred_at",
    "session_id",
    "metadata",
    "source_uri",
    "dedupe_key",
    "importance_score",
    "token_count",
)
EVENT_BOOKKEEPING_FIELDS = ("enriched_at", "created_at", "updated_at", "deleted_at")
# What describes an event where it is quoted (a memory's provenance): no bookkeeping.
EVENT_QUOTED_FIELDS = tuple(
    f
    for f in EVENT_RECORDED_FIELDS
    if f not in ("metadata", "dedupe_key", "importance_score", "token_count")
)


ARRIVAL_SEQUENCE = "events_event_arrival_seq"
NEXT_ARRIVAL = Func(
    Value(ARRIVAL_SEQUENCE), function="nextval", output_field=models.BigIntegerField()
)
# Oldest first / newest first, ties on occurred_at broken by arrival.
ARRIVAL_ORDER = ("occurred_at", "arrival")
NEWEST_FIRST = ("-occurred_at", "-arrival")


class Event(SoftDeleteModel):
    """Something a spirit lived through: a message, a tool call or result, a system note."""

    spirit = models.ForeignKey(Spirit, on_delete=models.CASCADE, related_name="events")
    # Not `choices`: custom types are valid too (EVENT_TYPE_RULE, checked by the validator).
    event_type = models.CharField(max_length=EVENT_TYPE_MAX_CHARS, validators=[validate_event_type])
    role = models.CharField(max_length=64, blank=True, validators=[validate_no_nul])
    author = models.CharField(max_length=255, blank=True, validators=[validate_no_nul])
    content = models.TextField(validators=[validate_no_nul])
    meta_summary = models.TextField(
        blank=True, validators=[validate_no_nul, MaxLengthValidator(TEXT_MAX_CHARS)]
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    session_id = models.CharField(max_length=255, blank=True, validators=[validate_no_nul])
    metadata = models.JSONField(
        default=dict, blank=True, validators=[validate_json_object, validate_no_nul]
    )
    source_uri = models.CharField(max_length=2048, blank=True, validators=[validate_no_nul])
    dedupe_key = models.CharField(  # noqa: DJ001 - NULL means "no key" for the partial unique index
        max_length=255, null=True, blank=True, validators=[validate_no_nul]
    )
    importance_score = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    token_count = models.PositiveIntegerField(default=0)
    # Set by the Cortex (pipeline.cortex) after commit; NULL means "pending". The vector lives in
    # EventEmbedding: ingest's multi-row INSERT stays on plain types, which Django sends as
    # UNNEST arrays (a vector column makes it fall back to one placeholder per value: 2x slower).
    enriched_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set by synthesis (pipeline.synthesis) when the event went into a memory; NULL = pending.
    synthesized_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set by the Cortex: the start of the turn before this one in its session, searched by text
    # with the event (content_search_vector). Measured on a long-conversation benchmark, BM25
    # over a turn with the one before it: recall_all@10 0.52 -> 0.59 (docs/decisions.md).
    context = models.TextField(blank=True, default="", editable=False)
    # What full-text search reads (content_search_vector), computed by PostgreSQL on every write
    # (the Cortex's `context` too). Stored, not only in the index's expression: a search reads
    # the tsvector of every candidate to score it, and computing it per row read made a pack
    # of a spirit with 100,000 events 38 ms instead of 16 (docs/decisions.md).
    search_vector = models.GeneratedField(
        expression=content_search_vector(), output_field=SearchVectorField(), db_persist=True
    )
    # The order events arrived in (ingest numbers a batch in its input order): what breaks ties
    # on occurred_at everywhere (lists, session replay, synthesis, packs). See ARRIVAL_ORDER.
    arrival = models.BigIntegerField(editable=False, db_default=NEXT_ARRIVAL)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["spirit", "dedupe_key"],
                condition=models.Q(dedupe_key__isnull=False),
                name="event_spirit_dedupe_key_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(importance_score__isnull=True)
                | models.Q(importance_score__gte=0.0, importance_score__lte=1.0),
                name="event_importance_score_range",
            ),
            models.CheckConstraint(condition=~models.Q(content=""), name="event_content_not_empty"),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="event_search_gin"),
            models.Index(fields=["spirit", "-occurred_at"], name="event_spirit_occurred_idx"),
            models.Index(
                fields=["spirit", "session_id", "occurred_at"], name="event_spirit_session_idx"
            ),
            models.Index(
                fields=["spirit", "event_type", "-occurred_at"], name="event_spirit_type_idx"
            ),
            # ?metadata={...} (JSON containment, `@>`). jsonb_path_ops, not the default
            # jsonb_ops: it indexes hashes of whole paths to values, so the index is smaller and
            # faster for `@>`, the only operator the API filters with; it cannot serve key
            # existence (`?`, `?|`, `?&`), which nothing here asks.
            GinIndex(fields=["metadata"], name="event_metadata_gin", opclasses=["jsonb_path_ops"]),
            # The enrichment sweep: pending events only, oldest first.
            models.Index(
                fields=["created_at"],
                condition=models.Q(enriched_at__isnull=True),
                name="event_pending_enrich_idx",
            ),
            # Synthesis: a spirit's live events not yet in a memory, oldest first.
            models.Index(
                fields=["spirit", "occurred_at"],
                condition=models.Q(synthesized_at__isnull=True, deleted_at__isnull=True),
                name="event_pending_synth_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type}: {self.content[:60]}"

    def get_event_type_display(self) -> str:
        """Its type's label: a known type's ("Message in"), a custom type as it is."""
        return event_type_label(self.event_type)


class EventEmbedding(models.Model):
    """An event's vector (of its summary and content), written by the Cortex."""

    event = models.OneToOneField(
        Event, primary_key=True, on_delete=models.CASCADE, related_name="vector"
    )
    embedding = VectorField(dimensions=384)
    model = models.CharField(max_length=255)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            cosine_hnsw_index("event_embedding_hnsw"),
        ]

    def __str__(self) -> str:
        return f"embedding of {self.event_id} ({self.model})"


class SessionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    IDLE = "idle", "Idle"
    CLOSED = "closed", "Closed"


class Session(BaseModel):
    """A conversation: the events of one spirit sharing a session_id, with exact running totals."""

    spirit = models.ForeignKey(Spirit, on_delete=models.CASCADE, related_name="sessions")
    session_id = models.CharField(max_length=255)
    title = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=16, choices=SessionStatus.choices, default=SessionStatus.ACTIVE
    )
    event_count = models.PositiveIntegerField(default=0)
    token_count = models.PositiveBigIntegerField(default=0)
    input_token_count = models.PositiveBigIntegerField(default=0)
    output_token_count = models.PositiveBigIntegerField(default=0)
    first_event_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["spirit", "session_id"], name="session_spirit_session_id_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["spirit", "-last_event_at"], name="session_spirit_last_idx"),
            # The idle sweep: active sessions by last event time, without scanning the others.
            models.Index(
                fields=["last_event_at"],
                condition=models.Q(status="active"),
                name="session_active_last_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.session_id
