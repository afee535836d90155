#!/usr/bin/env python3
"""Retrieval evaluation: recall@k of text-only, vector-only and hybrid search.

`make eval` runs it. Like the ingest bench (bench/run.py) it starts a throwaway embedded
PostgreSQL, migrates it, then for each conversation of bench/eval/conversations.json (built by
build_dataset.py, committed) creates a spirit and ingests the events through the real service,
enriches and embeds them (pipeline.cortex), synthesizes memories with force (pipeline.synthesis,
one per session here) and embeds those. Everything runs in one transaction that is rolled back,
so nothing is enqueued for a worker. Then for every question and mode it searches the spirit's
events and its memories, and prints recall@1/5/10: the share of a question's answers found in
the first k hits (answers: the events that state the fact; for memories, the memories made from
those events), averaged over the questions.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATASET = Path(__file__).resolve().parent / "conversations.json"
CUTOFFS = (1, 5, 10)
# name: (vector_weight, text_weight, text_match)
MODES: dict[str, tuple[float, float, str]] = {
    "text only (all words)": (0.0, 1.0, "all"),
    "text only (any word)": (0.0, 1.0, "any"),
    "vector only": (1.0, 0.0, "any"),
    "hybrid 0.5/0.5": (0.5, 0.5, "any"),
    "hybrid 0.7/0.3": (0.7, 0.3, "any"),
    "hybrid 0.3/0.7": (0.3, 0.7, "any"),
    "hybrid 0.5/0.5 (all words)": (0.5, 0.5, "all"),
}


class _Rollback(Exception):
    pass


def load_dataset(path: Path = DATASET) -> dict:
    return json.loads(path.read_text())


def ingest(team, dataset: dict, conversations: Iterable[str] | None = None) -> dict:
    """A spirit per conversation, its events through the ingest service, enriched; memories
    synthesized and embedded. Returns {conversation id: (spirit, {event key: event id})}."""
    from events.services.ingest import events_bulk_create
    from memories.models import Memory
    from pipeline import cortex, embedding, synthesis
    from spirits.services import spirit_create

    wanted = set(conversations) if conversations is not None else None
    spirits = {}
    for conversation in dataset["conversations"]:
        if wanted is not None and conversation["id"] not in wanted:
            continue
        spirit = spirit_create(team=team, name=f"eval-{conversation['id']}")
        items = [
            {
                "event_type": e["event_type"],
                "role": e["role"],
                "content": e["content"],
                "occurred_at": datetime.fromisoformat(e["occurred_at"]),
                "session_id": session["session_id"],
                "dedupe_key": e["key"],
                "metadata": {"key": e["key"]},
            }
            for session in conversation["sessions"]
            for e in session["events"]
        ]
        results = events_bulk_create(spirit=spirit, items=items)
        keys = {item["dedupe_key"]: r.id for item, r in zip(items, results, strict=True)}
        cortex.enrich_events(event_ids=keys.values())
        synthesis.synthesize_spirit(spirit_id=spirit.pk, force=True, limit=100_000)
        spirits[conversation["id"]] = (spirit, keys)
    embedding.embed_stale(model=Memory)
    return spirits


def relevant_memories(event_ids: list) -> set:
    from memories.models import MemoryEvent

    return set(MemoryEvent.objects.filter(event_id__in=event_ids).values_list("memory", flat=True))


def evaluate(spirits: dict, questions: list[dict], modes=MODES) -> list[dict]:
    """One record per (mode, question): the recall at each cutoff for events and memories."""
    from memories.retrieval import SearchQuery, search

    records = []
    for mode, (vector_weight, text_weight, match) in modes.items():
        for question in questions:
            spirit, keys = spirits[question["conversation"]]
            answers = {"events": {keys[key] for key in question["answer_keys"]}}
            answers["memories"] = relevant_memories(list(answers["events"]))
            record = {"mode": mode, "style": question["style"], "seconds": 0.0}
            for kind in ("events", "memories"):
                started = time.perf_counter()
                result = search(
                    spirit,
                    SearchQuery(
                        text=question["question"],
                        k=max(CUTOFFS),
                        kinds=(kind,),
                        vector_weight=vector_weight,
                        text_weight=text_weight,
                        text_match=match,
                    ),
                )
                record["seconds"] += time.perf_counter() - started
                hits = [hit.id for hit in result.hits]
                for k in CUTOFFS:
                    found = len(answers[kind] & set(hits[:k]))
                    record[f"{kind}@{k}"] = found / len(answers[kind])
            records.append(record)
    return records


def summarize(records: list[dict], style: str | None = None) -> list[dict]:
    """Mean recall per mode (of one question style, or all), in the order of the records."""
    rows: dict[str, dict] = {}
    counts: dict[str, int] = {}
    for record in records:
        if style is not None and record["style"] != style:
            continue
        row = rows.setdefault(record["mode"], {"mode": record["mode"], "seconds": 0.0})
        counts[record["mode"]] = counts.get(record["mode"], 0) + 1
        for key, value in record.items():
            if "@" in key or key == "seconds":
                row[key] = row.get(key, 0.0) + value
    for mode, row in rows.items():
        n = counts[mode]
        for key in [k for k in row if "@" in k]:
            row[key] = round(row[key] / n, 3)
        row["ms_per_search"] = round(1000 * row.pop("seconds") / (2 * n), 2)
    return list(rows.values())


def table(rows: list[dict]) -> str:
    columns = [f"{kind}@{k}" for kind in ("events", "memories") for k in CUTOFFS]
    header = f"{'mode':<28}" + "".join(f"{c:>12}" for c in columns) + f"{'ms/search':>11}"
    lines = [header, "-" * len(header)]
    for row in rows:
        cells = "".join(f"{row[c]:>12.3f}" for c in columns)
        lines.append(f"{row['mode']:<28}{cells}{row['ms_per_search']:>11.1f}")
    return "\n".join(lines)


def run(team, dataset: dict, *, questions: list[dict] | None = None, modes=MODES):
    """Ingest, evaluate, and roll everything back. Returns (rows, per-style rows)."""
    from django.db import transaction

    questions = dataset["questions"] if questions is None else questions
    records: list[dict] = []
    try:
        with transaction.atomic():
            spirits = ingest(team, dataset, {q["conversation"] for q in questions})
            records = evaluate(spirits, questions, modes)
            raise _Rollback
    except _Rollback:
        pass
    styles = sorted({q["style"] for q in questions})
    return summarize(records), {style: summarize(records, style) for style in styles}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DATASET)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    sys.path.insert(0, str(BASE_DIR))
    from bench.run import setup_django

    setup_django()
    from django.core.management import call_command

    from teams.services import team_create

    call_command("migrate", verbosity=0)
    dataset = load_dataset(args.dataset)
    events = sum(len(s["events"]) for c in dataset["conversations"] for s in c["sessions"])
    print(
        f"Retrieval evaluation: {len(dataset['conversations'])} conversations (one spirit each), "
        f"{events} events, {len(dataset['questions'])} questions; recall@k, k = 1, 5, 10.\n",
        flush=True,
    )
    team = team_create(name="Eval", slug="eval")
    rows, by_style = run(team, dataset)
    print(table(rows))
    for style, style_rows in by_style.items():
        count = sum(1 for q in dataset["questions"] if q["style"] == style)
        print(f"\n{style} questions only ({count}):")
        print(table(style_rows))
    print(f"\ntotal eval time {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
