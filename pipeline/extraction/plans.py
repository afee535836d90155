"""Facts about the people and animals in the speaker's life, and about their plans.

People: "my partner Zofia", "my wife, Ana,", "we've got a golden retriever called Biscuit", "I have
two kids", "I'm married to Sam", "we broke up". What a clause then says about the person ("my
partner Zofia is gluten intolerant") is read again as Zofia's own clause (rules.py), from
`about_others`.

Plans: "I'm flying to Lisbon in October", "our trip to Japan is in March", "we pushed Japan from
March to October" (the trip's time changes: the fact of that trip is replaced), "my dentist
appointment is on Tuesday".
"""

from __future__ import annotations

import re

from ..person import as_said_by_subject
from .candidates import Found, Speaker, speaker_named
from .lexicon import RELATIONS
from .patterns import ADV, FINDERS, NEGATED, ending, fact, finder, rx
from .values import cut, is_name_word, titled, tokens

_RELATION_WORDS = "|".join(sorted((re.escape(w) for w in RELATIONS), key=len, reverse=True))
MY_RELATION = rx(
    rf"\b(?:my|our)\s+(?:(?:lovely|little|older|younger|big|baby|best|new|old|two|three|golden|black|"
    rf"grey|gray|white|rescue|husky|sweet|\d+[- ]year[- ]old)\s+)*(?P<rel>{_RELATION_WORDS})s?\b[,\s]*"
    rf"(?:(?:is\s+)?(?:called|named)\s+|is\s+(?=(?-i:[A-Z])))?(?P<rest>.*)"
)
ANIMALS = (
    r"dog|cat|puppy|kitten|parrot|rabbit|bunny|hamster|horse|retriever|labrador|lab|terrier|"
    r"spaniel|poodle|beagle|tortoise|turtle|snake|lizard|gecko|budgie|guinea pig|ferret|goldfish"
)
HAVE_ANIMAL = rx(
    r"\b(?:I|we)\s+(?:just\s+)?(?:have|have got|got|adopted|rescued|own)\s+(?:[\w ]+?\s+and\s+)?"
    rf"(?:a|an|two|three)\s+(?P<kind>(?:[\w-]+\s+)?(?:{ANIMALS}))s?\b"
    r"(?:\s+(?:called|named)\s+(?P<name>\w+))?"
)
HAVE_CHILDREN = rx(
    r"\b(?:I|we)\s+have\s+(?P<n>a|one|two|three|four|\d)\s+(?P<what>kids?|children|child|sons?|daughters?|boys?|girls?)\b"
)
MARRIED = rx(r"\bI\s+" + ADV + r"(?:am|got|just got)\s+(?:married|engaged)\s+to\s+(?P<rest>.+)")
SPLIT = rx(
    r"\b(?:I|we|me and (?P<with1>[A-Za-z]+)|(?P<with2>[A-Za-z]+) and (?:I|me))\s+(?:just\s+|have\s+)?"
    r"(?:broke up|split up|separated|got divorced|divorced|called it off)(?:\s+with\s+(?P<rest>\w+))?"
)
PARENT = rx(
    r"^(?:my\s+)?(?P<rel>mum|mom|mother|dad|father)\s+(?P<said>(?:is|was|has|rang|called|came|went|flew|lives|loves|cried|says|said|visited|texted|sent|keeps|always)\b.*)"
)
# "my sister lives in Toronto", "my son just started school": what an unnamed relative does.
RELATIVE = rx(
    r"^(?:my|our)\s+(?:(?:older|younger|big|little|twin|eldest|youngest|oldest)\s+)?"
    r"(?P<rel>sister|brother|son|daughter|wife|husband|grandma|grandmother|grandpa|grandfather|"
    r"aunt|uncle|cousin|boss|manager)\s+(?P<said>(?P<verb>lives|lived|moved|works|worked|is|was|"
    r"just|got|has|studies|plays|turned|started|teaches|runs|owns)\b.*)"
)
DIED = rx(
    r"\b(?P<name>(?-i:[A-Z])\w+)\s+(?:died|passed away|passed|was put down|was put to sleep)\b"
)
BACK_FROM = rx(
    r"\b(?:back|came back|got back|returned|home)\s+from\s+(?P<place>(?-i:[A-Z])[\w'-]+)"
)
DID_IT = rx(
    r"\b(?:did|finished|completed|ran|passed)\s+(?:the|my)\s+(?P<what>(?-i:[A-Z])?[\w' -]+?)(?:[!.,]|$)"
)
WONT_DO = rx(
    r"\b(?:won't|will not|can't|cannot|are not going to|aren't going to|am not going to)\s+(?:do|run|make|attend|go to|race)\s+(?:the|our|my)\s+(?P<what>[\w' -]+?)(?:\s+(?:together|anymore|any more|after all|this year)|[!.,]|$)"
)
DEFENDED = rx(r"\b(?:defended|graduated)\b")
TOGETHER = rx(
    r"\b(?P<name>(?-i:[A-Z])\w+)\s+and\s+(?:I|me)\s+are\s+(?:now\s+)?(?:together|dating|a couple|engaged|married|an item)\b"
)
NAMED = rx(
    rf"\b(?:an?|our|my)\s+(?P<kind>(?:[\w-]+\s+)?(?:{_RELATION_WORDS}))\b[^.!?]*?\bnamed\s+(?:him|her|it|them)\s+(?P<name>(?-i:[A-Z])\w+)"
)
NAME_FIRST = rx(
    rf"^(?P<name>(?-i:[A-Z])\w+),\s+(?:my|our)\s+(?:\w+\s+)?(?P<rel>{_RELATION_WORDS})\b"
)
ABOUT_VERBS = re.compile(
    r"^(?:is|was|has|had|works|worked|lives|lived|loves|likes|hates|just|got|became|started|moved|"
    r"turned|can't|cannot|doesn't|does|speaks|plays|studies)\b",
    re.IGNORECASE,
)


def relation_of(word: str) -> tuple[str, bool]:
    return RELATIONS[word.lower().rstrip("s") if word.lower() not in RELATIONS else word.lower()]


@finder
def find_people(clause: str, who: Speaker, found: Found) -> None:
    for match in MY_RELATION.finditer(clause):
        rel = match["rel"].lower()
        topic, single = relation_of(rel)
        words = tokens(match["rest"])
        if words and words[0].lower().endswith("'s"):  # "my boyfriend Tunde's parents"
            words[0] = words[0][:-2]
        name = ""
        if (
            words
            and is_name_word(words[0], lower_ok=True)
            and (
                words[0][0].isupper() or (len(words) > 1 and ABOUT_VERBS.match(" ".join(words[1:])))
            )
        ):
            name = titled(words[0])
        if not name:
            continue  # "my partner is great": no fact without a name
        key = topic if single else f"{topic}:{name.lower()}"
        label = rel if topic in ("pet", "child", "sibling", "parent") else topic
        found.add(fact(who, key, f"{who.possessive} {label} is {name}.", name, 0.75))
    if match := HAVE_ANIMAL.search(clause):
        kind = match["kind"].lower()
        name = match["name"] and titled(match["name"])
        value = name or f"a {kind}"
        content = (
            f"{who.display} has a {kind} called {name}." if name else f"{who.display} has a {kind}."
        )
        found.add(fact(who, f"pet:{(name or kind).lower()}", content, value, 0.75))
    if (match := HAVE_CHILDREN.search(clause)) and not NEGATED.search(clause[: match.start()]):
        value = f"{match['n']} {match['what']}"
        found.add(fact(who, "children", f"{who.display} has {value}.", value, 0.75))
    if match := MARRIED.search(clause):
        name = titled(cut(match["rest"], max_words=2, proper=True))
        topic = "spouse" if "married" in match.group(0).lower() else "partner"
        if name:
            found.add(fact(who, topic, f"{who.possessive} {topic} is {name}.", name, 0.8))
    if match := SPLIT.search(clause):
        name = titled(match["rest"] or match["with1"] or match["with2"] or "")
        if name.lower() in ("we", "i"):
            name = ""
        found.add(ending(who, "partner", name))
        found.add(ending(who, "spouse", name))
    if match := PARENT.search(clause):
        rel, said = match["rel"].lower(), match["said"].rstrip(" .!")
        found.add(fact(who, f"parent:{rel}", f"{who.possessive} {rel} {said}.", rel, 0.65))
    elif (match := RELATIVE.search(clause)) and not (
        match["verb"].lower() == "is" and re.match(r"(?i)is\s+(?-i:[A-Z])", match["said"])
    ):  # "my sister is Ana" is her name (above)
        rel, said = match["rel"].lower(), match["said"].rstrip(" .!")
        topic = f"{rel}:said:{match['verb'].lower()}"
        found.add(fact(who, topic, f"{who.possessive} {rel} {said}.", rel, 0.65))
    if match := DIED.search(clause):
        found.add(ending(who, f"pet:{match['name'].lower()}", ""))
    if match := TOGETHER.search(clause):
        name = match["name"]
        found.add(fact(who, "partner", f"{who.possessive} partner is {name}.", name, 0.75))
    if match := NAMED.search(clause):
        name = match["name"]
        kind = (match["kind"] or "pet").lower()
        content = f"{who.display} has a {kind} called {name}."
        found.add(fact(who, f"pet:{name.lower()}", content, name, 0.75))
    if match := NAME_FIRST.search(clause):
        topic, single = relation_of(match["rel"])
        rel, name = match["rel"].lower(), match["name"]
        key = topic if single else f"{topic}:{name.lower()}"
        found.add(fact(who, key, f"{who.possessive} {rel} is {name}.", name, 0.75))


def find_about_others(clause: str, who: Speaker, found: Found) -> None:
    """What the clause says of the people it names ("my partner Zofia is gluten intolerant",
    "my sister lives in Toronto"), read as their own clauses by every finder. An unnamed
    relative's own facts ("sister:location") take the place of their sentence kept whole
    ("parent:mum", "sister:said:lives": `find_people`)."""
    for them, own in about_others(clause, who):
        subject, as_them = as_said_by_subject(own)
        if subject is None:  # not read as theirs ("mum rang earlier")
            continue
        theirs = Found()
        for find in FINDERS:
            find(as_them, them, theirs)
        if theirs.facts:
            rel = them.key.rstrip(":").rsplit(":", 1)[-1]
            found.facts[:] = [
                f
                for f in found.facts
                if f.topic != f"parent:{rel}" and not f.topic.startswith(f"{rel}:said:")
            ]
        for theirs_fact in theirs.facts:
            found.add(theirs_fact)


def about_others(clause: str, who: Speaker) -> list[tuple[Speaker, str]]:
    """(who it is, what the clause says of them as their own clause) for "my partner Zofia is
    gluten intolerant" -> (Zofia, "Zofia is gluten intolerant"), and for an unnamed relative,
    "my sister lives in Toronto" -> (the user's sister, "Sister lives in Toronto"): her facts are
    then keyed "sister:location", as a named person's are "zofia:location"."""
    out = []
    for match in MY_RELATION.finditer(clause):
        words = tokens(match["rest"])
        if len(words) > 1 and is_name_word(words[0], lower_ok=True):
            rest = match["rest"][len(words[0]) :].strip(" ,")
            if ABOUT_VERBS.match(rest):
                out.append((speaker_named(titled(words[0])), f"{titled(words[0])} {rest}"))
    if match := PARENT.search(clause) or RELATIVE.search(clause):
        rel = match["rel"].lower()
        relative = Speaker(display=f"{who.possessive} {rel}", key=f"{who.key}{rel}:")
        out.append((relative, f"{rel.capitalize()} {match['said']}"))
    return out


# --- Plans ---------------------------------------------------------------------------------------

TIME = (
    r"(?P<time>(?:in|on|this|next|at|around|for|until|till|by)\s+(?:the\s+)?(?:\d{1,2}(?:st|nd|rd|th)?(?:\s+of)?\s+(?-i:[A-Z])[a-z]+|"
    r"(?:early\s+|late\s+|mid[- ]|end of\s+)?(?-i:[A-Z])[a-z]+(?:\s+\d{1,2}(?:st|nd|rd|th)?)?|[\w]+(?:\s+weekend)?))"
)
GOING = rx(
    r"\b(?:I|we)\s+(?:am|are|will be|will|'re|'m)?\s*(?:going|flying|fly|go|head|heading|travelling|traveling|travel|off|driving|drive|"
    r"moving|move|visiting|visit|planning (?:a trip|to go))\s+(?:(?:back|home|up|down|over|out)\s+)*(?:to\s+)?(?P<place>(?-i:[A-Z])[\w'-]*(?:\s+(?-i:[A-Z])[\w'-]*)?)\s*(?:"
    + TIME
    + r")?"
)
TRIP = rx(
    r"\b(?:my|our|the)\s+(?:(?P<place1>(?-i:[A-Z])[\w'-]*(?:\s+(?-i:[A-Z])[\w'-]*)?)\s+)?(?:trip|vacation|holiday|"
    r"honeymoon|visit)(?:\s+to\s+(?P<place2>(?-i:[A-Z])[\w'-]*(?:\s+(?-i:[A-Z])[\w'-]*)?))?\s+(?:is|will be|'s)\s+"
    + TIME
)
MOVED_PLAN = rx(
    r"\b(?:pushed|moved|rescheduled|postponed|postpone|delayed|bumped|shifted|changed)\s+(?:back\s+)?"
    r"(?:(?:our|my|the)\s+)?(?:(?P<what>[\w' -]+?)\s+)?(?:trip\s+)?(?:from\s+(?P<old>\w+)\s+)?(?:to|until|till)\s+(?P<time>[\w]+(?:\s+\d{1,2})?)"
)
EVENT = rx(
    r"\b(?:my|our)\s+(?P<what>(?:[\w-]+\s+)?(?:wedding|graduation|surgery|operation|exam|exams|interview|"
    r"appointment|conference|defense|defence|recital|race|marathon|due date|party|flight))(?:\s+is|'s)?\s+"
    + TIME
)
APPOINTMENT = rx(
    r"\bI\s+"
    + ADV
    + r"have\s+(?:a|an|my)\s+(?P<what>dentist|doctor|doctor's|job interview|interview|exam|"
    r"hospital|vet|therapy|physio)(?:\s+appointment)?\s+" + TIME
)
WANT_TO_DO = rx(
    r"\b(?:I|we)\s+(?:\w+\s+)?(?:want|plan|hope|are going|am going|intend)\s+to\s+(?:do|run|enter|race|walk|ride)\s+(?:the|a)\s+(?P<what>(?-i:[A-Z])[\w' -]*?)\s+"
    + TIME
)
SIGNED_UP = rx(
    r"\b(?:signed up for|registered for|entered|booked)\s+(?:the\s+|a\s+)?(?P<what>(?-i:[A-Z])[\w' -]*?)\s+"
    + TIME
)
INTERVIEW = rx(r"\b(?P<what>interview|exam|surgery|operation|appointment)(?:'s| is)\s+" + TIME)
NOT_TIMES = frozenset(["the", "a", "an", "my", "our", "it", "that", "this"])


def _plan(who: Speaker, found: Found, what: str, time: str, *, travel: bool) -> None:
    """`time` keeps its preposition ("in October", "next week", "on the 24th of March")."""
    time = (time or "").strip()
    what = what.strip()
    bare = re.sub(r"(?i)^(?:in|on|at|around|for|until|till|from|by)\s+", "", time)
    if not what or bare.lower() in NOT_TIMES:
        return
    key = f"plan:{what.lower()}"
    if travel:
        content = f"{who.display} is going to {what}" + (f" {time}." if time else ".")
    else:
        content = f"{who.possessive} {what} is {time or 'planned'}."
    found.add(fact(who, key, content, bare or what, 0.7))


@finder
def find_plans(clause: str, who: Speaker, found: Found) -> None:
    if match := BACK_FROM.search(clause):
        found.add(ending(who, f"plan:{match['place'].lower()}", ""))
    if match := DID_IT.search(clause):
        found.add(ending(who, "plan:*", match["what"].strip()))
    if match := WONT_DO.search(clause):
        found.add(ending(who, "plan:*", match["what"].strip()))
    if DEFENDED.search(clause):
        found.add(ending(who, "plan:defence", ""))
        found.add(ending(who, "plan:defense", ""))
        found.add(ending(who, "school", ""))
    if match := MOVED_PLAN.search(clause):
        what = (match["what"] or "").strip()
        what = re.sub(r"(?i)^(?:the|our|my)\s+|\s+trip$", "", what)
        if what.lower() in ("it", "that", "this", "them", ""):  # "update on Japan: we pushed it…"
            named = re.search(r"\b(?:on|about|re)\s+((?-i:[A-Z])[\w'-]+)", clause)
            what = named.group(1) if named else ""
        if what and match["time"]:
            _plan(who, found, titled(what), f"in {match['time']}", travel=True)
            return
    if match := TRIP.search(clause):
        place = match["place1"] or match["place2"]
        if place:
            _plan(who, found, place, match["time"], travel=True)
            return
    match = GOING.search(clause)
    moving_now = match and re.search(r"(?i)\bmoving\b", match.group(0)) and not match["time"]
    if (
        match
        and not moving_now
        and not NEGATED.search(clause[: match.start()])
        and match["place"].lower() != "the"
    ):
        _plan(who, found, match["place"], match["time"] or "", travel=True)
        return
    if match := SIGNED_UP.search(clause) or WANT_TO_DO.search(clause):
        _plan(who, found, match["what"].strip(), match["time"], travel=False)
        return
    if match := EVENT.search(clause) or APPOINTMENT.search(clause) or INTERVIEW.search(clause):
        _plan(who, found, match["what"].lower(), match["time"], travel=False)
