"""Facts about what the speaker likes and dislikes, prefers, does in their free time, speaks,
uses and drives (the finders register themselves in patterns.FINDERS)."""

from __future__ import annotations

import re

from elephantasm.text import words

from ..person import third_person_verb
from .candidates import Found, Speaker
from .lexicon import HOBBIES, LANGUAGES, NOT_LIKES
from .patterns import ADV, NEGATED, ending, fact, finder, rx
from .values import cut

# --- What they like, do, speak, use -------------------------------------------------------------

LIKE = rx(
    r"\bI\s+"
    + ADV
    + r"(?:really\s+|absolutely\s+|totally\s+|just\s+|kinda\s+|also\s+|still\s+|genuinely\s+)*"
    r"(?P<verb>love|adore|enjoy|like|am obsessed with|am really into|am into|am a (?:huge|big|massive) fan of)\s+(?P<rest>.+)"
)
DISLIKE = rx(
    r"\bI\s+"
    + ADV
    + r"(?:really\s+|absolutely\s+|totally\s+|just\s+|honestly\s+)*(?P<verb>hate|dislike|detest|loathe|"
    r"can't stand|cannot stand|don't like|do not like|don't really like|am not a fan of|am not into)\s+(?P<rest>.+)"
)
FAVOURITE = rx(
    r"\bmy\s+(?:all[- ]time\s+)?(?:favourite|favorite|fav|fave)\s+(?P<slot>[\w ]{2,20}?)\s+(?:is|are|has to be|would be|=)\s+(?P<rest>.+)"
)
FAVOURITE_AFTER = rx(
    r"(?P<rest>[\w' -]{2,40}?)\s+(?:is|are)\s+my\s+(?:favourite|favorite|fav|fave)\s+(?P<slot>\w+)"
)
PREFER = rx(r"\bI\s+" + ADV + r"prefer\s+(?P<v>.+?)(?:\s+(?:over|to|rather than)\s+(?P<w>.+))?$")
HOBBY = rx(
    r"\bI\s+"
    + ADV
    + r"(?:\w+\s+)?(?:play|am playing|have been playing|started playing|took up|have taken up|picked up|"
    r"got into|have gotten into|have got into|am getting into|have been getting into|"
    r"have been learning|am learning|started learning|do|am doing|doing|practice|practise|love|go|went|started)\s+(?:the\s+)?(?P<rest>.+)"
)
HOBBY_ENDED = rx(
    r"\bI\s+" + ADV + r"(?:quit|stopped|gave up)\s+(?:playing\s+|doing\s+)?(?:the\s+)?(?P<rest>\w+)"
)
_DOING = {
    "run": "running",
    "swim": "swimming",
    "cycle": "cycling",
    "bike": "cycling",
    "climb": "climbing",
    "hike": "hiking",
    "surf": "surfing",
    "ski": "skiing",
    "skate": "skating",
    "dance": "dancing",
    "paint": "painting",
    "knit": "knitting",
    "bake": "baking",
    "sail": "sailing",
    "row": "rowing",
    "box": "boxing",
}
I_DO = rx(
    r"\bI\s+"
    + ADV
    + r"(?P<verb>run|swim|cycle|bike|climb|hike|surf|ski|skate|dance|paint|knit|bake|sail|row|box)\s+(?:\d+|every|most|on|a lot|several|three|twice|once|daily|each)\b"
)
CLASS = rx(
    r"\b(?:I|we)\s+(?:am\s+|are\s+|have\s+)?"
    + ADV
    + r"(?:taking|take|joined|doing|do|started|signed up for)\s+(?:a|an|the)\s+(?P<what>[\w-]+(?:\s+[\w-]+)?)\s+(?P<kind>class|club|course|lessons|group|team)\b"
)
MY_THING = rx(
    r"^(?P<what>(?-i:[A-Z])[\w-]+|[\w]+ing)\s+is\s+my\s+(?:thing|jam|passion|happy place)\b"
)
BRANDS = r"volvo|kia|toyota|yaris|tesla|ford|f-150|f150|honda|civic|vw|volkswagen|golf|bmw|audi|mercedes|polestar|nissan|leaf|hyundai|skoda|renault|peugeot|fiat|mazda|subaru|jeep|chevy|chevrolet|dodge|ram|prius|corolla|mini|canyon|trek|specialized|cannondale|brompton|vespa|ducati|yamaha|harley|rivian|lexus|porsche|seat|citroen|dacia|opel"
VEHICLE = rx(
    r"\b(?P<verb>my|bought|got|drive|own|sold|selling|have|has|picked up)\s+(?:(?:a|an|the|my|used|new|second-hand|secondhand|old|\d{4})\s+)*(?P<v>(?:"
    + BRANDS
    + r")\b(?:[ -](?:(?-i:[A-Z0-9])[\w-]*))?)"
)
APPS = r"duolingo|babbel|anki|busuu|memrise|strava|notion|jira|trello|asana|slack|figma|excel|excalidraw|obsidian|todoist|spotify|github|gitlab|vs ?code|vim|neovim|emacs|pycharm|canva|photoshop|lightroom|blender|garageband|ableton|peloton|headspace|calm|myfitnesspal|kindle"
ON_APP = rx(r"\b(?:on|in|using|with)\s+(?P<tool>" + APPS + r")\b")
HOBBY_START = rx(
    r"^(?P<what>swimming|running|cycling|climbing|bouldering|hiking|walking|yoga|pilates|rowing|skating|surfing)\s+(?:\d+|every|most|on|twice|three|four|five|daily)\b"
)
TRAINING = rx(
    r"\btraining for\s+(?:a|an|the|my first|my)?\s*(?P<event>(?:(?-i:[A-Z])[\w-]+\s+){0,3})"
    r"(?P<rest>(?:half\s+)?marathon|triathlon|ultra|10k|5k|ironman)"
)
SPEAK = rx(
    r"\bI\s+"
    + ADV
    + r"(?:speak|can speak|am fluent in|am a native (?:\w+ )?speaker of|am learning|am studying|am practicing my|am practising my|am improving my|started)\s+(?P<rest>.+)"
)
TRACK_IN = rx(
    r"\b(?:I|we)\s+(?:\w+\s+)?(?:track|manage|plan|organi[sz]e|keep|do|write)\s+(?:everything|all|it all|our \w+|my \w+)\s+in\s+(?P<tool>(?-i:[A-Z])[\w.]+)"
)
USE = rx(
    r"\b(?:I|we)\s+"
    + ADV
    + r"(?:mostly\s+|mainly\s+|usually\s+)?(?:use|code in|program in|write code in)\s+(?P<v>[\w.#+ -]+?)(?:\s+for\s+(?P<purpose>[\w ]+))?(?:[,.!;]|$|\s+(?:and|but|because|since|at)\b)"
)
DRIVE = rx(r"\bI\s+" + ADV + r"(?:drive|own|have)\s+an?\s+(?P<rest>(?:(?-i:[A-Z])[\w-]*\s*){1,3})")
MY_ATTRIBUTE = rx(
    r"\bmy\s+(?P<slot>email|email address|phone number|number|address|website|username|handle|github|"
    r"pronouns|nickname|middle name|timezone|time zone|editor|ide|os|browser|shoe size|blood type|"
    r"star sign|zodiac sign|native language|mother tongue)\s+is\s+(?P<rest>.+)"
)


@finder
def find_tastes(clause: str, who: Speaker, found: Found) -> None:
    if (match := FAVOURITE.search(clause)) or (match := FAVOURITE_AFTER.search(clause)):
        slot = match["slot"].strip().lower()
        value = (
            cut(match["rest"], max_words=6, proper=True)
            if match.re is FAVOURITE
            else match["rest"].strip()
        )
        value = value.strip(" ,")
        if value:
            content = f"{who.possessive} favourite {slot} is {value}."
            found.add(fact(who, f"preference:{slot}", content, value, 0.75))
        return
    if (match := DISLIKE.search(clause)) and _a_taste(match["rest"]):
        value = cut(match["rest"], max_words=5)
        found.add(
            fact(who, f"dislikes:{value.lower()}", f"{who.display} dislikes {value}.", value, 0.7)
        )
    elif (
        (match := LIKE.search(clause))
        and _a_taste(match["rest"])
        and not NEGATED.search(clause[: match.start()])
    ):
        rest = re.sub(
            r"(?i)^(?:anything|everything|all things|stuff)\s+(?:on|about|by|from|with|to do with)\s+(?:the\s+)?",
            "",
            match["rest"],
        )
        value = cut(rest, max_words=5, proper=rest != match["rest"] and rest[:1].isupper())
        first = value.split()[0].lower() if value else ""
        if first not in HOBBIES and not (first.endswith("ing") and first[:-3] in _SPORT_VERBS):
            content = f"{who.display} likes {value}."
            found.add(fact(who, f"likes:{value.lower()}", content, value, 0.7))
    if match := PREFER.search(clause):
        v, w = cut(match["v"], max_words=5), cut(match["w"] or "", max_words=5)
        if v and w:
            pair = "|".join(sorted((v.lower(), w.lower())))
            found.add(
                fact(who, f"preference:{pair}", f"{who.display} prefers {v} over {w}.", v, 0.75)
            )
        elif v:
            found.add(fact(who, f"preference:{v.lower()}", f"{who.display} prefers {v}.", v, 0.7))


def _a_taste(rest: str) -> bool:
    if re.match(r"(?i)the\s+(?-i:[A-Z])", rest):  # "the Lakers", "the Beatles": a name
        return True
    words = rest.lower().split()
    return bool(words) and words[0] not in NOT_LIKES and " ".join(words[:2]) not in NOT_LIKES


@finder
def find_pastimes(clause: str, who: Speaker, found: Found) -> None:
    if match := HOBBY_ENDED.search(clause):
        word = match["rest"].lower()
        if word in HOBBIES or word.endswith("ing"):
            found.add(ending(who, f"hobby:{word}", word))
            return
    for match in HOBBY.finditer(clause):
        first = match["rest"].split()[0].lower().strip(",.!") if match["rest"].split() else ""
        if first in HOBBIES or (first.endswith("ing") and first[:-3] in _SPORT_VERBS):
            verb = match.group(0).lower()
            doing = (
                "is learning"
                if "learn" in verb
                else "plays"
                if re.search(r"\bplay", verb) and not first.endswith("ing")
                else "enjoys"
            )
            found.add(fact(who, f"hobby:{first}", f"{who.display} {doing} {first}.", first, 0.7))
            break
    if match := I_DO.search(clause):
        doing = _DOING[match["verb"].lower()]
        found.add(fact(who, f"hobby:{doing}", f"{who.display} enjoys {doing}.", doing, 0.7))
    if (match := CLASS.search(clause)) and not NEGATED.search(clause[: match.start()]):
        what = match["what"].lower()
        found.add(
            fact(
                who,
                f"hobby:{what}",
                f"{who.display} does {what} ({match['kind'].lower()}).",
                what,
                0.7,
            )
        )
    if match := MY_THING.search(clause):
        what = match["what"].strip()
        found.add(fact(who, f"hobby:{what.lower()}", f"{who.display} loves {what}.", what, 0.7))
    if match := TRAINING.search(clause):
        race = match["rest"].lower()
        named = f"the {match['event']}{race}" if match["event"] else f"a {race}"
        found.add(fact(who, f"hobby:{race}", f"{who.display} is training for {named}.", race, 0.7))
    if match := SPEAK.search(clause):
        for word in re.findall(r"[A-Za-z]+", match["rest"])[:6]:
            if word.lower() in LANGUAGES:
                lang = word.capitalize()
                learning = re.search(r"(?i)learn|study|start|practi[cs]|improv", match.group(0))
                verb = "is learning" if learning else "speaks"
                found.add(
                    fact(
                        who, f"language:{lang.lower()}", f"{who.display} {verb} {lang}.", lang, 0.75
                    )
                )
    if (match := ON_APP.search(clause)) and re.search(r"\b(?:I|we)\b", clause):
        tool = match["tool"]
        found.add(fact(who, f"tool:{tool.lower()}", f"{who.display} uses {tool}.", tool, 0.65))
    if match := HOBBY_START.search(clause):
        what = match["what"].lower()
        found.add(fact(who, f"hobby:{what}", f"{who.display} enjoys {what}.", what, 0.65))
    if match := TRACK_IN.search(clause):
        tool = match["tool"]
        found.add(fact(who, f"tool:{tool.lower()}", f"{who.display} uses {tool}.", tool, 0.7))
    if match := USE.search(clause):
        tool = match["v"].strip()
        if (
            tool
            and tool.lower() not in ("it", "that", "this", "them", "the", "a", "an")
            and len(tool) < 40
        ):
            purpose = (match["purpose"] or "").strip()
            key = f"tool:{purpose.lower()}" if purpose else f"tool:{tool.lower()}"
            tail = f" for {purpose}" if purpose else ""
            found.add(fact(who, key, f"{who.display} uses {tool}{tail}.", tool, 0.7))
    if VEHICLE.search(clause):
        find_possessions(clause, who, found)
    elif match := DRIVE.search(clause):
        car = match["rest"].strip()
        found.add(fact(who, "vehicle", f"{who.display} drives a {car}.", car, 0.7))
    if match := MY_ATTRIBUTE.search(clause):
        slot = match["slot"].lower()
        value = re.split(r"\s+(?:and|but|so|though)\b|[,;!?]|\.(?:\s|$)", match["rest"])[0].strip()
        if value and len(value.split()) <= 4:
            found.add(fact(who, slot, f"{who.possessive} {slot} is {value}.", value, 0.6))


_SPORT_VERBS = words(
    "hik climb run jogg cycl swimm surf ski snowboard skat danc bak cook fish sail row "
    "box kayak garden paint draw knitt sew "
)


def find_possessions(clause: str, who: Speaker, found: Found) -> None:
    """Vehicles, also named in a question ("should I sell my Volvo V70?": the user has one)."""
    if match := VEHICLE.search(clause):
        car = match["v"].strip()
        if match["verb"].lower() in ("sold", "selling"):
            found.add(ending(who, "vehicle", car))
        else:
            found.add(fact(who, "vehicle", f"{who.display} drives a {car}.", car, 0.7))


HABIT = rx(
    r"\bI\s+(?P<how>always|usually|normally|typically|tend to|never)\s+(?P<rest>(?!forget|remember|wonder|feel|get |think|know|mess|say)[a-z][^,.;!?]{8,90})"
)
BEEN_TO = rx(
    r"\bI\s+(?:have\s+(?:already\s+)?been\s+to|visited|went\s+to)\s+(?P<place>(?-i:[A-Z])[\w'-]+(?:\s+(?-i:[A-Z])[\w'-]+)?)\s+(?P<when>(?:last|in|this)\s+\w+|(?:\w+\s+)?(?:years?|months?)\s+ago|before|twice|once)\b"
)


@finder
def find_ways(clause: str, who: Speaker, found: Found) -> None:
    """What the speaker does as a rule (a METHOD: "I always run the tests before pushing") and
    has lived through (an EXPERIENCE: "I've been to Japan twice")."""
    if (match := HABIT.search(clause)) and not who.key:
        how, rest = match["how"].lower(), match["rest"].strip()
        verb, _, tail = rest.partition(" ")
        done = (
            f"{how} {third_person_verb(verb)} {tail}".strip()
            if how != "tend to"
            else f"tends to {rest}"
        )
        key = "method:" + " ".join(rest.lower().split()[:4])
        found.add(fact(who, key, f"{who.display} {done}.", rest, 0.6, kind="METHOD"))
    if match := BEEN_TO.search(clause):
        place, when = match["place"], match["when"]
        content = f"{who.display} has been to {place} ({when})."
        found.add(fact(who, f"experience:{place.lower()}", content, place, 0.6, kind="EXPERIENCE"))
