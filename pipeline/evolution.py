"""Identity evolution: the identity revised from the spirit's knowledge and lessons, by rules.

Offline, no language model. `identity_due` is the gate, `evolve_identity` the revision; the
revision goes through `identity_revise` (actor `Actor.system("evolution")`), so it is versioned
and audited, with the reason ("evolved from 3 knowledge items and 2 lessons") and the ids of the
new items that triggered it as the entry's `related_ids` (its sources).

THE GATE. New items are the live knowledge that is currently valid (not closed) and the live
lessons (any status) created or changed since the identity's last revision (`updated_at` of the
identity; every item when the spirit has no identity yet). Due when their count reaches the
spirit's `identity.revise_after` (default 5) and `identity.enabled` (default true). `force`
ignores the count, never `enabled`.

THE RULES. The document is rebuilt from ALL the spirit's current knowledge and lessons, not only
the new ones:

- principles: the statements of the active lessons with confidence >= 0.5, most confident first
  (then oldest), at most 20, deduplicated by normalised text;
- values: one per live, current PRINCIPLE knowledge item, most confident first, at most 20:
  name = its topic (else its summary, else its content), description = its content, weight = its
  confidence rounded to 2 places; deduplicated by normalised name;
- relationships: one entry for the user when the spirit has current FACT knowledge about the user
  (content starting "The user", as extraction writes it): name = the value of the "name" fact
  ("The user's name is Ada." gives "Ada"), else "the user"; kind "user"; notes = the contents of
  the other user facts, ordered location, employer, "preference:*", "tool:*", then the rest
  (each group by topic), joined by spaces and cut to the schema's length at a whole fact;
- communication_style: `verbosity` and `formality` from the most confident active lesson (then the
  newest) that has a cue word: brief/concise/short/succinct/terse -> "terse",
  detailed/thorough/verbose/long/elaborate -> "detailed", casual/informal/relaxed -> "casual",
  formal/professional -> "formal"; a lesson starting with "never", "don't" or "do not" flips the
  cue (terse <-> detailed, casual <-> formal). `tone` and `notes` are not derived.
- essence, purpose and current_arc: never touched (no good rule; they are the curators').

WHAT CURATORS WROTE IS KEPT. "Evolved" content is what revisions by the evolution actor added
or changed and no revision since took out or changed (replayed from the audit log); everything
else in the document is the curators' (before any evolution: all of it).
- Lists: the curators' entries are kept first, in their order; the derived entries follow,
  skipping those equal to a curator entry (principles by normalised text, values and
  relationships by normalised name). Evolved entries the rules no longer derive (a retired
  lesson, a changed name) are dropped; curators' entries never are.
- communication_style: a key the evolution does not own is the curators' and is kept; the
  others follow the rules.
- An evolved entry a curator edits, or removes and puts back, becomes theirs. To remove an
  evolved principle for good, retire its lesson (a removed entry comes back while its source
  stands).

LIMITS. Lists are cut to the schema's maxItems (curators' entries first) and strings to its
maxLength, deterministically. An unchanged document makes no revision (`identity_revise` skips).

A race with extraction committing during an evolution is harmless: an item it misses is not
counted as new later, but each revision reads every current item anyway.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

from django.db import transaction

from memories.identity_schema import EMPTY_IDENTITY, IDENTITY_SCHEMA
from memories.models import AuditAction, AuditEntry, Identity, Knowledge, KnowledgeType, Lesson
from memories.models.lesson import LessonStatus
from memories.services.identity import identity_get_or_create, identity_revise
from spirits.models import Spirit
from teams.actors import Actor

from .extraction.rules import normalise

ACTOR = Actor.system("evolution")
MAX_PRINCIPLES_FROM_LESSONS = 20
MAX_VALUES_FROM_KNOWLEDGE = 20
PRINCIPLE_MIN_CONFIDENCE = 0.5
USER_KIND = "user"
DEFAULT_USER_NAME = "the user"

_props = IDENTITY_SCHEMA["properties"]
MAX_PRINCIPLES = _props["principles"]["maxItems"]
MAX_VALUES = _props["values"]["maxItems"]
MAX_RELATIONSHIPS = _props["relationships"]["maxItems"]
TEXT_MAX = _props["principles"]["items"]["maxLength"]
SHORT_MAX = _props["values"]["items"]["properties"]["name"]["maxLength"]

_NAME_CONTENT = re.compile(r"^the user'?s name is (?P<name>.+?)\.?$", re.IGNORECASE)
_NEGATION = re.compile(r"^(?:please )?(?:never|dont|do not)\b")
_STYLE_CUES: dict[str, tuple[tuple[str, re.Pattern[str]], ...]] = {
    # Checked in order: "informal" before "formal".
    "verbosity": (
        ("terse", re.compile(r"\b(?:brief|briefly|concise|concisely|short|succinct|terse)\b")),
        ("detailed", re.compile(r"\b(?:detailed|detail|thorough|verbose|long|elaborate)\b")),
    ),
    "formality": (
        ("casual", re.compile(r"\b(?:casual|casually|informal|informally|relaxed)\b")),
        ("formal", re.compile(r"\b(?:formal|formally|professional|professionally)\b")),
    ),
}
_OPPOSITE = {"terse": "detailed", "detailed": "terse", "casual": "formal", "formal": "casual"}


# --- The gate --------------------------------------------------------------------------------


def _new_ids(spirit: Spirit, since) -> tuple[list[UUID], list[UUID]]:
    knowledge = Knowledge.objects.filter(spirit=spirit, valid_to__isnull=True)
    lessons = Lesson.objects.filter(spirit=spirit)
    if since is not None:
        knowledge = knowledge.filter(updated_at__gt=since)
        lessons = lessons.filter(updated_at__gt=since)
    order = ("created_at", "id")
    return (
        list(knowledge.order_by(*order).values_list("id", flat=True)),
        list(lessons.order_by(*order).values_list("id", flat=True)),
    )


def _gate(spirit: Spirit, since) -> tuple[bool, list[UUID], list[UUID]]:
    cfg = spirit.effective_config["identity"]
    knowledge_ids, lesson_ids = _new_ids(spirit, since)
    due = cfg["enabled"] and len(knowledge_ids) + len(lesson_ids) >= cfg["revise_after"]
    return due, knowledge_ids, lesson_ids


def identity_due(spirit: Spirit) -> tuple[bool, list[UUID], list[UUID]]:
    """(due, new knowledge ids, new lesson ids): see THE GATE in the module docstring."""
    identity = Identity.objects.filter(spirit=spirit).only("updated_at").first()
    return _gate(spirit, None if identity is None else identity.updated_at)


# --- The rules -------------------------------------------------------------------------------


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rstrip()


def derived_principles(lessons: Iterable[Lesson]) -> list[str]:
    result: list[str] = []
    seen: set[str] = set()
    for lesson in lessons:
        key = normalise(lesson.statement)
        if key and key not in seen:
            seen.add(key)
            result.append(_cut(lesson.statement, TEXT_MAX))
        if len(result) == MAX_PRINCIPLES_FROM_LESSONS:
            break
    return result


def derived_values(principles: Iterable[Knowledge]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in principles:
        name = _cut(item.topic or item.summary or item.content, SHORT_MAX)
        key = normalise(name)
        if not key or key in seen:
            continue
        seen.add(key)
        result.append(
            {
                "name": name,
                "description": _cut(item.content, TEXT_MAX),
                "weight": round(item.confidence, 2),
            }
        )
        if len(result) == MAX_VALUES_FROM_KNOWLEDGE:
            break
    return result


def _fact_rank(topic: str) -> tuple[int, str]:
    if topic == "location":
        return (0, topic)
    if topic == "employer":
        return (1, topic)
    if topic.startswith("preference:"):
        return (2, topic)
    if topic.startswith("tool:"):
        return (3, topic)
    return (4, topic)


def derived_relationships(facts: Iterable[Knowledge]) -> list[dict[str, Any]]:
    about_user = [f for f in facts if f.content.lower().startswith("the user")]
    if not about_user:
        return []
    name = DEFAULT_USER_NAME
    others = []
    for fact in about_user:
        match = _NAME_CONTENT.match(fact.content.strip()) if fact.topic == "name" else None
        if match:
            name = match["name"].strip()
        else:
            others.append(fact)
    others.sort(key=lambda f: (*_fact_rank(f.topic), f.content))
    notes = ""
    for fact in others:
        candidate = f"{notes} {fact.content}".strip()
        if len(candidate) > TEXT_MAX:
            break
        notes = candidate
    entry: dict[str, Any] = {"name": _cut(name, SHORT_MAX), "kind": USER_KIND}
    if notes:
        entry["notes"] = notes
    return [entry]


def derived_style(lessons: Iterable[Lesson]) -> dict[str, str]:
    """`lessons` most confident first, then newest; the first with a cue decides each key."""
    style: dict[str, str] = {}
    for lesson in lessons:
        text = normalise(lesson.statement)
        negated = bool(_NEGATION.match(text))
        for key, cues in _STYLE_CUES.items():
            if key in style:
                continue
            for value, pattern in cues:
                if pattern.search(text):
                    style[key] = _OPPOSITE[value] if negated else value
                    break
    return style


def _merge(
    current: list, evolved: list, derived: list, key: Callable[[Any], str], limit: int
) -> list:
    """Curators' entries (those the evolution does not own) first, then the derived ones not
    equal by `key` to a curator entry; at most `limit`."""
    curated = [entry for entry in current if entry not in evolved]
    keys = {key(entry) for entry in curated}
    merged = curated + [entry for entry in derived if key(entry) not in keys]
    return merged[:limit]


def _name_key(entry: Any) -> str:
    return normalise(entry.get("name", "")) if isinstance(entry, dict) else normalise(str(entry))


def _text_key(entry: Any) -> str:
    return normalise(entry) if isinstance(entry, str) else repr(entry)


def build_document(
    *, spirit: Spirit, current: dict[str, Any], evolved: dict[str, Any]
) -> dict[str, Any]:
    """The revised document: `current` with the rules applied (module docstring)."""
    lessons = list(
        Lesson.objects.filter(
            spirit=spirit, status=LessonStatus.ACTIVE, confidence__gte=PRINCIPLE_MIN_CONFIDENCE
        ).order_by("-confidence", "created_at", "id")
    )
    style_lessons = list(
        Lesson.objects.filter(spirit=spirit, status=LessonStatus.ACTIVE).order_by(
            "-confidence", "-created_at", "-id"
        )
    )
    knowledge = Knowledge.objects.filter(spirit=spirit, valid_to__isnull=True)
    principles_k = knowledge.filter(knowledge_type=KnowledgeType.PRINCIPLE).order_by(
        "-confidence", "created_at", "id"
    )
    facts = knowledge.filter(knowledge_type=KnowledgeType.FACT).order_by("created_at", "id")

    document = {**EMPTY_IDENTITY, **current}
    document["principles"] = _merge(
        list(current.get("principles") or []),
        list(evolved.get("principles") or []),
        derived_principles(lessons),
        _text_key,
        MAX_PRINCIPLES,
    )
    document["values"] = _merge(
        list(current.get("values") or []),
        list(evolved.get("values") or []),
        derived_values(principles_k),
        _name_key,
        MAX_VALUES,
    )
    document["relationships"] = _merge(
        list(current.get("relationships") or []),
        list(evolved.get("relationships") or []),
        derived_relationships(facts),
        _name_key,
        MAX_RELATIONSHIPS,
    )
    style = dict(current.get("communication_style") or {})
    style_evolved = evolved.get("communication_style") or {}
    for key in _STYLE_CUES:
        if key in style and style[key] != style_evolved.get(key):
            continue  # the curators'
        style.pop(key, None)
    for key, value in derived_style(style_lessons).items():
        style.setdefault(key, value)
    document["communication_style"] = style
    return document


_LISTS = ("principles", "values", "relationships")


def _key(entry: Any) -> str:
    return json.dumps(entry, sort_keys=True)


def _doc(state: dict | None) -> dict[str, Any]:
    document = (state or {}).get("document")
    return document if isinstance(document, dict) else {}


def evolved_content(identity: Identity) -> dict[str, Any]:
    """What the evolution owns in the current document, replayed from the audit log: the list
    entries and communication_style keys a revision by the evolution actor added or changed and
    no revision since removed or changed. An entry a curator removed and put back is theirs."""
    owned: dict[str, set[str]] = {key: set() for key in _LISTS}
    owned_style: dict[str, Any] = {}
    revisions = (
        AuditEntry.objects.filter(
            object_type="identity", object_id=identity.pk, action=AuditAction.REVISE
        )
        .order_by("created_at", "id")
        .values_list("actor_type", "actor_id", "before", "after")
    )
    for kind, name, before, after in revisions.iterator():
        old, new = _doc(before), _doc(after)
        by_evolution = (kind, name) == (ACTOR.type, ACTOR.id)
        for key in _LISTS:
            now = {_key(e) for e in new.get(key) or []}
            owned[key] &= now
            if by_evolution:
                owned[key] |= now - {_key(e) for e in old.get(key) or []}
        old_style = old.get("communication_style") or {}
        new_style = new.get("communication_style") or {}
        owned_style = {k: v for k, v in owned_style.items() if new_style.get(k, ...) == v}
        if by_evolution:
            owned_style.update({k: v for k, v in new_style.items() if old_style.get(k, ...) != v})
    current = identity.document
    result: dict[str, Any] = {
        key: [e for e in current.get(key) or [] if _key(e) in owned[key]] for key in _LISTS
    }
    result["communication_style"] = owned_style
    return result


# --- The revision ----------------------------------------------------------------------------


def _reason(knowledge_ids: list, lesson_ids: list) -> str:
    k, n = len(knowledge_ids), len(lesson_ids)
    items = "item" if k == 1 else "items"
    lessons = "lesson" if n == 1 else "lessons"
    return f"evolved from {k} knowledge {items} and {n} {lessons}"


@transaction.atomic
def evolve_identity(*, spirit_id: UUID | str, force: bool = False) -> Identity | None:
    """Revise the spirit's identity by the rules when it is due (or `force`, which skips the
    count, not `enabled`). Returns the identity (unchanged when the rules change nothing), or
    None when not due. The identity row is locked, so concurrent runs revise once."""
    spirit = Spirit.objects.get(pk=spirit_id)
    if not spirit.effective_config["identity"]["enabled"] or not spirit.is_curated:
        return None
    if not (force or identity_due(spirit)[0]):
        return None
    # Locked, and the gate re-checked under the lock: another run may have just revised it.
    identity = Identity._base_manager.select_for_update().filter(spirit=spirit).first()
    since = None if identity is None else identity.updated_at
    due, knowledge_ids, lesson_ids = _gate(spirit, since)
    if not (due or force):
        return None
    if identity is None:
        identity = identity_get_or_create(spirit=spirit, actor=ACTOR)
    document = build_document(
        spirit=spirit, current=identity.document, evolved=evolved_content(identity)
    )
    return identity_revise(
        spirit=spirit,
        document=document,
        actor=ACTOR,
        reason=_reason(knowledge_ids, lesson_ids),
        related_ids=[*knowledge_ids, *lesson_ids],
    )
