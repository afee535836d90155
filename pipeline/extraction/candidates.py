"""What extraction finds before it writes: facts and lessons, with the subject they are about and
the moment they were said."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

LESSON_CONFIDENCE = 0.6
USER = "the user"


@dataclass(frozen=True, slots=True)
class FactCandidate:
    topic: str  # the slot a contradicting fact fills ("location", "likes:coffee", "zofia:diet")
    content: str  # as written into knowledge ("The user lives in Amsterdam.")
    confidence: float
    value: str = ""  # the value alone ("Amsterdam")
    kind: str = "FACT"  # a KnowledgeType: FACT, METHOD, EXPERIENCE...
    ends: bool = False  # the fact stopped being true: close the current one, write nothing new
    at: datetime | None = None  # when it was said (valid_from, or valid_to when it ends)
    subject: str = USER

    def said_at(self, at: datetime | None) -> FactCandidate:
        return replace(self, at=at)


@dataclass(frozen=True, slots=True)
class LessonCandidate:
    statement: str
    confidence: float = LESSON_CONFIDENCE
    rationale: str = ""  # the memory is named when empty


@dataclass(frozen=True, slots=True)
class Speaker:
    """Who says a clause: how to name them in a fact, and the prefix of their topics."""

    display: str = "The user"  # "The user", "Zofia"
    key: str = ""  # "" for the user, "zofia:" for others

    @property
    def possessive(self) -> str:
        return f"{self.display}'s"

    def topic(self, name: str) -> str:
        return f"{self.key}{name}"[:255]


THE_USER = Speaker()


def speaker_named(name: str | None) -> Speaker:
    if not name or name.lower() in (USER, "user", "me", "i"):
        return THE_USER
    clean = " ".join(name.split())
    return Speaker(display=clean, key=f"{clean.lower()}:")


@dataclass(slots=True)
class Found:
    """What a clause yielded, in order."""

    facts: list[FactCandidate] = field(default_factory=list)

    def add(self, fact: FactCandidate | None) -> None:
        if fact is None or not fact.content or not (fact.value or fact.ends):
            return
        key = (fact.topic, fact.content, fact.ends)
        if any((f.topic, f.content, f.ends) == key for f in self.facts):
            return
        self.facts.append(fact)
