"""Facts a first-person clause states, anywhere in it: who the speaker is, where they live and come
from, where and as what they work or study, their age, diet, allergies, health, languages,
hobbies, likes and dislikes, favourites, tools, plans, and the people and animals in their life.

Each finder reads one clause ("so yeah since I started at Mollie nights are long") and adds what
it states; a fact that stopped being true ("I'm not vegetarian anymore", "I left Adyen") is an
*ending* (`FactCandidate.ends`). Facts the speaker states about someone else ("my partner Zofia
is gluten intolerant") are read again as that person's clause (see rules.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from elephantasm.text import words

from .candidates import USER, FactCandidate, Found, Speaker
from .lexicon import DIETS, LANGUAGES, NATIONALITIES
from .values import cut, is_name_word, is_occupation, says_a_name, titled, tokens

Finder = Callable[[str, Speaker, Found], None]
FINDERS: list[Finder] = []
ADV = r"(?:(?:just|really|also|still|already|now|currently|actually|finally|officially|mostly|mainly|usually|even|only|totally|kinda|literally|basically|honestly|definitely|recently|always|never|both|all)\s+)*"  # adverbs between "I" and the verb
_I = r"(?:^|(?<=[\s,;:(\-]))"  # a word boundary that also holds at the clause's start


def finder(function: Finder) -> Finder:
    FINDERS.append(function)
    return function


def rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def fact(who: Speaker, topic: str, content: str, value: str, confidence: float, **kw):
    return FactCandidate(
        topic=who.topic(topic),
        content=content,
        value=value,
        confidence=confidence,
        subject=who.display if who.key else USER,
        **kw,
    )


def ending(who: Speaker, topic: str, value: str, confidence: float = 0.75) -> FactCandidate:
    return FactCandidate(
        topic=who.topic(topic),
        content=f"{who.display} no longer: {topic} {value}".strip(),
        value=value,
        confidence=confidence,
        ends=True,
    )


def found_values(found: Found, topic: str) -> set[str]:
    return {f.value.lower() for f in found.facts if f.topic.endswith(topic)}


def _diet_alternation() -> str:
    return "|".join(re.escape(d) for d in sorted(DIETS, key=len, reverse=True))


DIET = _diet_alternation()
NEGATED = rx(r"\b(?:don't|do not|doesn't|never|not|no longer|didn't)\b")


# --- Who they are -------------------------------------------------------------------------------

NAME_IS = rx(r"\b(?:my name is|my name's|call me|my name is actually)\s+(?P<rest>.+)")
I_AM_NAME = rx(
    r"^(?:(?:hi|hey|hello|hiya|heya|yo|morning|evening)\b[\s,!.]*)*(?:I am|this is)\s+(?P<rest>.+)"
)
HERE = rx(
    r"^(?:(?:hi|hey|hello|hiya|yo)\b[\s,!.]*)*(?P<name>[A-Za-z]+(?: (?-i:[A-Z])[a-z]+)?) here\s*(?:[,.!:;-]|$)"
)
NOT_NAMES = words(
    "back new good fine okay ok tired busy sorry glad happy sad home here there so not "
    "just really still also finally going trying looking working thinking wondering "
    "curious excited stressed sick ready done free away late early "
    "vegan single married engaged pregnant hungry bored retired divorced widowed sober "
)
# Adjectives by their shape ("vegetarian", "polish", "allergic", "anxious"): not names.
ADJECTIVE_ENDINGS = (
    "arian", "ish", "ese", "ive", "ous", "ful", "less", "ic", "al", "able", "ible", "ary",
)  # fmt: skip


@finder
def find_name(clause: str, who: Speaker, found: Found) -> None:
    if who.key:
        return
    value, bare = "", False
    if match := NAME_IS.search(clause):
        value = cut(match["rest"], max_words=3, proper=True)
    elif match := I_AM_NAME.search(clause):
        words = tokens(match["rest"])
        if words and is_name_word(words[0]) and words[0][0].isupper():
            value = cut(match["rest"], max_words=3, proper=True)
            bare = says_a_name(match["rest"])  # "I'm Dev, ...": a name, though "dev" is a job
        elif (
            words
            and words[0].lower() not in NOT_NAMES
            and not words[0].lower().endswith(ADJECTIVE_ENDINGS)
            and is_name_word(words[0], lower_ok=True)
            and (len(words) == 1 or words[1] in (",", ".", "!", "-", "and"))
        ):
            value = words[0]
    elif (match := HERE.search(clause)) and (
        match["name"].lower() not in NOT_NAMES and is_name_word(match["name"], lower_ok=True)
    ):
        value = match["name"]
    if value and (value.isupper() and len(value) > 3):
        return  # shouting ("I'M DR BENALI NOW"), not an introduction
    if value.lower() in LANGUAGES or value.lower() in NATIONALITIES:
        return  # "I'm Polish": where they are from, not their name
    if value and (bare or not is_occupation(value)) and value.lower() not in NOT_NAMES:
        value = titled(value)
        found.add(fact(who, "name", f"The user's name is {value}.", value, 0.8))


# --- Where they live, where they are from -------------------------------------------------------

LIVE = rx(
    r"\b(?:I|we)\s+(?:currently\s+|now\s+|still\s+)?(?:live|am living|are living|have been living|"
    r"have lived|am based|are based|reside|am settled|are settled|settled)\s+(?:in|at|out of)\s+(?P<rest>.+)"
)
MOVED = rx(
    r"\b(?:I|we)\s+(?:just\s+|recently\s+|finally\s+|officially\s+)?(?:moved|relocated|am moving|are moving|"
    r"am relocating|have moved|moved back|am moving back)\s+(?:back\s+)?(?:from\s+(?P<old>[\w .'-]+?)\s+)?to\s+(?P<rest>.+)"
)
GREW_THERE = rx(r"\bI\s+(?:grew up|was born(?: and raised)?)\s+there\b")


def last_place(text: str) -> str | None:
    """The last place named before "there" ("home in Lagos, I grew up there")."""
    places = re.findall(
        r"\b(?:in|from|to|at)\s+((?-i:[A-Z])[\w'-]+(?:\s+(?-i:[A-Z])[\w'-]+)?)", text
    )
    return places[-1] if places else None


WHERE_I_GREW = rx(
    r"(?P<rest>(?-i:[A-Z])[\w'-]+(?:\s+(?-i:[A-Z])[\w'-]+)?),?\s+where\s+I\s+(?:grew up|was born|am from)"
)
GREETING_FROM = rx(
    r"^(?:hi|hello|hallo|hey|greetings|hej|hola|bonjour|ciao|howdy)\s+(?:from|aus|de|desde)\s+(?P<rest>(?-i:[A-Z])[^!.,?]+)"
)
HERE_NOW = rx(r"\b(?:live|living|been)\s+here\b|\bhere\s+(?:now|for)\b")
HERE_IN = rx(r"\bhere in\s+(?P<rest>(?-i:[A-Z]).+)")
MY_HOME_IN = rx(r"\bmy\s+(?:flat|apartment|house|place|home|room)\s+in\s+(?P<rest>(?-i:[A-Z]).+)")
I_AM_IN = rx(r"\bI\s+am\s+in\s+(?P<rest>(?-i:[A-Z])\S+)\s+(?:next to|near|close to|by)\b")
MOVED_IN_WITH = rx(r"\bmoved\s+in\s+with\s+\w+,?\s+in\s+(?P<rest>(?-i:[A-Z]).+)")
HOME_NOW = rx(r"\b(?:home is|I am in|we are in|living in|based in)\s+(?P<rest>.+?)\s+now\b")
FROM = rx(
    r"\bI\s+"
    + ADV
    + r"(?:am\s+(?:originally\s+)?from|was born(?: and raised)? in|grew up in|come from)\s+(?P<rest>.+)"
)


@finder
def find_home(clause: str, who: Speaker, found: Found) -> None:
    for pattern in (LIVE, MOVED, HOME_NOW, MY_HOME_IN, I_AM_IN, MOVED_IN_WITH, HERE_IN):
        match = pattern.search(clause)
        if match is None or NEGATED.search(clause[: match.start("rest")]):
            continue
        if pattern is MOVED and re.search(
            r"\bto (?:a|an|the|my|our)\b", clause[match.start() :], re.I
        ):
            continue  # "moved to a new flat": no city
        value = titled(cut(match["rest"], max_words=4, proper=True))
        if value:
            found.add(fact(who, "location", f"{who.display} lives in {value}.", value, 0.8))
            origin = re.search(r"\bfrom\s+((?-i:[A-Z])[\w'-]+)", match["rest"])
            if pattern is MOVED and origin and origin.group(1) != value:  # "…to CDMX from Oaxaca"
                place = origin.group(1)
                found.add(fact(who, "hometown", f"{who.display} is from {place}.", place, 0.6))
            return
    if (match := GREETING_FROM.search(clause)) and HERE_NOW.search(clause):
        value = titled(cut(match["rest"], max_words=3, proper=True))
        if value:
            found.add(fact(who, "location", f"{who.display} lives in {value}.", value, 0.7))
            return
    if match := WHERE_I_GREW.search(clause):
        value = match["rest"]
        found.add(fact(who, "hometown", f"{who.display} is from {value}.", value, 0.75))
        return
    if (match := FROM.search(clause)) and not NEGATED.search(clause[: match.start("rest")]):
        value = titled(cut(match["rest"], max_words=4, proper=True))
        if value:
            found.add(fact(who, "hometown", f"{who.display} is from {value}.", value, 0.75))
