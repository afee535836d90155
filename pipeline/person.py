"""Grammatical person, offline: a first-person sentence told about someone ("I just moved to
Gdansk" -> "Tomasz just moved to Gdansk"), and a sentence about someone read as if they said it
("The user lives in Paris" -> "I live in Paris"), so one set of extraction patterns reads both.

English only, by rules: pronouns and contractions are replaced, and the verb right after the
subject (skipping adverbs such as "just" or "really") is put in the third person singular
("work" -> "works", "study" -> "studies", "am" -> "is", "have" -> "has"); past tenses, modals
and auxiliaries are left as they are.
"""

from __future__ import annotations

import re

from elephantasm.text import words

ADVERBS = words(
    "just really also still always usually never actually finally recently now only even "
    "totally absolutely kinda kind sorta mostly often sometimes currently mainly honestly "
    "definitely probably already basically literally seriously officially "
)
# Left as they are after a subject: modals, auxiliaries in the past, and common past tenses.
UNCHANGED = words(
    "can could will would shall should may might must did was were had used need got went "
    "moved left quit started joined made took came became began bought broke found gave "
    "grew heard kept knew lost met paid put ran said saw sent set sold spent stood "
    "thought told understood won wrote read felt "
)
# After one of these, "I" is asked about ("how do I…", "should I…"): its verb stays as it is.
AUXILIARIES = words("do does did can could will would should shall may might must am was have had")
THIRD = {"am": "is", "'m": "is", "have": "has", "'ve": "has", "do": "does", "go": "goes"}
# Capitalized words that start sentences without naming anyone.
NOT_SUBJECTS = words(
    "he she they it we you this that these those there here everyone someone somebody nobody "
    "everybody anyone anybody nothing something everything today tomorrow yesterday tonight "
    "never always please thanks thank sounds maybe also just so but and or then well oh ok okay "
    "yes no hi hey hello sure great cool nice perfect awesome update news big other ah "
)
FIRST = {"is": "am", "has": "have", "does": "do", "goes": "go", "was": "was"}

_WORD = re.compile(r"[A-Za-z']+")
_CONTRACTED = {
    "i'm": "I am",
    "i've": "I have",
    "i'll": "I will",
    "i'd": "I would",
    "im": "I am",
    "ive": "I have",
}


def third_person_verb(verb: str) -> str:
    low = verb.lower()
    if low in THIRD:
        return THIRD[low]
    if low in UNCHANGED or low.endswith("ed") or low.endswith("n't") or len(low) < 2:
        return verb
    if low.endswith("y") and low[-2] not in "aeiou":
        return verb[:-1] + "ies"
    if low.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    return verb + "s"


def first_person_verb(verb: str) -> str:
    low = verb.lower()
    if low in FIRST:
        return FIRST[low]
    if low.endswith("ies") and len(low) > 4:
        return verb[:-3] + "y"
    if low.endswith(("sses", "shes", "ches", "xes", "zes", "oes")):
        return verb[:-2]
    if low.endswith("s") and not low.endswith("ss") and len(low) > 2:
        return verb[:-1]
    return verb


def _expand(text: str) -> str:
    """Casual contractions spelled out ("im" -> "I am", "i've" -> "I have")."""
    text = text.replace("\u2019", "'")
    return re.sub(
        r"\b(i'm|i've|i'll|i'd|im|ive)\b",
        lambda m: _CONTRACTED[m.group(1).lower()],
        text,
        flags=re.IGNORECASE,
    )


def told_about(sentence: str, name: str) -> str:
    """`sentence`, said by `name` in the first person, told about them in the third person."""
    words = _expand(sentence).split(" ")
    out: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        core = word.strip('.,!?;:()"')
        low = core.lower()
        if low == "i":
            asked = bool(out) and out[-1].lower().strip(",") in AUXILIARIES  # "how do I cook…"
            out.append(word.replace(core, name))
            index = index + 1 if asked else _conjugate_after(words, index + 1, out)
            continue
        if low == "i'd":
            out.append(word.replace(core, f"{name} would"))
        elif low in ("my", "mine"):
            out.append(word.replace(core, f"{name}'s"))
        elif low == "me":
            out.append(word.replace(core, name))
        elif low == "myself":
            out.append(word.replace(core, "themself"))
        else:
            out.append(word)
        index += 1
    text = " ".join(out)
    return re.sub(r"\bdon't\b", "doesn't", text) if name else text


def _conjugate_after(words: list[str], index: int, out: list[str]) -> int:
    """Copy adverbs, then put the verb at `index` in the third person; returns the next index."""
    while index < len(words) and words[index].lower().strip(".,!?") in ADVERBS:
        out.append(words[index])
        index += 1
    if index < len(words):
        word = words[index]
        core = word.strip('.,!?;:()"')
        if core.lower() in ("don't", "dont"):
            out.append(word.replace(core, "doesn't"))
        elif core and core.isalpha() and core.islower():
            out.append(word.replace(core, third_person_verb(core)))
        else:
            out.append(word)
        index += 1
    return index


_FILLER = re.compile(
    r"^(?:(?:also|and|so|btw|oh|plus|update|news|fyi|well|anyway|ok|okay|yes|yeah|big news|"
    r"good news|bad news|sad news|other news)\b[\s,:!.-]*)+",
    re.IGNORECASE,
)
_SUBJECT = re.compile(
    r"^(?P<subject>the user|user|(?:[A-Z][a-z]+(?: [A-Z][a-z]+)?))"
    r"(?P<possessive>'s)?\s+(?P<rest>.+)$"
)


def as_said_by_subject(sentence: str) -> tuple[str | None, str]:
    """A sentence about someone ("The user lives in Paris", "Ada's sister is Eve") read as if
    they said it ("I live in Paris", "My sister is Eve"): (the subject, or None when the sentence
    is not about one, the sentence). "The user" is returned as "the user"."""
    sentence = _FILLER.sub("", sentence.strip())
    match = _SUBJECT.match(sentence)
    if match is None or match["subject"].lower() in NOT_SUBJECTS:
        return None, sentence
    subject, rest = match["subject"], match["rest"]
    if match["possessive"]:
        return _subject_name(subject), f"My {rest}"
    first = rest.split(" ", 1)
    adverbs = []
    while first and first[0].lower() in ADVERBS and len(first) > 1:
        adverbs.append(first[0])
        first = first[1].split(" ", 1)
    verb = first[0]
    if not verb.isalpha() or not verb.islower() or not _third_person_form(verb):
        return None, sentence
    tail = first[1] if len(first) > 1 else ""
    said = " ".join(["I", *adverbs, first_person_verb(verb), tail]).strip()
    return _subject_name(subject), said


def _third_person_form(verb: str) -> bool:
    """A verb as it follows "she": "lives", "is", "moved" (not "use", as in "Never use X")."""
    return (
        verb in ("is", "was", "has", "does")
        or (verb.endswith("s") and not verb.endswith("ss"))
        or verb.endswith("ed")
        or verb in UNCHANGED
    )


def _subject_name(subject: str) -> str:
    return "the user" if subject.lower() in ("the user", "user") else subject
