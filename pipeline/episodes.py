"""Offline synthesis of one episode: what was learned, as memories about one subject each.

The people's turns of the episode (role "user"/"human", or message.in without a role) are read by
the extraction rules (pipeline.extraction.rules). Each turn that states something lasting goes to
the memory of its subject — the person (name, age, home, origin, languages), their work and
studies, the people and animals in their life, health and food, plans, tastes and pastimes —, the
sentences that state it told in the third person with the person named ("I just moved to Gdansk"
-> "Tomasz just moved to Gdansk"; the speaker is the event's author, else the name the user gave,
in this episode or earlier, else "The user", written "the user" inside a sentence; greetings and
fillers that open a turn, such as "hey" or "btw", are left out). The content starts with the
date; the summary lists what was learned (the facts, never a cut prefix); the subject is the
topic; the time span is the turns'; the provenance, those turns.

What is left (small talk, questions, the assistant's answers, tool calls) becomes one memory of
the conversation: its date, who talked about what (the episode's key words), and its most telling
sentences (statements before questions, longest first, in their order), each told in the third
person; provenance, those events. Every event of the episode is in exactly one memory.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from elephantasm.text import squash, truncate_words, words
from events.models import Event
from memories.models import MemorySource, MemoryType

from .extraction.candidates import Speaker, speaker_named
from .extraction.rules import PEOPLE_ROLES, casual, facts_in, sentences
from .person import told_about

CONFIDENCE = 0.7
DEFAULT_IMPORTANCE = 0.5
LEARNED_IMPORTANCE = 0.7
SUMMARY_MAX_CHARS = 200
CONTENT_MAX_CHARS = 4000
GIST_SENTENCES = 6
# topic family -> (subject of the memory, in the order memories are written)
SUBJECTS = {
    "name": "who they are",
    "age": "who they are",
    "birthday": "who they are",
    "hometown": "who they are",
    "language": "who they are",
    "location": "home",
    "employer": "work and studies",
    "job": "work and studies",
    "school": "work and studies",
    "field": "work and studies",
    "degree": "work and studies",
    "alma_mater": "work and studies",
    "partner": "family and friends",
    "spouse": "family and friends",
    "child": "family and friends",
    "children": "family and friends",
    "sibling": "family and friends",
    "parent": "family and friends",
    "friend": "family and friends",
    "pet": "family and friends",
    **dict.fromkeys(
        words(
            "sister brother son daughter wife husband grandma grandmother grandpa grandfather "
            "aunt uncle cousin"
        ),
        "family and friends",
    ),
    "boss": "work and studies",
    "manager": "work and studies",
    "diet": "health and food",
    "allergy": "health and food",
    "avoids": "health and food",
    "health": "health and food",
    "plan": "plans",
}
ORDER = ("who they are", "home", "work and studies", "family and friends", "health and food")
OTHER = "tastes and pastimes"
STOP = words(
    "that this with have from they them their there what when where which would could should "
    "about just really like your yours been were will into than then also some more very much "
    "sure okay thanks thank please maybe think know want need help does doing done make made "
    "good great nice well yeah lol haha going still even only here back time today tomorrow "
    "yesterday week month year something anything everything user assistant said says meet "
    "noted nice hello hey thanks sorry suggest tell give show explain write help recommend "
    "ideas idea first last"
)
PRONOUNS = words("i you we they he she it that there what who let")


def person_of(episode: Sequence[Event], known_name: str | None) -> str:
    """How the people's turns are told: the author, the name given in the episode, the known
    name, else "The user"."""
    for event in episode:
        author = (event.author or "").strip()
        if author and author.lower() not in PEOPLE_ROLES:
            return author
    for event in _people_turns(episode):
        for fact in facts_in(event.content):
            if fact.topic == "name":
                return fact.value
    return known_name or "The user"


def episode_memories(
    episode: Sequence[Event], known_name: str | None = None
) -> list[tuple[list[Event], dict[str, Any]]]:
    """The memories of one episode: (their events, their fields), about one subject each."""
    name = person_of(episode, known_name)
    speaker = speaker_named(None if name == "The user" else name)
    by_subject: dict[str, list[tuple[Event, list[str], list[str]]]] = {}
    rest: list[Event] = []
    for event in episode:
        said = _statements(event, speaker) if _is_people_turn(event) else None
        if not said:
            rest.append(event)
            continue
        subject, told, learned = said
        by_subject.setdefault(subject, []).append((event, told, learned))
    drafts = []
    for subject in sorted(by_subject, key=_subject_rank):
        turns = by_subject[subject]
        events = [event for event, _, _ in turns]
        told = [sentence for _, sentences_, _ in turns for sentence in sentences_]
        learned = list(dict.fromkeys(fact for _, _, facts in turns for fact in facts))
        drafts.append((events, _learned_memory(events, subject, told, learned)))
    if rest:
        drafts.append((rest, _conversation_memory(rest, name, speaker, partners(episode, name))))
    return drafts


MESSAGE_TYPES = ("message.in", "message.out")
ROLE_NAMES = frozenset([*PEOPLE_ROLES, "assistant", "ai", "agent", "bot", "system"])


def _named_author(event: Event) -> str:
    """The author of a message when it names someone (not a role: "user", "assistant")."""
    author = (event.author or "").strip()
    if event.event_type not in MESSAGE_TYPES or author.lower() in ROLE_NAMES:
        return ""
    return author


def partners(episode: Sequence[Event], name: str) -> str:
    """Who the person talked with: the other authors of the episode's messages ("Tomás",
    "Tomás and Priya"), else the assistant (its turns carry no author, or a role's name)."""
    others: list[str] = []
    for event in episode:
        author = _named_author(event)
        if author and author != name and author not in others:
            others.append(author)
    if not others:
        return "the assistant"
    return others[0] if len(others) == 1 else ", ".join(others[:-1]) + " and " + others[-1]


def _is_people_turn(event: Event) -> bool:
    return event.role.lower() in PEOPLE_ROLES or (
        not event.role and event.event_type == "message.in"
    )


def _people_turns(episode: Sequence[Event]) -> list[Event]:
    return [e for e in episode if _is_people_turn(e)]


def _statements(event: Event, speaker: Speaker) -> tuple[str, list[str], list[str]] | None:
    """(subject, the sentences that state something told in the third person, the facts), or
    None when the turn states nothing lasting."""
    told, learned, families = [], [], []
    for sentence in sentences(casual(event.content)):
        found = [f for f in facts_in(sentence) if not f.ends or f.topic != "plan:*"]
        if not found:
            continue
        told.append(_told(sentence, speaker))
        for fact in found:
            families.append(fact.topic.split(":")[0] if fact.subject == "the user" else "partner")
            if not fact.ends:
                learned.append(_named(fact.content, speaker))
    if not told:
        return None
    subject = SUBJECTS.get(families[0], OTHER)
    return subject, told, learned


def _subject_rank(subject: str) -> tuple[int, str]:
    rank = ORDER.index(subject) if subject in ORDER else len(ORDER)
    return rank, subject


GREETING = re.compile(
    r"^(?:(?:hi|hey|hello|hiya|heya|yo|morning|evening|good (?:morning|evening))\b[\s,!.]*)+", re.I
)
# Words that open a turn without adding to what it states ("btw", "oh and", "so").
FILLER = re.compile(
    r"^(?:(?:btw|by the way|oh|and|so|also|anyway|anyways|well|ok|okay|um|uh|lol)\b[\s,!.]*)+",
    re.I,
)
# "The user" inside a sentence, where a name would not be capitalised: "the user".
INNER_USER = re.compile(r"(?<=[^.!?\s])(\s+)The user\b")


def _told(sentence: str, speaker: Speaker) -> str:
    sentence = FILLER.sub("", GREETING.sub("", squash(sentence))) or sentence
    text = INNER_USER.sub(r"\1the user", told_about(sentence, speaker.display))
    if speaker.display != "The user":  # "Ada's name is Ada" -> "Their name is Ada"
        name = re.escape(speaker.display)
        text = re.sub(rf"\b{name}'s name is\b", "their name is", text)
        # "I'm Ada, ..." -> "Ada is Ada, ..." -> "Their name is Ada, ..."
        text = re.sub(rf"\b{name} is {name}\b", f"their name is {speaker.display}", text)
    text = text[0].upper() + text[1:] if text else text
    return text if text.endswith((".", "!", "?")) else text + "."


def _named(content: str, speaker: Speaker) -> str:
    """A fact's content with the person's name for "The user"."""
    if speaker.display == "The user" or content.startswith("The user's name is"):
        return content
    return re.sub(r"\bThe user\b", speaker.display, content)


def day(at: datetime) -> str:
    return f"{at.day} {at:%B %Y}"


def _span(events: Sequence[Event]) -> tuple[datetime, datetime]:
    times = [e.occurred_at for e in events]
    return min(times), max(times)


def _importance(events: Sequence[Event], floor: float) -> float:
    scores = [e.importance_score for e in events if e.importance_score is not None]
    return max([*scores, floor])


def _summary(parts: Sequence[str]) -> str:
    """Whole parts (facts, sentences) while they fit SUMMARY_MAX_CHARS; the first one shortened
    on a word boundary when it alone is longer."""
    taken: list[str] = []
    for part in parts:
        if len(" ".join([*taken, part])) > SUMMARY_MAX_CHARS:
            break
        taken.append(part)
    return " ".join(taken) or truncate_words(parts[0], SUMMARY_MAX_CHARS) if parts else ""


def _learned_memory(events, subject: str, told: list[str], learned: list[str]) -> dict[str, Any]:
    start, _ = _span(events)
    content = truncate_words(f"On {day(start)}: " + " ".join(told), CONTENT_MAX_CHARS)
    return _data(events, content, _summary(learned or told), subject, LEARNED_IMPORTANCE)


def _conversation_memory(
    events: Sequence[Event], name: str, speaker: Speaker, partners: str = "the assistant"
) -> dict[str, Any]:
    start, _ = _span(events)
    named = {part.lower() for part in f"{name} {partners}".replace(",", " ").split()}
    topics = [w for w in key_words(events, 5 + len(named)) if w.lower() not in named][:4]
    about = f" about {', '.join(topics)}" if topics else ""
    who = "the user" if name == "The user" else name
    opening = f"On {day(start)}, {who} talked with {partners}{about}."
    picked = _telling_sentences(events, speaker)
    content = truncate_words(" ".join([opening, *picked]), CONTENT_MAX_CHARS)
    subject = ", ".join(topics[:3]) or "conversation"
    return _data(events, content, _summary([opening, *picked]), subject, DEFAULT_IMPORTANCE)


def _data(events, content: str, summary: str, subject: str, floor: float) -> dict[str, Any]:
    start, end = _span(events)
    return {
        "memory_type": MemoryType.EPISODIC,
        "source_type": MemorySource.EXTRACTION,
        "content": content,
        "summary": summary,
        "subject": subject[:255],
        "importance": _importance(events, floor),
        "confidence": CONFIDENCE,
        "time_start": start,
        "time_end": end,
        "metadata": {
            "synthesis": {
                "event_count": len(events),
                "session_id": events[0].session_id,
                "method": "offline",
            }
        },
    }


def _telling_sentences(events: Sequence[Event], speaker: Speaker) -> list[str]:
    """The most telling sentences: longer than three words before shorter ones, statements before
    questions, the people's before the assistant's, longer before shorter, kept in the order they
    were said; the people's told in the third person, the assistant's quoted (the sentences of
    one assistant turn after one "The assistant said:")."""
    candidates = []
    for index, event in enumerate(events):
        text = event.meta_summary or event.content
        for position, sentence in enumerate(sentences(casual(text))[:3]):
            short = len(sentence.split()) < 4  # "ok", "thanks!": only when nothing says more
            question = sentence.rstrip().endswith("?")
            if _is_people_turn(event):
                line = (
                    f"{speaker.display} asked: {sentence}" if question else _told(sentence, speaker)
                )
            elif event.event_type == "message.out":
                line = f"{_ASSISTANT_SAID}{sentence}"
            else:
                line = f"{event.event_type}: {sentence}"
            people = _is_people_turn(event)
            rank = (short, question, not people, -len(sentence))
            candidates.append((*rank, (index, position), truncate_words(line, 300)))
    best = sorted(sorted(candidates)[:GIST_SENTENCES], key=lambda c: c[4])
    lines: list[str] = []
    previous = None  # the event of the last line, when the assistant said it
    for *_, (index, _), line in best:
        said = line.startswith(_ASSISTANT_SAID)
        if said and previous == index:
            lines[-1] += " " + line.removeprefix(_ASSISTANT_SAID)  # one turn, one "said"
        else:
            lines.append(line)
        previous = index if said else None
    return lines


_ASSISTANT_SAID = "The assistant said: "


def key_words(events: Sequence[Event], count: int = 4) -> list[str]:
    """The episode's key words: names first (capitalized words not at a sentence's start), then
    the longer words said at least twice. Read from the people's turns (the user's, and those
    of any other named author: a chat between people), else from every event."""
    names: Counter[str] = Counter()
    common: Counter[str] = Counter()
    people = [e for e in events if _is_people_turn(e) or _named_author(e)]
    for event in people or events:
        told = event.content if event.event_type in MESSAGE_TYPES else event.meta_summary
        for sentence in sentences(told or event.content):
            tokens = re.findall(r"[^\W\d_][\w'-]+", sentence)
            for position, token in enumerate(tokens):
                low = token.lower().strip("'")
                if low in STOP or len(low) < 4 or low.split("'")[0] in PRONOUNS:
                    continue  # "I'll", "You're": a pronoun, not a name
                if position and token[0].isupper() and not token.isupper():
                    names[token] += 1
                else:
                    common[low] += 1
    ranked = [w for w, _ in names.most_common()]
    ranked += [w for w, n in common.most_common() if n > 1]
    seen: list[str] = []
    for word in ranked:
        if word.lower() not in {s.lower() for s in seen}:
            seen.append(word)
        if len(seen) >= count:
            break
    return seen
