"""Facts about where and as what the speaker works, and where and what they study (the finders
register themselves in patterns.FINDERS)."""

from __future__ import annotations

import re

from .candidates import Found, Speaker
from .patterns import ADV, NEGATED, ending, fact, finder, rx
from .values import cut, is_occupation, says_a_name, titled

# --- Work and study -------------------------------------------------------------------------------

WORK_AT = rx(
    r"\bI\s+"
    + ADV
    + r"(?:currently\s+|still\s+|now\s+)?(?:work|am working|am still working|have been working|have worked|"
    r"will be working|am going to be working|will work)\s+"
    r"(?:(?:remotely|full[- ]time|part[- ]time|freelance|mostly|now)\s+)?"
    r"(?:as\s+an?\s+(?P<job>[\w -]+?)\s+)?(?:at|for|with)\s+(?P<rest>[^,.;!?]+?)(?:\s+as\s+(?:an?\s+)?(?P<job2>[\w -]+?))?(?:[,.;!?]|$|\s+(?:and|but|so|since|because|now)\b)"
)
JOINED = rx(
    r"(?:\bI\s+(?:just\s+|finally\s+|officially\s+)?(?:joined|started at|start at|am starting at|"
    r"will start at|got a job at|got a job with|got hired (?:at|by)|landed a job at|"
    r"accepted an offer from|am joining|will be joining|signed with)|\bjoining|\bsince I started at|"
    r"\baccepted (?:the|an?)(?= (?-i:[A-Z])\w+ offer)|"
    r"\bnew job at|\bI am now at|\bnow working at|\bI work at|\bstarting at)\s+(?P<rest>.+)"
)
# "I just started as a data engineer at Acme", "started a new job as a nurse at St. Mary's"
STARTED_AS = rx(
    r"\bI\s+"
    + ADV
    + r"(?:just\s+|recently\s+|finally\s+|officially\s+)?(?:started|began|am starting|will start|"
    r"will be starting|start)\s+(?:(?:a|my)\s+(?:new\s+)?(?:job|role|position)\s+|work(?:ing)?\s+)?"
    r"as\s+(?:an?\s+|the\s+)?(?P<job>[\w -]+?)\s+(?:at|for|with)\s+(?P<rest>.+)"
)
OVER_AT = rx(r"\bover at\s+(?P<rest>.+)")
WORK_WORDS = rx(
    r"\b(?:work|working|job|team|office|shift|boss|colleague|engineer|manager|company|we ship|"
    r"we deploy|we release|sprint|standup|stand-up|on-call|client|customers|we)\b"
)
LEFT = rx(
    r"\bI\s+"
    + ADV
    + r"(?:just\s+|finally\s+)?(?:am\s+|have\s+)?(?:left|leaving|quit|quitting|resigned from|"
    r"am resigning from|got laid off (?:from|at|by)|got fired from|was let go from|handed in my notice at)\s+(?P<rest>.+)"
    r"|\bmy last day at\s+(?P<last>[^,.;!?]+?)\s+(?:was|is)\b"
)
I_TEACH = rx(r"\bI\s+" + ADV + r"(?P<verb>tutor|teach|coach|nanny|freelance|bartend|babysit)\b")
_TEACHERS = {
    "tutor": "tutor",
    "teach": "teacher",
    "coach": "coach",
    "nanny": "nanny",
    "freelance": "freelancer",
    "bartend": "bartender",
    "babysit": "babysitter",
}
JOB_AT_START = rx(r"^(?:now\s+|new job:?\s+)?(?P<job>[\w -]{3,40}?)\s+at\s+(?P<rest>(?-i:[A-Z]).+)")
RETIRED = rx(r"\bI\s+" + ADV + r"am\s+(?:now\s+|officially\s+|finally\s+)?retired\b")
OWN_FIRM = rx(
    r"\b(?:run|own|started|founded|have)\s+my\s+own\s+(?:firm|company|business|shop|studio|practice|agency|bakery|restaurant)[,:\s]+(?:called\s+)?(?P<rest>(?-i:[A-Z]).+)"
)
NO_LONGER_AT = rx(r"\b(?:no longer|don't|do not) work(?:ing)? (?:at|for)\s+(?P<rest>.+)")
JOB_AS = rx(r"\bI\s+" + ADV + r"(?:work|am working)\s+as\s+an?\s+(?P<rest>.+)")
I_AM_A = rx(
    r"\bI\s+"
    + ADV
    + r"(?:am going to be|am gonna be|will be|have been|am)\s+(?:now\s+|currently\s+|still\s+|officially\s+)?(?:an?\s+)?(?P<rest>[\w -]+?)(?:\s+(?:over\s+)?(?:at|for|with)\s+(?P<at>.+)|[,.!;]|$|\s+(?:and|but|so|in|on|since|who|which|now|here|there|by|from|actually|too|though|lol|haha)\b)"
)
BECAME = rx(
    r"\bI\s+"
    + ADV
    + r"(?:just\s+)?(?:became|got promoted to|am now|have become)\s+an?\s+(?P<rest>.+)"
)
MY_JOB = rx(r"\bmy\s+(?:job|role|title|position)\s+is\s+(?P<rest>.+)")
NOT_A_ANYMORE = rx(
    r"\bI\s+" + ADV + r"am\s+(?:not|no longer)\s+an?\s+(?P<rest>[\w -]+?)(?:\s+any ?more\b|$|[,.!])"
)
STUDY = rx(
    r"\bI\s+"
    + ADV
    + r"(?:am\s+)?(?:study|studying|major in|majoring in|am doing a (?:degree|masters|master's|phd|bachelor's) in)\s+"
    r"(?P<rest>[\w &-]+?)(?:\s+at\s+(?P<at>.+)|[,.!;]|$|\s+(?:and|but|so|because|since|now)\b)"
)
STUDENT_AT = rx(
    r"\bI\s+"
    + ADV
    + r"am\s+(?:an?\s+)?(?:[\w-]+\s+)?(?:student|freshman|sophomore|junior|undergrad|grad student|phd student)\s+at\s+(?P<rest>.+)"
)
YEAR_AT = rx(
    r"\bI\s+"
    + ADV
    + r"am\s+(?:an?\s+)?(?:first|second|third|fourth|final|last|1st|2nd|3rd|4th)[- ]year\s+(?P<field>[\w ]+?)(?:\s+student)?\s+at\s+(?P<rest>.+)"
)
DEGREE = rx(
    r"\b(?:masters|master's|phd|doctorate|degree|bachelor's|bsc|msc|ba|mba|diploma)\s+in\s+(?P<field>[\w &-]+?)(?:\s+at\s+(?P<at>.+)|[,.!;]|$|\s+(?:and|but|so|because|since|starting|from|in)\b)"
)
SWITCHED = rx(
    r"\b(?:switched|changed)\s+(?:my\s+)?(?P<what>majors?\s+|degree\s+|course\s+|program\s+|programme\s+)?(?:to|into)\s+(?P<field>[\w ]+?)(?:[,.!;]|$|\s+(?:and|but|so|now)\b)"
)
# Without "my major" and the like, "switched to X" is about studies only next to these words
# ("switched to matcha" is not a field of study).
STUDY_WORDS = rx(
    r"\b(?:major|degree|course|uni|university|college|school|program|programme|studies)\b"
)
# A field of study by its shape ("biochemistry", "computer science", "law").
FIELD_SHAPE = rx(
    r"(?:ology|istry|ics|sciences?|engineering|studies|medicine|law|history|philosophy|"
    r"literature|arts?|nursing|architecture|design|maths?|mathematics|accounting|finance|"
    r"marketing|management|education|languages?)$"
)
GRADUATED = rx(r"\bI\s+" + ADV + r"(?:just\s+|finally\s+)?graduated(?:\s+from\s+(?P<rest>.+))?")


START_THE = rx(r"\bI\s+(?:start|am starting|begin)\s+(?:the|my|a|as)\s+(?P<job>\w+)\b")
GOT_A = rx(
    r"\bI\s+"
    + ADV
    + r"(?:got|landed|was offered|accepted|have got)\s+an?\s+(?:job as an?\s+)?(?P<job>[\w-]+)(?:\s+(?:job|position|role))?\s+(?:at|in|with)\b"
)
CLUBS = re.compile(r"\b(?:club|gym|class|team|group|community|league|choir|band|course)\b", re.I)
# "a teacher for ten years", "with them for a while": a time, not an employer.
DURATION = re.compile(
    r"(?i)^(?:(?:a|an|the|over|almost|about|nearly|some|a few|many|several|\d+|one|two|three|"
    r"four|five|six|seven|eight|nine|ten|twenty|last|past)\s+)+(?:years?|months?|weeks?|days?|"
    r"decades?|while|ages|bit|summers?|winters?)\b"
)


def _employer(value: str, who: Speaker, found: Found, confidence: float = 0.8) -> None:
    value = titled(value)
    if (
        CLUBS.search(value)
        or DURATION.search(value)
        or re.search(
            r"(?i)\b(?:january|february|march|april|may|june|july|"
            r"august|september|october|november|december)\b",
            value,
        )
    ):
        return  # "joined a tennis club", "start in September": no employer
    if value and value.lower() not in ("home", "work", "night", "the moment", "a startup"):
        found.add(fact(who, "employer", f"{who.display} works at {value}.", value, confidence))


# "their first data engineer", "the new head chef": the job is what follows.
JOB_DETERMINER = re.compile(
    r"(?i)^(?:their|our|his|her|its|your|the)\s+(?:(?:first|new|only|sole|second)\s+)?"
)


def _job(value: str, who: Speaker, found: Found) -> None:
    value = JOB_DETERMINER.sub("", value)
    if value and is_occupation(value):
        found.add(
            fact(who, "job", f"{who.display} works as {_article(value)} {value}.", value, 0.75)
        )


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"


def _no_article(clause: str, match: re.Match) -> bool:
    return not re.search(r"(?i)\ban?\s+$", clause[: match.start("rest")])


@finder
def find_work(clause: str, who: Speaker, found: Found) -> None:
    if (match := GOT_A.search(clause)) and is_occupation(match["job"]):
        _job(match["job"], who, found)
    if (match := START_THE.search(clause)) and is_occupation(match["job"]):
        _job(match["job"], who, found)
    if match := I_TEACH.search(clause):
        _job(_TEACHERS[match["verb"].lower()], who, found)
    if (match := JOB_AT_START.search(clause)) and is_occupation(match["job"]) and not who.key:
        _job(cut(match["job"], max_words=4), who, found)
        _employer(cut(match["rest"], max_words=4, proper=True), who, found, 0.75)
    if RETIRED.search(clause):
        found.add(fact(who, "job", f"{who.display} is retired.", "retired", 0.8))
    if match := OWN_FIRM.search(clause):
        _employer(cut(match["rest"], max_words=4, proper=True), who, found)
    if match := LEFT.search(clause):
        value = cut(match["rest"] or match["last"], max_words=4, proper=True)
        if value and not re.match(r"(?i)(?:my|the|a|an|it|that|this|work|home)\b", value):
            found.add(ending(who, "employer", titled(value)))
    elif match := NO_LONGER_AT.search(clause):
        found.add(ending(who, "employer", titled(cut(match["rest"], max_words=4, proper=True))))
    if (match := STARTED_AS.search(clause)) and not NEGATED.search(clause[: match.start()]):
        _employer(cut(match["rest"], max_words=4, proper=True), who, found)
        _job(cut(match["job"], max_words=4), who, found)
    elif match := WORK_AT.search(clause):
        if not NEGATED.search(clause[: match.start()]):
            _employer(cut(match["rest"], max_words=4, proper=True), who, found)
            for job in (match["job"], match["job2"]):
                if job:
                    _job(cut(job, max_words=4), who, found)
    elif (match := JOINED.search(clause)) and not NEGATED.search(clause[: match.start()]):
        _employer(cut(match["rest"], max_words=4, proper=True), who, found)
    elif (match := OVER_AT.search(clause)) and (
        WORK_WORDS.search(clause) or clause.lower().startswith("over at")
    ):
        _employer(cut(match["rest"], max_words=4, proper=True), who, found, 0.7)
    if match := JOB_AS.search(clause):
        _job(cut(match["rest"], max_words=4), who, found)
    elif (
        (match := I_AM_A.search(clause))
        and is_occupation(match["rest"])
        and not (_no_article(clause, match) and says_a_name(clause[match.start("rest") :]))
    ):
        _job(cut(re.sub(r"(?i)^an?\s+", "", match["rest"]), max_words=4), who, found)
        at = match["at"] or (
            m.group(1) if (m := re.search(r"\bat\s+((?-i:[A-Z]).+)", clause)) else ""
        )
        if at:
            _employer(cut(at, max_words=4, proper=True), who, found, 0.75)
    elif match := BECAME.search(clause) or MY_JOB.search(clause):
        _job(re.sub(r"(?i)^an?\s+", "", cut(match["rest"], max_words=4)), who, found)
    if (match := NOT_A_ANYMORE.search(clause)) and is_occupation(match["rest"]):
        found.add(ending(who, "job", cut(match["rest"], max_words=4)))
    if (match := NOT_A_ANYMORE.search(clause)) and "student" in match["rest"].lower():
        found.add(ending(who, "school", ""))
    _study(clause, who, found)


def _study(clause: str, who: Speaker, found: Found) -> None:
    if (match := STUDY.search(clause)) and not NEGATED.search(clause[: match.start()]):
        field = cut(match["rest"], max_words=4)
        if field and field.lower() not in ("hard", "a lot", "late", "tonight"):
            found.add(fact(who, "field", f"{who.display} studies {field}.", field, 0.7))
        if match["at"]:
            school = titled(cut(match["at"], max_words=5, proper=True))
            found.add(fact(who, "school", f"{who.display} studies at {school}.", school, 0.75))
    elif match := YEAR_AT.search(clause) or STUDENT_AT.search(clause):
        school = titled(cut(match["rest"], max_words=5, proper=True))
        found.add(fact(who, "school", f"{who.display} studies at {school}.", school, 0.75))
        if match.re is YEAR_AT:
            field = match["field"].strip()
            found.add(fact(who, "field", f"{who.display} studies {field}.", field, 0.7))
    graduated = GRADUATED.search(clause)
    if (match := DEGREE.search(clause)) and not NEGATED.search(clause[: match.start()]):
        field = match["field"].strip()
        if graduated:  # "I graduated from MIT with a degree in physics": studied, not studies
            found.add(fact(who, "degree", f"{who.display} has a degree in {field}.", field, 0.75))
        else:
            found.add(fact(who, "field", f"{who.display} studies {field}.", field, 0.7))
        if match["at"]:
            school = titled(cut(match["at"], max_words=5, proper=True))
            found.add(fact(who, "school", f"{who.display} studies at {school}.", school, 0.75))
    if (match := SWITCHED.search(clause)) and (
        match["what"] or STUDY_WORDS.search(clause) or FIELD_SHAPE.search(match["field"])
    ):
        field = match["field"].strip()
        if field and field.lower() not in ("it", "that", "this", "them"):
            found.add(fact(who, "field", f"{who.display} studies {field}.", field, 0.7))
    if graduated:
        school = cut(graduated["rest"] or "", max_words=5, proper=True)
        found.add(ending(who, "school", school))
        if school and school[0].isupper():
            content = f"{who.display} graduated from {school}."
            found.add(fact(who, "alma_mater", content, school, 0.75))
