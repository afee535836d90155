"""What a search asks for (`SearchQuery`), its checks, and which kinds its filters can match.

Filters narrow: an item passes only if it has the attribute a filter names and the value is one
asked for. So a filter keeps only the kinds that have its attribute (`tiers` and `tags`: memories;
`statuses`: memories and lessons; `session_id`: events and memories; `types`: the kinds owning one
of the given types); the time range applies to every kind.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from django.utils import timezone

from elephantasm.api.errors import ValidationFailed
from events.models import EventType, is_custom_event_type
from memories.models import KnowledgeType, LessonStatus, MemoryStatus, MemoryTier, MemoryType

KINDS: tuple[str, ...] = ("events", "memories", "knowledge", "lessons")
HIT_KIND = {"events": "event", "memories": "memory", "knowledge": "knowledge", "lessons": "lesson"}
TYPES: dict[str, tuple[str, ...]] = {
    "events": tuple(EventType.values),
    "memories": tuple(MemoryType.values),
    "knowledge": tuple(KnowledgeType.values),
}
STATUSES: dict[str, tuple[str, ...]] = {
    "memories": tuple(MemoryStatus.values),
    "lessons": tuple(LessonStatus.values),
}
# Known values; events also have custom types (events.models.EVENT_TYPE_RULE): see owns_type.
ALL_TYPES = tuple(dict.fromkeys(t for types in TYPES.values() for t in types))
ALL_STATUSES = tuple(dict.fromkeys(s for statuses in STATUSES.values() for s in statuses))
TIERS = tuple(MemoryTier.values)
# Which kinds each attribute filter can match.
APPLIES_TO: dict[str, frozenset[str]] = {
    "tiers": frozenset({"memories"}),
    "tags": frozenset({"memories"}),
    "statuses": frozenset(STATUSES),
    "session_id": frozenset({"events", "memories"}),
}
TEXT_MATCHES = ("any", "all")
K_MAX = 100
QUERY_MAX_CHARS = 1000
RRF_K = 60
RRF_K_MAX = 1000


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A search of one spirit's memory. Weights left None come from the spirit's `retrieval`
    config; a weight of 0 skips that list entirely (text-only or vector-only search)."""

    text: str
    k: int = 10
    kinds: tuple[str, ...] = KINDS
    types: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    session_id: str | None = None
    occurred_after: datetime | None = None
    occurred_before: datetime | None = None
    include_archived: bool = False
    vector_weight: float | None = None
    text_weight: float | None = None
    rrf_k: int = RRF_K
    # "any": BM25 over the query's words (`bm25`), made for questions; "all":
    # web-search syntax, every word ("quoted phrases", -not, or). Chosen by `make eval`.
    text_match: str = "any"

    def validated(self) -> SearchQuery:
        """This query with times made aware (naive = UTC); ValidationFailed naming each field."""
        problems = self._problems()
        if problems:
            raise ValidationFailed(
                "Invalid input: " + ", ".join(sorted(problems)) + ".", details=problems
            )
        after, before = _aware(self.occurred_after), _aware(self.occurred_before)
        if after and before and after > before:
            raise ValidationFailed(
                "Invalid input: occurred_after.",
                details={"occurred_after": ["Must not be later than occurred_before."]},
            )
        kinds = self.searchable_kinds()
        if not kinds:
            raise ValidationFailed(
                "Invalid input: no kind matches all these filters.",
                details={"non_field_errors": ["No kind searched has every attribute filtered."]},
            )
        return replace(self, text=self.text.strip(), occurred_after=after, occurred_before=before)

    def searchable_kinds(self) -> tuple[str, ...]:
        """The requested kinds every given filter can match, in the order of KINDS."""
        kinds = [k for k in KINDS if k in self.kinds]
        for name, applies in APPLIES_TO.items():
            if getattr(self, name):
                kinds = [k for k in kinds if k in applies]
        if self.types:
            kinds = [k for k in kinds if any(owns_type(k, t) for t in self.types)]
        if self.statuses:
            kinds = [k for k in kinds if set(STATUSES.get(k, ())) & set(self.statuses)]
        return tuple(kinds)

    def _problems(self) -> dict[str, list[str]]:
        problems: dict[str, list[str]] = {}
        text = self.text.strip() if isinstance(self.text, str) else ""
        if not text:
            problems["query"] = ["Must not be empty."]
        elif len(text) > QUERY_MAX_CHARS:
            problems["query"] = [f"At most {QUERY_MAX_CHARS} characters."]
        if isinstance(self.k, bool) or not isinstance(self.k, int) or not 1 <= self.k <= K_MAX:
            problems["k"] = [f"An integer from 1 to {K_MAX}."]
        unknown = [k for k in self.kinds if k not in KINDS]
        if unknown or not self.kinds:
            problems["kinds"] = [f"Choose among {', '.join(KINDS)}; got {unknown or 'none'}."]
        kinds = set(self.kinds) & set(KINDS)
        wrong = [t for t in self.types if not any(owns_type(k, t) for k in kinds)]
        if wrong:
            problems["types"] = [
                f"Not a value of the kinds searched: {', '.join(map(str, wrong))}."
            ]
        _check_values(problems, "statuses", self.statuses, {k: STATUSES.get(k, ()) for k in kinds})
        _check_values(problems, "tiers", self.tiers, {"memories": TIERS} if kinds else {})
        for name in ("tiers", "tags", "session_id", "statuses"):
            if getattr(self, name) and not kinds & APPLIES_TO[name] and name not in problems:
                owners = " and ".join(sorted(APPLIES_TO[name]))
                problems[name] = [f"Applies to {owners}, not among the kinds searched."]
        for name in ("vector_weight", "text_weight"):
            weight = getattr(self, name)
            if weight is not None and not 0 <= weight <= 1:
                problems[name] = ["A number from 0 to 1."]
        if self.vector_weight == 0 and self.text_weight == 0:
            problems["non_field_errors"] = ["vector_weight and text_weight cannot both be 0."]
        if not 1 <= self.rrf_k <= RRF_K_MAX:
            problems["rrf_k"] = [f"An integer from 1 to {RRF_K_MAX}."]
        if self.text_match not in TEXT_MATCHES:
            problems["text_match"] = [f"One of {', '.join(TEXT_MATCHES)}."]
        return problems

    def types_of(self, kind: str) -> list[str]:
        return [t for t in self.types if owns_type(kind, t)]

    def statuses_of(self, kind: str) -> list[str]:
        return [s for s in self.statuses if s in STATUSES.get(kind, ())]


def owns_type(kind: str, value: str) -> bool:
    """Whether items of `kind` can have the type `value`: one of its known types, or for events
    a custom type (a dotted lower-case name, which no memory or knowledge type is)."""
    return value in TYPES.get(kind, ()) or (kind == "events" and is_custom_event_type(value))


def _check_values(problems, name: str, values, allowed_by_kind: dict[str, tuple[str, ...]]):
    allowed = {v for values_ in allowed_by_kind.values() for v in values_}
    wrong = [v for v in values if v not in allowed]
    if wrong:
        problems[name] = [f"Not a value of the kinds searched: {', '.join(map(str, wrong))}."]


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or timezone.is_aware(moment):
        return moment
    return moment.replace(tzinfo=UTC)
