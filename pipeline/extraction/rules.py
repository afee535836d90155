"""Extraction by rules: the FACT and LESSON candidates a memory's sentences state, offline.

Which text (rules): in a synthesized memory (`metadata["synthesis"]`, one "role: text" line per
event) only the user's lines ("user: …", prefix removed) — unless the language model wrote it
(method "llm": prose, no such lines), then, like any other memory, the whole content. The text is
split into sentences at . ! ? and line breaks.

FACT candidates: a sentence (normalised: lowercase, punctuation dropped) matching one of the
rules below, first match wins. Each gives a `topic` key — the slot a contradicting fact would
fill — a canonical `content` and a confidence:

    "my favourite|favorite|preferred <slot> is <v>"  preference:<slot>   0.75
    "my name is <v>"                                   name               0.8
    "my <slot> is|are <v>"  (slot: 1-3 words)          <slot>             0.6
    "i live in|i'm based in|i moved to <v>"            location           0.8
    "i work at|for <v>"                                employer           0.8
    "i prefer <v> over|to|rather than <w>"             preference:<v|w>   0.75  (sorted pair)
    "i prefer <v>"                                     preference:<v>     0.7
    "i use <v> for <purpose>"                          tool:<purpose>     0.7
    "i use <v>"                                        tool:<v>           0.7

Values longer than 80 characters are not facts. A sentence that is no fact may be a LESSON
candidate: one with a normative cue — it starts (after an optional "please") with "always",
"never", "don't", "do not", "remember to", "make sure" or "next time", or it contains "should" —
and is no question (does not end with "?"); confidence 0.6.
Candidates below the spirit's `extraction.min_confidence` are dropped (the model's too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from memories.models import Memory

VALUE_MAX_CHARS = 80
LESSON_CONFIDENCE = 0.6

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_USER_LINE = re.compile(r"^\s*user\s*:\s*", re.IGNORECASE)
_V = r"(?P<v>.+)"


def normalise(text: str) -> str:
    """Lowercase, punctuation dropped (apostrophes too), whitespace collapsed."""
    text = text.lower().replace("'", "").replace("\u2019", "")
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


@dataclass(frozen=True, slots=True)
class FactRule:
    pattern: re.Pattern[str]
    topic: str  # formatted with the match groups (normalised)
    content: str  # formatted with the match groups (as written)
    confidence: float


def _rule(pattern: str, topic: str, content: str, confidence: float) -> FactRule:
    return FactRule(re.compile(pattern + r"$"), topic, content, confidence)


# Matched against the normalised sentence; the groups are then cut from the sentence as written.
FACT_RULES: tuple[FactRule, ...] = (
    _rule(
        r"^my (?:favourite|favorite|preferred) (?P<slot>\w+(?: \w+){0,2}) (?:is|are) " + _V,
        "preference:{slot}",
        "The user's favourite {slot} is {v}.",
        0.75,
    ),
    _rule(r"^my name is " + _V, "name", "The user's name is {v}.", 0.8),
    _rule(
        r"^my (?P<slot>\w+(?: \w+){0,2}?) (?:is|are) " + _V,
        "{slot}",
        "The user's {slot} is {v}.",
        0.6,
    ),
    _rule(
        r"^(?:i live in|im based in|i am based in|i moved to) " + _V,
        "location",
        "The user lives in {v}.",
        0.8,
    ),
    _rule(r"^i work (?:at|for) " + _V, "employer", "The user works at {v}.", 0.8),
    _rule(
        r"^i prefer (?P<v>.+?) (?:over|to|rather than) (?P<w>.+)",
        "preference:{pair}",
        "The user prefers {v} over {w}.",
        0.75,
    ),
    _rule(r"^i prefer " + _V, "preference:{v}", "The user prefers {v}.", 0.7),
    _rule(
        r"^i use (?P<v>.+?) for (?P<purpose>.+)",
        "tool:{purpose}",
        "The user uses {v} for {purpose}.",
        0.7,
    ),
    _rule(r"^i use " + _V, "tool:{v}", "The user uses {v}.", 0.7),
)

LESSON_CUE = re.compile(
    r"^(?:please )?(?:always|never|dont|do not|remember to|make sure|next time)\b|\bshould\b"
)


@dataclass(frozen=True, slots=True)
class FactCandidate:
    topic: str
    content: str
    confidence: float


@dataclass(frozen=True, slots=True)
class LessonCandidate:
    statement: str
    confidence: float = LESSON_CONFIDENCE
    rationale: str = ""  # the memory is named when empty


def source_text(memory: Memory) -> str:
    """The user's lines of a synthesized memory (prefix removed), else the whole content."""
    if not isinstance(memory.metadata, dict) or "synthesis" not in memory.metadata:
        return memory.content
    synthesis = memory.metadata["synthesis"]
    if isinstance(synthesis, dict) and synthesis.get("method") == "llm":  # prose, no role lines
        return memory.content
    return "\n".join(
        _USER_LINE.sub("", line) for line in memory.content.splitlines() if _USER_LINE.match(line)
    )


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_SPLIT.split(text) if s and s.strip()]


def clean_value(value: str) -> str:
    return value.strip().rstrip(".!?;:,").strip()


def _as_written(sentence: str, normalised_value: str) -> str:
    """The value as written in the sentence (its casing), found by its normalised form."""
    words = clean_value(sentence).split()
    wanted = normalised_value.split()
    for start in range(len(words)):
        for end in range(start + 1, len(words) + 1):
            if normalise(" ".join(words[start:end])) == normalised_value:
                return clean_value(" ".join(words[start:end]))
            if len(normalise(" ".join(words[start:end])).split()) > len(wanted):
                break
    return normalised_value


def fact_candidate(sentence: str) -> FactCandidate | None:
    """The FACT a sentence states by the rules of this module, or None."""
    norm = normalise(sentence)
    for rule in FACT_RULES:
        match = rule.pattern.match(norm)
        if match is None:
            continue
        groups = match.groupdict()
        if any(len(value) > VALUE_MAX_CHARS for value in groups.values()):
            return None
        keys = dict(groups)
        if "w" in groups:
            keys["pair"] = "|".join(sorted((groups["v"], groups["w"])))
        written = {
            name: (value if name in ("slot", "purpose") else _as_written(sentence, value))
            for name, value in groups.items()
        }
        return FactCandidate(
            topic=rule.topic.format(**keys)[:255],
            content=rule.content.format(**written),
            confidence=rule.confidence,
        )
    return None


def lesson_candidate(sentence: str) -> LessonCandidate | None:
    """A LESSON when the sentence carries a normative cue (see the module docstring)."""
    if sentence.rstrip().endswith("?") or not LESSON_CUE.search(normalise(sentence)):
        return None
    statement = clean_value(sentence)
    if not statement:
        return None
    return LessonCandidate(statement=statement[0].upper() + statement[1:] + ".")


def candidates(
    memory: Memory, min_confidence: float = 0.0
) -> tuple[list[FactCandidate], list[LessonCandidate]]:
    """The memory's FACT candidates (the last per topic) and LESSON candidates (distinct)."""
    facts: dict[str, FactCandidate] = {}
    lessons: dict[str, LessonCandidate] = {}
    for sentence in sentences(source_text(memory)):
        fact = fact_candidate(sentence)
        if fact is not None:
            if fact.confidence >= min_confidence:
                facts.pop(fact.topic, None)
                facts[fact.topic] = fact
            continue
        lesson = lesson_candidate(sentence)
        if lesson is not None and lesson.confidence >= min_confidence:
            lessons.setdefault(normalise(lesson.statement), lesson)
    return list(facts.values()), list(lessons.values())
