"""Facts about the speaker's age, birthday, diet, allergies and health (the finders register
themselves in patterns.FINDERS)."""

from __future__ import annotations

import re

from .candidates import THE_USER, Found, Speaker, speaker_named
from .lexicon import HEALTH
from .patterns import ADV, DIET, NEGATED, ending, fact, finder, rx
from .values import cut, cut_list

# --- Age, diet, health ----------------------------------------------------------------------------

AGE = rx(
    r"\bI\s+" + ADV + r"(?:am|just turned|turned|will be|am turning)\s+(?P<n>\d{1,2})"
    r"(?!\s*(?:%|percent|minutes?|mins?|hours?|hrs?|km|kg|lbs?|pounds|miles|times|x\b|am\b|pm\b|:|\.\d|,\d))"
    r"(?:\s*(?P<unit>months?|weeks?|days?)(?:\s+old)?|\s*(?:years? old|yo|y/o|yrs)|\b)"
)
AGE_WORDS = rx(
    r"\bI\s+am\s+(?:now\s+|only\s+|just\s+)?(?P<n>one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+(?P<unit>months?|weeks?|years?)(?:\s+old)?\b"
)
GAVE_BIRTH = rx(
    r"\bI\s+(?:just\s+)?(?:had|have had|gave birth to)\s+(?:a|the|our|my|her|his|their)\s+(?:baby|son|daughter|little)\b"
)
BIRTHDAY = rx(r"\bmy birthday(?: is|'s)\s+(?:on\s+)?(?P<rest>.+)")
CANNOT_EAT = rx(
    r"\bI\s+(?:can't|cannot|can not)\s+eat\s+(?P<food>[\w ]+?)(?:[,.!;]|$|\s+(?:and|but|so|because)\b)"
)
DIET_IS = rx(
    rf"\bI\s+(?:am|have been|went|have gone|turned|became|eat|only eat|am going|am now|am trying to eat)\s+"
    rf"(?:(?:a|an|fully|strictly|strict|mostly|full|now|completely|100%)\s+)*(?P<diet>{DIET})\b"
)
DIET_ENDED = rx(
    rf"\b(?:not|no longer|stopped being|quit being|gave up being)\s+(?:an?\s+)?(?P<diet>{DIET})\b"
)
MEAT_AGAIN = rx(
    r"\bI\s+"
    + ADV
    + r"(?:am\s+|have\s+|have started\s+|started\s+)?(?:eat|eating|ate)\s+meat again\b|\bI\s+am\s+back (?:on|to) (?:meat|eating meat)\b"
)
# "I don't drink alcohol", "I stopped eating pork": what they keep away from.
AVOIDS = rx(
    r"\bI\s+"
    + ADV
    + r"(?P<how>don't|do not|never|no longer|stopped|quit|gave up)\s+(?P<verb>drink|eat)(?:ing)?\s+"
    r"(?P<what>alcohol|booze|coffee|caffeine|meat|red meat|pork|beef|chicken|fish|seafood|dairy|"
    r"eggs|sugar|gluten|soda)\b"
)
ON_DIET = rx(r"\b(?:I am|we are)\s+(?:now\s+)?on\s+an?\s+(?P<diet>[\w-]+(?:\s+[\w-]+)?)\s+diet\b")
WE_DIET = rx(rf"\b(?P<other>(?-i:[A-Z])\w+)\s+and\s+I\s+are\s+(?:both\s+)?(?P<diet>{DIET})\b")
BETTER = rx(
    r"\bmy\s+(?P<part>knee|knees|back|hip|shoulder|neck|wrist|ankle|elbow|stomach)\s+(?:is|are|feels?)\s+(?:much\s+|a lot\s+|way\s+|so much\s+)?(?:better|fine|healed|ok|okay)\b"
)
NORMAL_BP = rx(
    r"\b(?:blood pressure|bp)\s+is\s+(?:back to\s+)?(?:normal|fine|good|under control)\b"
)
PREGNANT = rx(r"\bI\s+" + ADV + r"am\s+(?:\w+\s+)?pregnant\b")
BODY_BAD = rx(
    r"\bmy\s+(?P<part>knee|knees|back|hip|shoulder|neck|wrist|ankle|elbow|stomach)\s+(?:is|are|has been|have been)\s+(?:really\s+|very\s+|so\s+)?(?P<how>bad|sore|killing me|hurting|weak)\b"
)
HAS_PROBLEMS = rx(
    r"\bI\s+" + ADV + r"have\s+(?P<rest>(?:\w+\s+){0,2}(?:problems|issues|pain|disease))\b"
)
NO_MEAT = rx(
    r"\bI\s+"
    + ADV
    + r"(?:don't|do not|never)\s+eat\s+(?P<food>meat|fish|pork|beef|dairy|gluten|eggs|sugar)\b"
)
ALLERGIC = rx(r"\b(?:allergic|intolerant)\s+to\s+(?P<rest>.+)")
MY_ALLERGY = rx(r"\b(?:my|I\s+have\s+an?)\s+(?P<what>[\w-]+)\s+allergy\b")
# Someone else is the subject of what follows: "my colleague Omar is (very) …", "he's …".
OTHER_SUBJECT = rx(
    r"(?:\b(?:he|she|they)|\b(?-i:[A-Z])\w+|\bmy\s+\w+)(?:\s+(?:is|are|was|were|has\s+been|"
    r"have\s+been|got|became)|'s|'re)\s+(?:\w+\s+){0,2}$"
)
HEALTH_HAS = rx(
    r"\bI\s+"
    + ADV
    + r"(?:have got|have|was diagnosed with|got diagnosed with|suffer from|live with|am living with)\s+(?P<rest>.+)"
)
BROKE = rx(
    r"\bI\s+"
    + ADV
    + r"(?:just\s+)?(?:broke|fractured|sprained|tore|injured|hurt)\s+my\s+(?P<part>[\w ]+?)(?:\s|[,.!;]|$)"
)


@finder
def find_body(clause: str, who: Speaker, found: Found) -> None:
    if match := AGE.search(clause):
        n, unit = match["n"], match["unit"]
        if unit:
            value = f"{n} {unit}"
            found.add(fact(who, "age", f"{who.display} is {value} old.", value, 0.75))
        elif 1 <= int(n) <= 99 and (int(n) >= 5 or who.key):
            found.add(fact(who, "age", f"{who.display} is {n} years old.", n, 0.8))
    if match := AGE_WORDS.search(clause):
        value = f"{match['n'].lower()} {match['unit'].lower()}"
        found.add(fact(who, "age", f"{who.display} is {value} old.", value, 0.7))
    if match := BIRTHDAY.search(clause):
        value = cut(match["rest"], max_words=3)
        found.add(fact(who, "birthday", f"{who.possessive} birthday is on {value}.", value, 0.8))
    if match := AVOIDS.search(clause):
        verb, what = match["verb"].lower(), match["what"].lower()
        content = f"{who.display} doesn't {verb} {what}."
        found.add(fact(who, f"avoids:{what}", content, what, 0.75))
    if match := DIET_ENDED.search(clause):
        found.add(ending(who, "diet", match["diet"].lower()))
    elif MEAT_AGAIN.search(clause):
        found.add(ending(who, "diet", ""))
    elif match := DIET_IS.search(clause):
        diet = match["diet"].lower()
        if diet in ("coeliac", "celiac"):  # a condition rather than a choice
            found.add(fact(who, f"health:{diet}", f"{who.display} is {diet}.", diet, 0.8))
        else:
            found.add(fact(who, "diet", f"{who.display} is {diet}.", diet, 0.8))
    elif match := ON_DIET.search(clause):
        diet = match["diet"].lower()
        found.add(fact(who, "diet", f"{who.display} is on a {diet} diet.", diet, 0.75))
    elif match := WE_DIET.search(clause):
        diet = match["diet"].lower()
        found.add(fact(who, "diet", f"{who.display} is {diet}.", diet, 0.8))
        other = speaker_named(match["other"])
        found.add(fact(other, "diet", f"{other.display} is {diet}.", diet, 0.75))
    elif match := NO_MEAT.search(clause):
        food = match["food"].lower()
        found.add(fact(who, "diet", f"{who.display} doesn't eat {food}.", food, 0.7))
    if (
        (match := ALLERGIC.search(clause))
        and not NEGATED.search(clause[: match.start()])
        and not (who is THE_USER and OTHER_SUBJECT.search(clause[: match.start()]))
    ):  # "my colleague Omar is allergic to peanuts": not the user's (read as Omar's, rules.py)
        for item in _items(cut_list(match["rest"])):
            found.add(
                fact(
                    who,
                    f"allergy:{item.lower()}",
                    f"{who.display} is allergic to {item}.",
                    item,
                    0.8,
                )
            )
    elif match := MY_ALLERGY.search(clause):
        item = match["what"]
        found.add(
            fact(
                who, f"allergy:{item.lower()}", f"{who.display} is allergic to {item}.", item, 0.75
            )
        )
    if match := HEALTH_HAS.search(clause):
        rest = match["rest"].lower()
        for condition in HEALTH:
            if rest.startswith(condition):
                found.add(
                    fact(
                        who,
                        f"health:{condition}",
                        f"{who.display} has {condition}.",
                        condition,
                        0.75,
                    )
                )
                break
    if (match := CANNOT_EAT.search(clause)) and re.search(r"(?i)allerg|intoleran", clause):
        food = match["food"].strip()
        found.add(
            fact(who, f"allergy:{food.lower()}", f"{who.display} cannot eat {food}.", food, 0.7)
        )
    if match := BETTER.search(clause):
        found.add(ending(who, f"health:{match['part'].lower()}", ""))
    if NORMAL_BP.search(clause):
        found.add(ending(who, "health:high blood pressure", ""))
    if GAVE_BIRTH.search(clause):
        found.add(ending(who, "health:pregnant", ""))
    if PREGNANT.search(clause):
        found.add(fact(who, "health:pregnant", f"{who.display} is pregnant.", "pregnant", 0.8))
    if match := BODY_BAD.search(clause):
        part, how = match["part"].lower(), match["how"].lower()
        content = f"{who.possessive} {part} is {how}."
        found.add(fact(who, f"health:{part}", content, f"{part} is {how}", 0.7))
    if match := HAS_PROBLEMS.search(clause):
        problem = match["rest"].lower()
        found.add(fact(who, f"health:{problem}", f"{who.display} has {problem}.", problem, 0.7))
    if match := BROKE.search(clause):
        part = match["part"].strip()
        found.add(fact(who, f"health:{part}", f"{who.display} hurt their {part}.", part, 0.65))


def _items(value: str) -> list[str]:
    """ "peanuts, shellfish and cats" -> the three."""
    parts = re.split(r"\s*(?:,|\band\b|\bor\b|&|/)\s*", value)
    return [p.strip() for p in parts if p.strip() and p.strip().lower() not in ("stuff", "things")]
