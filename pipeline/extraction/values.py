"""Cutting a value out of the words that follow a trigger ("I work at Adyen in Amsterdam now" ->
"Adyen"), and the small word tests the patterns share."""

from __future__ import annotations

import re

from .lexicon import (
    INSTITUTIONS,
    NOT_OCCUPATIONS,
    OCCUPATION_SUFFIXES,
    OCCUPATIONS,
    PLACE_JOINERS,
    VALUE_STOPS,
)

# Titles and abbreviations a name follows ("St. Mary's", "Dr. Okafor"): no sentence ends at
# their full stop, and a title with its full stop is one word.
ABBREVIATIONS = ("St", "Dr", "Mr", "Mrs", "Ms", "Mt", "Jr", "Sr", "Prof", "Inc", "Co", "Ltd", "vs")
_NOT_AFTER = "".join(rf"(?<!\b{word}\.)" for word in ABBREVIATIONS)
SENTENCE_SPLIT = re.compile(rf"(?<=[.!?]){_NOT_AFTER}\s+|\n+|(?<=[.!?]){_NOT_AFTER}(?=[A-Z])")
_TOKEN = re.compile(r"\b(?:St|Dr|Mr|Mrs|Ms|Mt|Prof)\.(?=\s+[A-Z])|[\w'’&\-]+(?:\.\w+)*|[^\w\s]")
_EDGE = "'\"“”‘’()[]"


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _plain(token: str) -> str:
    return token.lower().strip(_EDGE).rstrip(".").replace("’", "'")


def is_capitalized(token: str) -> bool:
    core = token.strip(_EDGE)
    return bool(core) and core[0].isupper() and core.lower() != "i"


def is_punctuation(token: str) -> bool:
    return not any(ch.isalnum() for ch in token)


# "a logistics startup called Fleetwise", "a band named The Kinks": the name is the value.
CALLED = re.compile(
    r"(?i)(?:(?:an?|the)\s+)?(?:[\w-]+\s+){0,4}?(?:called|named)\s+(?P<name>(?-i:[A-Z]).*)"
)


def cut(text: str, *, max_words: int = 5, proper: bool = False) -> str:
    """The value at the start of `text`: words up to punctuation or a stop word, at most
    `max_words`. With `proper`, a run of capitalized words is preferred when the text has one
    ("the Philips office in Eindhoven" -> "Philips"); all-lower-case text is taken as written
    (and then title-cased by the caller if it wants)."""
    if proper and (named := CALLED.match(text)):
        text = named["name"]
    words = tokens(text)
    if proper:
        run = _capitalized_run(words, max_words)
        if run:
            return run
    taken: list[str] = []
    for index, token in enumerate(words):
        if is_punctuation(token) and token not in ("&", "-"):
            break
        plain = _plain(token)
        if plain in VALUE_STOPS and not (index == 0 and plain in ("the", "a", "an")):
            break
        taken.append(token)
        if len(taken) >= max_words:
            break
    while taken and _plain(taken[0]) in ("the", "a", "an", "my", "our"):
        taken.pop(0)
    return clean_value(" ".join(taken))


def cut_list(text: str, max_words: int = 8) -> str:
    """Like `cut`, but a list goes on through "and", "or" and commas ("peanuts, shellfish and
    cats")."""
    taken: list[str] = []
    for token in tokens(text):
        plain = _plain(token)
        if token == "," or plain in ("and", "or", "&"):  # noqa: S105 - a word, not a password
            taken.append(token)
            continue
        if is_punctuation(token) or plain in VALUE_STOPS:
            break
        taken.append(token)
        if len(taken) >= max_words:
            break
    while taken and (taken[-1] == "," or _plain(taken[-1]) in ("and", "or", "&")):
        taken.pop()
    return clean_value(" ".join(taken).replace(" ,", ","))


def _capitalized_run(words: list[str], max_words: int) -> str:
    """The first run of capitalized words (with joiners such as "of" or "&") near the start."""
    for start, token in enumerate(words[:4]):
        if is_punctuation(token) or _plain(token) in ("and", "but", "so", "because", "since"):
            return ""
        if is_capitalized(token):
            run = [token]
            for nxt in words[start + 1 :]:
                if (
                    is_capitalized(nxt)
                    or nxt.isdigit()
                    or (nxt in ("&", "-") and run)
                    or (_plain(nxt) in PLACE_JOINERS and run)
                ):
                    run.append(nxt)
                else:
                    break
                if len(run) >= max_words:
                    break
            while run and (_plain(run[-1]) in PLACE_JOINERS or run[-1] in ("&", "-")):
                run.pop()
            nxt = words[start + len(run)] if start + len(run) < len(words) else ""
            if _plain(nxt) in INSTITUTIONS:  # "Salford uni", "Whetstone high"
                run.append(nxt)
            return clean_value(" ".join(run))
    return ""


def clean_value(value: str) -> str:
    value = value.strip().strip(_EDGE).rstrip(".!?;:,").strip()
    return re.sub(r"\s+", " ", value)


def titled(value: str) -> str:
    """A name written all in lower case, capitalized ("amsterdam" -> "Amsterdam", "o'brien" ->
    "O'Brien"), a possessive's "s" kept small ("children's hospital" -> "Children's Hospital",
    where str.title gives "Children'S")."""
    if not value.islower():
        return value
    return re.sub(r"(?<=['’])S\b", "s", value.title())


# One capitalized word, then a pause, the end or "and" (see says_a_name).
_BARE_NAME = re.compile(r"(?-i:[A-Z][a-z]+)\s*(?:[,.!;]|$|\s+and\b)")


def says_a_name(after_i_am: str) -> bool:
    """Whether the words after "I'm" (no article) are someone saying their name: "I'm Dev, I
    run…", "I'm Chef.", "I'm Dev and I work at…", even when the word is also a job's ("dev",
    "chef"). "I'm a dev", "I'm dev at Flipkart" and "I'm Head of Data" are not."""
    return bool(_BARE_NAME.match(after_i_am.strip()))


def is_occupation(phrase: str) -> bool:
    words = [w for w in re.findall(r"[a-z]+", phrase.lower()) if w]
    if not words or len(words) > 4:
        return False
    head = words[-1]
    if head in NOT_OCCUPATIONS or any(w in NOT_OCCUPATIONS for w in words[:1]):
        return False
    return head in OCCUPATIONS or head.endswith(OCCUPATION_SUFFIXES)


def is_name_word(token: str, *, lower_ok: bool = False) -> bool:
    """A word that can be a person's or a pet's name."""
    core = token.strip(_EDGE)
    if not core.isalpha() or len(core) < 2:
        return False
    if is_capitalized(core):
        return core.lower() not in VALUE_STOPS
    return (
        lower_ok
        and len(core) >= 3
        and core not in VALUE_STOPS
        and not core.endswith(("ing", "ed", "ly"))
    )
