#!/usr/bin/env python3
"""Build bench/eval/conversations.json: the retrieval evaluation's conversations and questions.

Deterministic (seeded randomness over templates): running it again writes the same file, which is
committed. Each conversation is one user talking with an assistant over several sessions; facts
about the user (preferences, plans, tools, names, places) are said once, in one user message,
among small talk, tool calls and near misses (messages on the same topic that do not answer).
Each fact gets two questions: `lexical` (shares the fact's key words) and `paraphrase` (says it
otherwise, so text search and vector search differ). A question's answer is the key of the event
that states the fact.

    .venv/bin/python bench/eval/build_dataset.py        # rewrites the file
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

SEED = 20250301
CONVERSATIONS = 6
SESSIONS = 8
FACTS_PER_CONVERSATION = 12
OUT = Path(__file__).resolve().parent / "conversations.json"

PEOPLE = ["Amara", "Bruno", "Chen", "Dalia", "Emeka", "Freya", "Goran", "Hana", "Ivo", "Jun"]
PETS = ["Biscuit", "Pepper", "Mochi", "Rufus", "Tofu", "Nala", "Ziggy", "Olive"]
CITIES = ["Lisbon", "Porto", "Tallinn", "Kraków", "Valencia", "Ghent", "Ljubljana", "Bergen"]
COUNTRIES = ["Japan", "Peru", "Iceland", "Morocco", "Vietnam", "Norway", "Chile", "Georgia"]
EDITORS = ["Neovim", "Helix", "Emacs", "Sublime Text", "Zed", "Kakoune"]
LANGS = ["Rust", "Elixir", "Haskell", "Kotlin", "Go", "OCaml"]
DBS = ["PostgreSQL", "SQLite", "ClickHouse", "DuckDB", "Cassandra"]
FOODS = ["ramen", "falafel", "pierogi", "ceviche", "dosa", "paella"]
SPORTS = ["bouldering", "rowing", "fencing", "trail running", "squash", "ultimate frisbee"]
BANDS = ["Radiohead", "Khruangbin", "Björk", "Portishead", "Nils Frahm", "Tinariwen"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
MONTHS = ["March", "April", "May", "June", "September", "October"]
ALLERGENS = ["peanuts", "shellfish", "sesame", "kiwi", "gluten"]
CARS = ["an old Volvo estate", "a red Fiat Panda", "a second-hand Tesla", "a Toyota Prius"]
INSTRUMENTS = ["cello", "banjo", "piano", "trumpet", "ukulele"]

# (name, slots, statements, lexical question, paraphrased question)
FACTS = [
    (
        "pet",
        {"x": PETS},
        ["We adopted a rescue dog last spring and named her {x}."],
        "What is the name of the user's dog?",
        "What do they call their four-legged companion?",
    ),
    (
        "sister",
        {"x": PEOPLE},
        ["My sister {x} is coming to stay with us for a couple of weeks."],
        "What is the name of the user's sister?",
        "Which sibling is visiting the household?",
    ),
    (
        "manager",
        {"x": PEOPLE},
        ["Heads up: my new manager at work is called {x}."],
        "Who is the user's manager at work?",
        "Whom does the user report to in their job?",
    ),
    (
        "home",
        {"x": CITIES},
        ["We finally moved into a flat in {x}, right by the river."],
        "Which city did the user move into a flat in?",
        "Where do they live these days?",
    ),
    (
        "trip",
        {"x": COUNTRIES, "m": MONTHS},
        ["I'm planning a two-week trip to {x} in {m}, flights are booked."],
        "Where is the user's planned trip with booked flights?",
        "Which country will they travel to on holiday?",
    ),
    (
        "editor",
        {"x": EDITORS},
        ["I do all my coding in {x} now, I switched editors last year."],
        "Which editor does the user code in?",
        "What program do they write software with?",
    ),
    (
        "language",
        {"x": LANGS},
        ["At work we're rewriting the ingestion pipeline in {x}."],
        "Which language is the ingestion pipeline being rewritten in?",
        "What programming language is their team adopting for the data import service?",
    ),
    (
        "database",
        {"x": DBS},
        ["Our analytics stack runs on {x}, it handles the dashboards."],
        "Which database runs the user's analytics stack?",
        "What storage engine powers their reporting and charts?",
    ),
    (
        "food",
        {"x": FOODS},
        ["Honestly my favourite food in the world is {x}."],
        "What is the user's favourite food?",
        "Which dish would they pick for a last meal?",
    ),
    (
        "allergy",
        {"x": ALLERGENS},
        ["Important: I'm allergic to {x}, please remember that."],
        "What is the user allergic to?",
        "Which ingredient must be kept out of their meals?",
    ),
    (
        "sport",
        {"x": SPORTS, "d": DAYS},
        ["I go {x} every {d} evening with friends."],
        "Which sport does the user do every week with friends?",
        "How do they keep fit after work?",
    ),
    (
        "music",
        {"x": BANDS},
        ["I've had {x} on repeat all week, such a good album."],
        "Which artist has the user had on repeat?",
        "What have they been listening to lately?",
    ),
    (
        "deadline",
        {"d": DAYS, "m": MONTHS},
        ["The grant proposal deadline is the first {d} of {m}, I can't miss it."],
        "When is the grant proposal deadline?",
        "By what date must the funding application be in?",
    ),
    (
        "car",
        {"x": CARS},
        ["We drive {x}, it's cheap to keep running."],
        "What car does the user drive?",
        "Which vehicle does the family own?",
    ),
    (
        "instrument",
        {"x": INSTRUMENTS},
        ["I started taking {x} lessons on Saturday mornings."],
        "Which instrument is the user taking lessons in?",
        "What are they learning to play?",
    ),
    (
        "standup",
        {"d": ["9:15", "9:30", "10:00", "10:45"]},
        ["Our daily standup moved to {d} because of the new timezone split."],
        "What time is the user's daily standup?",
        "When does their team meet each morning?",
    ),
    (
        "birthday",
        {"x": PEOPLE, "m": MONTHS},
        ["My partner {x} has a birthday in {m}, I need a gift idea."],
        "When is the birthday of the user's partner?",
        "In which month should they plan a present for their significant other?",
    ),
    (
        "gym",
        {"x": CITIES},
        ["The climbing gym I like is in the old tram depot in {x}."],
        "Where is the climbing gym the user likes?",
        "In what town do they go to train on walls?",
    ),
]

NEAR_MISSES = {
    "pet": ["My neighbour's dog barked all night again.", "Do dogs need a passport to travel?"],
    "sister": ["My friend's sister works in biotech.", "Siblings fight about the weirdest things."],
    "manager": ["Managers at my old job changed every year.", "What makes a good manager?"],
    "home": ["Flats near the river are expensive everywhere.", "Moving boxes are everywhere."],
    "trip": ["Flights got so expensive this year.", "My colleague is planning a trip too."],
    "editor": ["Editor wars are silly, use what works.", "Coding fonts matter more than editors."],
    "language": ["The old pipeline was a mess of scripts.", "Learning a new language is hard."],
    "database": ["Dashboards are always slow on Mondays.", "Which database is best for logs?"],
    "food": ["I cooked something bland yesterday.", "Food delivery takes forever here."],
    "allergy": ["Pollen season is brutal this year.", "Is it normal to sneeze at dust?"],
    "sport": ["Friends keep inviting me to sport events.", "My knee hurts after evening walks."],
    "music": ["The album artwork was weird.", "My speakers broke this week."],
    "deadline": ["Deadlines at work pile up in spring.", "The proposal template is confusing."],
    "car": ["Running costs of cars keep rising.", "Parking in the centre is impossible."],
    "instrument": ["Saturday mornings are for sleeping in.", "Lessons online are cheaper."],
    "standup": ["Standups that run long are the worst.", "Timezones make meetings hard."],
    "birthday": ["Gift ideas for coworkers, anyone?", "Birthdays at the office are awkward."],
    "gym": ["The old tram depot has a market now.", "Climbing shoes are pricey."],
}
SMALL_TALK = [
    "Can you summarise the article I pasted about remote work?",
    "Thanks, that was helpful.",
    "What's the weather looking like this weekend?",
    "Remind me to reply to the email from the landlord.",
    "Let's pick this up tomorrow.",
    "Could you draft a polite message declining the meeting?",
    "How many days until the end of the month?",
    "I'm tired today, keep answers short please.",
    "Write a haiku about coffee.",
    "What's a good way to structure a weekly review?",
]
REPLIES = [
    "Got it, I'll keep that in mind.",
    "Sure, here is a short version.",
    "Noted. Anything else?",
    "Happy to help with that.",
    "Here's a draft you can adapt.",
]
TOOLS = ["web_search", "calendar_lookup", "weather", "notes_search"]


def _fill(template: str, values: dict[str, str]) -> str:
    return template.format(**values)


def build(seed: int = SEED) -> dict:
    rng = random.Random(seed)
    start = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    conversations, questions = [], []
    for c in range(CONVERSATIONS):
        cid = f"c{c + 1}"
        facts = rng.sample(FACTS, FACTS_PER_CONVERSATION)
        placed: dict[int, list] = {}
        for fact in facts:
            placed.setdefault(rng.randrange(SESSIONS), []).append(fact)
        sessions = []
        for s in range(SESSIONS):
            sid = f"{cid}-s{s + 1}"
            at = start + timedelta(days=7 * s + c, hours=rng.randrange(0, 9))
            items: list[tuple[str, dict]] = []  # (kind, payload) before timestamps
            for _ in range(rng.randint(2, 3)):
                items.append(("talk", {"content": rng.choice(SMALL_TALK)}))
            for name, *_ in rng.sample(FACTS, rng.randint(1, 2)):
                items.append(("talk", {"content": rng.choice(NEAR_MISSES[name])}))
            for fact in placed.get(s, []):
                name, slots, statements, lexical, paraphrase = fact
                values = {k: rng.choice(v) for k, v in slots.items()}
                items.append(
                    (
                        "fact",
                        {
                            "content": _fill(rng.choice(statements), values),
                            "fact": name,
                            "questions": (lexical, paraphrase),
                        },
                    )
                )
            rng.shuffle(items)
            events = []
            for kind, payload in items:
                n = len(events) + 1
                key = f"{sid}-e{n}"
                events.append(
                    {
                        "key": key,
                        "event_type": "message.in",
                        "role": "user",
                        "content": payload["content"],
                        "occurred_at": at.isoformat(),
                    }
                )
                if kind == "fact":
                    for style, text in zip(
                        ("lexical", "paraphrase"), payload["questions"], strict=True
                    ):
                        questions.append(
                            {
                                "id": f"q{len(questions) + 1}",
                                "conversation": cid,
                                "fact": payload["fact"],
                                "style": style,
                                "question": text,
                                "answer_keys": [key],
                            }
                        )
                at += timedelta(seconds=rng.randint(20, 90))
                if rng.random() < 0.25:
                    tool = rng.choice(TOOLS)
                    events.append(
                        {
                            "key": f"{sid}-e{len(events) + 1}",
                            "event_type": "tool.call",
                            "role": "assistant",
                            "content": json.dumps(
                                {"name": tool, "arguments": {"query": payload["content"][:40]}}
                            ),
                            "occurred_at": at.isoformat(),
                        }
                    )
                    at += timedelta(seconds=2)
                events.append(
                    {
                        "key": f"{sid}-e{len(events) + 1}",
                        "event_type": "message.out",
                        "role": "assistant",
                        "content": rng.choice(REPLIES),
                        "occurred_at": at.isoformat(),
                    }
                )
                at += timedelta(seconds=rng.randint(20, 90))
            sessions.append({"session_id": sid, "events": events})
        conversations.append({"id": cid, "sessions": sessions})
    return {"seed": seed, "conversations": conversations, "questions": questions}


def main() -> None:
    data = build()
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    events = sum(len(s["events"]) for c in data["conversations"] for s in c["sessions"])
    print(
        f"{OUT.name}: {len(data['conversations'])} conversations, {events} events, "
        f"{len(data['questions'])} questions"
    )


if __name__ == "__main__":
    main()
