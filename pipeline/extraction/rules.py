"""Extraction by rules: the facts and lessons what people said states, offline.

What is read (`utterances`): for a memory synthesized from events, what the *people* in them said
(events with the role "user" or "human", or of type message.in), each with its speaker (the
event's author, else "the user") and the moment it was said; for any other memory, its content,
said at the memory's time (time_end, else when it was created).

How (`facts_in`): the text is split into sentences, then into clauses (at ";", dashes, and at
commas or "and"/"but"/"so" that start a new statement: "I'm leaving Adyen, joining Mollie").
A clause that is a question, or hypothetical ("if I moved to Spain", "should I…", "I'm thinking
about…"), states nothing. Every finder of `patterns` and `plans` reads every other clause, so a
fact is found anywhere in a sentence and in casual register ("Tomasz here", "over at Allegro",
"fyi my partner Zofia is gluten intolerant"). What a clause says about a named person close to
the speaker ("my partner Zofia is gluten intolerant") is read again as that person's clause, and
a sentence about someone in the third person ("The user lives in Paris", "Zofia is vegan") is
read as if they said it (`pipeline.person`).

Each fact has a `topic` key — the slot a contradicting fact fills: one per person for name,
location, hometown, employer, job, school, field, degree, alma_mater, age, birthday, diet,
partner, spouse, vehicle, children; one per value for likes:<x>, dislikes:<x>, hobby:<x>,
language:<x>, allergy:<x>, avoids:<x>, health:<x>, tool:<x>, pet:<name>, child:<name>,
plan:<where or what> (a plan's time changes replace it), preference:<slot>; an unnamed relative's
doings by relation and verb (sister:lives). Facts about someone else are keyed
"<name>:<topic>". A fact that stopped being true ("not vegetarian anymore", "I left Adyen", "we
broke up") is an *ending*: it closes the current fact of its topic (writing).

LESSON candidates: a sentence with a normative cue — it starts (after an optional "please") with
"always", "never", "don't", "do not", "remember to", "make sure" or "next time", or it contains
"should" — that is no question and states no fact; confidence 0.6. Candidates below the spirit's
`extraction.min_confidence` are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from events.models import ARRIVAL_ORDER, Event
from memories.models import Memory

from ..person import as_said_by_subject
from . import body, plans, tastes, work  # noqa: F401 - body and work register their finders
from .candidates import (
    THE_USER,
    USER,
    FactCandidate,
    Found,
    LessonCandidate,
    Speaker,
    speaker_named,
)
from .lexicon import HYPOTHETICAL
from .patterns import FINDERS, GREETING_FROM, GREW_THERE, HERE_NOW, last_place
from .values import SENTENCE_SPLIT, clean_value, cut, titled

__all__ = [
    "FactCandidate",
    "LessonCandidate",
    "Utterance",
    "candidates",
    "clean_value",
    "fact_candidate",
    "facts_in",
    "lesson_candidate",
    "normalise",
    "sentences",
    "source_text",
    "utterances",
]

VALUE_MAX_CHARS = 80
PEOPLE_ROLES = ("user", "human")

_USER_LINE = re.compile(r"^\s*user\s*:\s*", re.IGNORECASE)
_CLAUSE_SPLIT = re.compile(
    r"\s*(?:;|\s[-–—]\s|\.\.\.|…)\s*"
    r"|,\s*(?=(?:and\s+|but\s+|so\s+|plus\s+|also\s+|though\s+|btw\s+|anyway\s+|oh\s+|well\s+)?"
    r"(?:i\b|i'm\b|im\b|ive\b|i've\b|we\b|we're\b|he\b|she\b|he's\b|she's\b|joining\b|leaving\b|doing\b|taking\b|playing\b|training\b|now\b|since\b|"
    r"because\b|cause\b|cuz\b|which\b|btw\b|fyi\b|anyway\b|lol\b|haha\b|oh\b|still\b|just\b))"
    r"|\s+(?=(?:but|so|plus)\s+(?:i|i'm|im|we|we're|my|our)\b"
    r"|and\s+(?:i|i'm|im|we|we're|my|our)\b(?!\s+(?:are|were|have been)\b))"
    r"|,\s*(?=(?:is|are|do|does|can|could|would|will|should|any|what|how|why)\s+"
    r"(?:you|it|that|this|there|i|we|insurance|the)\b)",
    re.IGNORECASE,
)
_QUESTION_START = re.compile(
    r"^(?:what|where|when|why|how|who|which|whats|what's|do|does|did|can|could|would|should|is|"
    r"are|was|were|will|shall|any|anyone|have you|got any|wanna|want to)\b",
    re.IGNORECASE,
)
_HYPOTHETICAL = re.compile("|".join(HYPOTHETICAL), re.IGNORECASE)
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|im|me|my|mine|we|our|us)\b", re.IGNORECASE)
_UNAPOSTROPHED = "im:I'm ive:I've dont:don't doesnt:doesn't cant:can't wont:won't isnt:isn't"
_CASUAL = [
    *((re.compile(rf"\b{w}\b", re.I), s) for w, s in re.findall(r"(\w+):(\S+)", _UNAPOSTROPHED)),
    (
        re.compile(r"\bwere\s+(?=moving|going|flying|heading|off|travelling|traveling)", re.I),
        "we're ",
    ),
    (re.compile(r"\bi\b"), "I"),
    (re.compile(r"[’‘]"), "'"),
    (re.compile(r"\bI'm\b", re.I), "I am"),
    (re.compile(r"\bI've\b", re.I), "I have"),
    (re.compile(r"\bI'll\b", re.I), "I will"),
    (re.compile(r"\bI'd\b", re.I), "I would"),
    (re.compile(r"\bwe're\b", re.I), "we are"),
    (re.compile(r"\bwe've\b", re.I), "we have"),
]


def _elided_subject(match: re.Match) -> str:
    verb, pre = match["verb"], match["pre"]
    return f"{pre}I am {verb}" if verb.lower().endswith("ing") else f"{pre}I {verb}"


_ELIDED = re.compile(
    r"^(?P<pre>(?:(?:yeah|and|so|but|also|oh|ok|well|just|recently|finally|now|currently|still|officially)\s+)*)(?P<verb>moved|relocated|gave|"
    r"started|joined|got|left|quit|graduated|turned|became|live|living|work|working|moving|"
    r"leaving|joining|studying|speak|doing|taking)\b",
    re.IGNORECASE,
)
LESSON_CUE = re.compile(
    r"^(?:please )?(?:always|never|dont|do not|remember to|make sure|next time)\b|\bshould\b"
)


@dataclass(frozen=True, slots=True)
class Utterance:
    text: str
    speaker: Speaker = THE_USER
    at: datetime | None = None


def normalise(text: str) -> str:
    """Lowercase, punctuation dropped (apostrophes too), whitespace collapsed."""
    text = text.lower().replace("'", "").replace("\u2019", "")
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE_SPLIT.split(text) if s and s.strip()]


def casual(text: str) -> str:
    """Casual spellings made regular ("im" -> "I am", "dont" -> "don't")."""
    for pattern, replacement in _CASUAL:
        text = pattern.sub(replacement, text)
    return text


def clauses(sentence: str) -> list[str]:
    return [c.strip(" ,") for c in _CLAUSE_SPLIT.split(sentence) if c and c.strip(" ,")]


def _states_nothing(clause: str) -> bool:
    stripped = clause.strip()
    if stripped.endswith("?") or (
        _QUESTION_START.match(stripped) and not stripped.endswith(("!", "."))
    ):
        return True
    return bool(_HYPOTHETICAL.search(stripped))


def facts_in(
    text: str,
    speaker: Speaker = THE_USER,
    at: datetime | None = None,
    context: dict | None = None,
) -> list[FactCandidate]:
    """Every fact `text` states (in order), said by `speaker` at `at`. `context` carries, from one
    utterance to the next, the person last named, whom "he" or "she" then means."""
    context = {} if context is None else context
    found = Found()
    for sentence in sentences(casual(text)):
        before = len(found.facts)
        _read(sentence, speaker, found, context)
        if (
            len(found.facts) == before
            and speaker is THE_USER
            and not _FIRST_PERSON.search(sentence)
        ):
            subject, said = as_said_by_subject(sentence)  # "Zofia is vegan", "The user lives in…"
            if subject is not None:
                _read(said, speaker_named(subject), found)
        _remember_person(found, context)
    if not any(f.topic.endswith("location") for f in found.facts) and (
        (greeting := GREETING_FROM.search(text)) and HERE_NOW.search(text)
    ):  # "hallo from Heidelberg!!! i live here now"
        place = titled(cut(greeting["rest"], max_words=3, proper=True))
        if place:
            found.add(FactCandidate("location", f"{speaker.display} lives in {place}.", 0.7, place))
    if (named := _NEW_PARTNER.search(text)) and not any(f.topic == "partner" for f in found.facts):
        name = named["name"]  # "I've met someone. his name is Kwame"
        found.add(FactCandidate("partner", f"{speaker.possessive} partner is {name}.", 0.7, name))
        context["person"] = name
    for sentence in sentences(casual(text)):  # "home in Lagos, I grew up there"
        grew = GREW_THERE.search(sentence)
        if grew and (place := last_place(sentence[: grew.start()])):
            found.add(FactCandidate("hometown", f"{speaker.display} is from {place}.", 0.7, place))
    if (named := _NAMED_IT.search(text)) and any(
        ":pet:" in f":{f.topic}" and "called" not in f.content for f in found.facts
    ):  # "we got a puppy. Elsa named him Kanelbulle"
        name = named["name"]
        content = f"{speaker.display} has a pet called {name}."
        found.add(FactCandidate(f"pet:{name.lower()}", content, 0.7, name))
    facts = [f.said_at(at) for f in found.facts if len(f.value) <= VALUE_MAX_CHARS]
    if any(":pet:" in f":{f.topic}" and "called" in f.content for f in facts):
        # "we adopted a dog… named her Tlayuda": the pet by its name, not "a dog" too
        facts = [f for f in facts if not (":pet:" in f":{f.topic}" and "called" not in f.content)]
    return facts


_NEW_PARTNER = re.compile(
    r"\b(?:met someone|seeing someone|dating someone|new (?:boyfriend|girlfriend|partner))\b"
    r".{0,80}?\b(?:his|her|their) name is (?P<name>(?-i:[A-Z])\w+)",
    re.IGNORECASE | re.DOTALL,
)
_NAMED_IT = re.compile(r"\bnamed\s+(?:him|her|it)\s+(?P<name>(?-i:[A-Z])\w+)", re.IGNORECASE)
PEOPLE_TOPICS = ("partner", "spouse", "child", "sibling", "parent", "friend")
_PRONOUN = re.compile(
    r"^(?P<pronoun>he|she)(?P<rest>'s\b|\s+(?:is|was|has|had|works|worked|lives|lived|"
    r"loves|likes|studies|just|got|turned|started|moved|became|can't|doesn't|plays|"
    r"speaks)\b)",
    re.IGNORECASE,
)


def _resolve_pronoun(sentence: str, context: dict) -> str:
    """ "He's a physio at Salford Royal" -> "Kwame is a physio…" when Kwame was named last."""
    person = context.get("person")
    match = _PRONOUN.match(sentence)
    if not person or match is None:
        return sentence
    rest = " is" if match["rest"].lower() == "'s" else match["rest"]
    return f"{person}{rest}{sentence[match.end() :]}"


def _remember_person(found: Found, context: dict) -> None:
    """The person named last in what was found so far: whom "he" or "she" means next (and every
    person named, so a later sentence about them by name points "she" at them too)."""
    people = context.setdefault("people", set())
    for fact in found.facts:
        if (person := _person_of(fact)) and (
            fact.subject != USER or fact.topic.split(":")[0] in PEOPLE_TOPICS
        ):
            people.add(person)
    for fact in reversed(found.facts):
        if fact.subject != USER or fact.topic.split(":")[0] in PEOPLE_TOPICS:
            if person := _person_of(fact):
                context["person"] = person
            return


def _person_of(fact: FactCandidate) -> str | None:
    if fact.subject != USER:
        return fact.subject
    return fact.value if fact.value[:1].isupper() else None


def _read(sentence: str, who: Speaker, found: Found, context: dict | None = None) -> None:
    for clause in clauses(sentence):
        if context is not None:
            _remember_person(found, context)
        if context is not None and who is THE_USER:
            resolved = _resolve_pronoun(clause, context)
            if resolved != clause:  # "she lives in Dublin now": the person named last
                subject, said = as_said_by_subject(resolved)
                if subject is not None:
                    _read(said, speaker_named(subject), found)
                    continue
        if _states_nothing(clause):
            if not _HYPOTHETICAL.search(clause):  # "can you write a card for my wife Ana?"
                plans.find_people(clause, who, found)
            tastes.find_possessions(clause, who, found)  # "should I sell my Volvo?": one is had
            continue
        if who is THE_USER and not _FIRST_PERSON.search(clause):
            subject, said = as_said_by_subject(clause)  # "Arjun accepted the RBC offer"
            if subject is not None and subject != "the user":
                if context is not None and subject in context.get("people", ()):
                    context["person"] = subject  # "Adaeze's coming too, she lives in Dublin"
                for find in FINDERS:
                    find(said, speaker_named(subject), found)
                plans.find_people(clause, who, found)  # "Bamse died": the user's dog
                continue
        clause = _ELIDED.sub(_elided_subject, clause, count=1)  # "just moved to Oslo" (I elided)
        for find in FINDERS:
            find(clause, who, found)
        plans.find_about_others(clause, who, found)


def fact_candidate(sentence: str) -> FactCandidate | None:
    """The first fact a sentence states, or None."""
    found = facts_in(sentence)
    return next((f for f in found if not f.ends), None)


def lesson_candidate(sentence: str) -> LessonCandidate | None:
    """A LESSON when the sentence carries a normative cue (see the module docstring)."""
    if sentence.rstrip().endswith("?") or not LESSON_CUE.search(normalise(sentence)):
        return None
    statement = clean_value(sentence)
    if not statement:
        return None
    return LessonCandidate(statement=statement[0].upper() + statement[1:] + ".")


def utterances(memory: Memory) -> list[Utterance]:
    """What the people in the memory's events said, or the memory's own content (see above)."""
    synthesized = isinstance(memory.metadata, dict) and "synthesis" in memory.metadata
    if synthesized and not memory._state.adding:
        events = [link.event for link in memory.event_links.select_related("event")]
        events.sort(key=lambda e: tuple(getattr(e, name) for name in ARRIVAL_ORDER))
        said = [
            Utterance(e.content, speaker_named(_author(e)), e.occurred_at)
            for e in events
            if e.role.lower() in PEOPLE_ROLES or (not e.role and e.event_type == "message.in")
        ]
        if said or events:
            return said
    at = memory.time_end or memory.time_start or memory.created_at
    if synthesized:  # a transcript from before memories were linked to events: its user lines
        lines = memory.content.splitlines()
        said = [
            Utterance(_USER_LINE.sub("", x), THE_USER, at) for x in lines if _USER_LINE.match(x)
        ]
        if said:
            return said
    return [Utterance(memory.content, THE_USER, at)]


def source_text(memory: Memory) -> str:
    """What extraction reads of the memory, as one text (one utterance a line)."""
    return "\n".join(u.text for u in utterances(memory))


def _author(event) -> str | None:
    author = (event.author or "").strip()
    return author if author and author.lower() not in PEOPLE_ROLES else None


def candidates(
    memory: Memory, min_confidence: float = 0.0
) -> tuple[list[FactCandidate], list[LessonCandidate]]:
    """The memory's facts (in the order said; the last of a topic wins when written) and its
    LESSON candidates (distinct)."""
    said = utterances(memory)
    return candidates_of(said, min_confidence, others=_other_turns(memory, said))


def _other_turns(memory: Memory, said: list[Utterance]) -> list[tuple[datetime, str]]:
    """The people's other turns of the memory's session up to its last one (the episode may have
    other memories): read in order, only for who "he" or "she" means."""
    synthesis = memory.metadata.get("synthesis") if isinstance(memory.metadata, dict) else None
    session = synthesis.get("session_id") if isinstance(synthesis, dict) else None
    last = max((u.at for u in said if u.at is not None), default=None)
    if last is None or session is None or memory._state.adding:
        return []
    mine = memory.event_links.values("event_id")
    turns = (
        Event.objects.filter(spirit_id=memory.spirit_id, session_id=session, occurred_at__lte=last)
        .exclude(pk__in=mine)
        .order_by(*ARRIVAL_ORDER)
        .values_list("occurred_at", "content", "role", "event_type")[:200]
    )
    return [
        (at, content)
        for at, content, role, event_type in turns
        if role.lower() in PEOPLE_ROLES or (not role and event_type == "message.in")
    ]


def candidates_of(
    said: Iterable[Utterance],
    min_confidence: float = 0.0,
    others: list[tuple[datetime, str]] | None = None,
) -> tuple[list[FactCandidate], list[LessonCandidate]]:
    """Facts and lessons of `said`; `others`, (time, text) of other turns around them, are read
    in their place only to know whom "he" or "she" means."""
    facts: list[FactCandidate] = []
    lessons: dict[str, LessonCandidate] = {}
    context: dict = {}
    others = list(others or [])
    for utterance in said:
        while others and utterance.at is not None and others[0][0] <= utterance.at:
            facts_in(others.pop(0)[1], THE_USER, None, context)
        found = facts_in(utterance.text, utterance.speaker, utterance.at, context)
        facts.extend(f for f in found if f.confidence >= min_confidence)
        for sentence in sentences(utterance.text):
            lesson = lesson_candidate(sentence)
            if lesson is None or lesson.confidence < min_confidence or facts_in(sentence):
                continue  # a sentence that states a fact is no lesson
            lessons.setdefault(normalise(lesson.statement), lesson)
    return facts, list(lessons.values())
