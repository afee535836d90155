#!/usr/bin/env python3
"""Remember evaluation: do conversations become facts, are changed facts closed, do packs answer?

`make eval` runs it after the retrieval evaluation. bench/eval/remember_set.json holds personas
talking with an assistant over dated sessions (written by hand, in many registers), with the
facts each user turn states and questions about them. For each persona a spirit is created with
default settings, every session is ingested through the real service, then the pipeline runs
in process as a worker would run it (synthesis, forced after each session as if the
conversation went quiet; extraction; the Cortex and embeddings). Everything is rolled back.

Printed:
- extraction precision: the share of the facts written (current or closed) that match a fact of
  the set (same topic family, every word of its value in the fact's content);
- extraction recall: the share of the set's facts matched by a written fact;
- changed facts closed: of the facts the set says changed or ended, the share whose earlier
  fact was written and is closed now (and not left current);
- pack answers: the share of questions whose answer words are all in a 400-token pack compiled
  with the question as its query.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATASET = Path(__file__).resolve().parent / "remember_set.json"
PACK_TOKENS = 400
TARGETS = {"precision": 0.90, "recall": 0.80, "closed": 0.90}
# Topic families that name the same thing.
FAMILY = {
    "spouse": "partner",
    "children": "child",
    "preference": "favourite",
    "email address": "contact",
}
FAMILIES = frozenset(
    str.split(
        "name location hometown employer job school field age birthday partner child pet "
        "sibling parent friend diet allergy health likes dislikes favourite hobby language plan "
        "tool vehicle contact"
    )
)


class _Rollback(Exception):
    pass


def load_dataset(path: Path = DATASET) -> dict:
    return json.loads(path.read_text())


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def family(topic: str) -> tuple[str, str]:
    """(family, subject) of a written topic: "zofia:diet" -> ("diet", "zofia")."""
    parts = topic.split(":")
    for index, part in enumerate(parts):
        name = FAMILY.get(part, part)
        if name in FAMILIES:
            return name, ":".join(parts[:index])
    return parts[0], ""


def expected_family(fact: dict) -> str:
    return FAMILY.get(fact["topic"], fact["topic"])


def matches(written, fact: dict) -> bool:
    fam, subject = family(written.topic)
    if fam != expected_family(fact):
        return False
    about = fold(fact.get("about", ""))
    if about and about not in fold(subject) and about not in fold(written.content):
        return False
    if not about and subject:
        return False
    words = fold(fact["value"]).split()
    content = f" {fold(written.content)} "
    return all(f" {w} " in content for w in words)


def ingest(team, persona: dict):
    """The persona's spirit, its sessions ingested and the pipeline run after each one."""
    from events.services import events_bulk_create
    from memories.models import Knowledge, Lesson, Memory
    from pipeline import cortex, embedding, extraction, synthesis
    from spirits.services import spirit_create

    spirit = spirit_create(team=team, name=persona["name"])
    for session in persona["sessions"]:
        start = datetime.fromisoformat(session["at"].replace("Z", "+00:00"))
        items = [
            {
                "event_type": "message.in" if turn["role"] == "user" else "message.out",
                "role": turn["role"],
                "content": turn["text"],
                "session_id": session["id"],
                "occurred_at": start + timedelta(minutes=index),
            }
            for index, turn in enumerate(session["turns"])
        ]
        results = events_bulk_create(spirit=spirit, items=items)
        cortex.enrich_events(event_ids=[r.id for r in results if r.id])
        memories = synthesis.synthesize_spirit(spirit_id=spirit.pk, force=True, limit=100_000)
        extraction.extract_from_memories(memory_ids=[m.pk for m in memories])
    for model in (Memory, Knowledge, Lesson):
        embedding.embed_stale(model=model)
    return spirit


def evaluate(spirit, persona: dict) -> dict:
    from memories.models import Knowledge
    from memories.packs import PackRequest, compile_pack

    written = list(Knowledge.all_objects.filter(spirit=spirit, deleted_at__isnull=True))
    facts = [
        f
        for s in persona["sessions"]
        for t in s["turns"]
        if t["role"] == "user"
        for f in t.get("facts", [])
    ]
    stated = [f for f in facts if not f.get("ended")]
    good = [w for w in written if any(matches(w, f) for f in facts)]
    found = [f for f in stated if any(matches(w, f) for w in written)]
    changes = [f for f in facts if f.get("replaces") or f.get("ended")]
    closed = 0
    open_changes = []
    for change in changes:
        old = {**change, "value": change.get("replaces") or change["value"]}
        # the earlier fact: matches the old value, not the new one ("nurse" -> "community nurse")
        olds = [
            w
            for w in written
            if matches(w, old) and not (change.get("replaces") and matches(w, change))
        ]
        if olds and all(w.valid_to is not None for w in olds):
            closed += 1
        else:
            still = [w.content for w in olds if w.valid_to is None]
            open_changes.append((change, still or "never written"))
    answered = 0
    for question in persona["questions"]:
        pack = compile_pack(
            spirit, PackRequest(query=question["question"], max_tokens=PACK_TOKENS), persist=False
        )
        text = f" {fold(pack.text)} "
        answered += all(f" {w} " in text for w in fold(question["answer"]).split())
    return {
        "persona": persona["id"],
        "written": len(written),
        "good": len(good),
        "facts": len(stated),
        "found": len(found),
        "changes": len(changes),
        "closed": closed,
        "questions": len(persona["questions"]),
        "answered": answered,
        "misses": [f for f in stated if f not in found],
        "open_changes": open_changes,
        "wrong": [w.content for w in written if w not in good],
    }


def run(team, dataset: dict, personas: list[str] | None = None) -> list[dict]:
    from django.db import transaction

    rows: list[dict] = []
    try:
        with transaction.atomic():
            for persona in dataset["personas"]:
                if personas is None or persona["id"] in personas:
                    rows.append(evaluate(ingest(team, persona), persona))
            raise _Rollback
    except _Rollback:
        pass
    return rows


def totals(rows: list[dict]) -> dict[str, float]:
    def share(a: str, b: str) -> float:
        total = sum(r[b] for r in rows)
        return sum(r[a] for r in rows) / total if total else 1.0

    return {
        "precision": share("good", "written"),
        "recall": share("found", "facts"),
        "closed": share("closed", "changes"),
        "pack answers": share("answered", "questions"),
    }


def table(rows: list[dict]) -> str:
    lines = [
        f"{'persona':<10} {'written':>7} {'precision':>9} {'facts':>5} {'recall':>6} "
        f"{'changes':>7} {'closed':>6} {'questions':>9} {'answered':>8}"
    ]
    for r in rows:
        lines.append(
            f"{r['persona']:<10} {r['written']:>7} {r['good'] / max(r['written'], 1):>9.2f} "
            f"{r['facts']:>5} {r['found'] / max(r['facts'], 1):>6.2f} {r['changes']:>7} "
            f"{r['closed'] / max(r['changes'], 1):>6.2f} {r['questions']:>9} "
            f"{r['answered'] / max(r['questions'], 1):>8.2f}"
        )
    t = totals(rows)
    lines.append(
        f"{'all':<10} {sum(r['written'] for r in rows):>7} {t['precision']:>9.2f} "
        f"{sum(r['facts'] for r in rows):>5} {t['recall']:>6.2f} "
        f"{sum(r['changes'] for r in rows):>7} {t['closed']:>6.2f} "
        f"{sum(r['questions'] for r in rows):>9} {t['pack answers']:>8.2f}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("--persona", action="append", help="only these personas (ids)")
    parser.add_argument("--show", action="store_true", help="print the misses and wrong facts")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    sys.path.insert(0, str(BASE_DIR))
    from bench.run import setup_django

    setup_django()
    from django.core.management import call_command

    from teams.services import team_create

    call_command("migrate", verbosity=0)
    dataset = load_dataset(args.dataset)
    turns = sum(
        t["role"] == "user" for p in dataset["personas"] for s in p["sessions"] for t in s["turns"]
    )
    print(
        f"Remember evaluation: {len(dataset['personas'])} personas, {turns} user turns, "
        f"default settings, offline (no language model).\n",
        flush=True,
    )
    rows = run(team_create(name="Eval", slug="eval-remember"), dataset, args.persona)
    print(table(rows))
    if args.show:
        for r in rows:
            print(f"\n{r['persona']}: missed")
            for fact in r["misses"]:
                print("   ", fact)
            print(f"{r['persona']}: changes whose earlier fact is not closed")
            for change, why in r["open_changes"]:
                print("   ", change, "->", why)
            print(f"{r['persona']}: written but not in the set")
            for content in r["wrong"]:
                print("   ", content)
    result = totals(rows)
    short = [f"{k} {result[k]:.2f} < {v:.2f}" for k, v in TARGETS.items() if result[k] < v]
    print("\ntargets (offline):", "; ".join(short) if short else "all met")
    print(f"total time {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
