#!/usr/bin/env python3
"""Ingest benchmark: the events API against a raw insert of the same rows.

`make bench` runs it (through scripts/with_redis.py, so a broker is there as in production).
It starts a throwaway embedded PostgreSQL (a temporary directory, deleted at exit; DATABASE_URL
and .env are ignored so no real database is touched), migrates it, creates a team, an API key and
a spirit through the services, then measures, in this process with DRF's APIClient (the whole
Django stack: middleware, authentication, parsing, validation, services, rendering; no HTTP
socket):

  single  N POST /api/v1/events/, one event each: events/s, p50/p95 latency;
  bulk    C POST /api/v1/events/bulk/ of B events each: events/s, p50/p95 per call;
  raw     the same number of rows, same columns and kind of values, inserted on the same connection
          in batches of B, one transaction per batch: psycopg executemany, and COPY.

Then `bench/enrichment.py`: enrichment + embedding throughput of one worker process with the
offline model (events/s through the Cortex service, stale memories/s), with its thread count.
Enrichment tasks that ingest enqueues go to a private queue, purged at the end.

Then `bench/retrieval.py`: search and pack latency (query embedding included) of one spirit
growing 10,000 -> 30,000 -> 100,000 memories among 10 spirits, against the bare SQL of the same
vector and text queries.

Every event carries a dedupe_key, so the unique index works in every case. Prints tables and
writes the figures to bench/results/ (ignored by git). `--case ingest` or `--case retrieval` runs
one part only. Exits 1 with --strict when bulk is under the target (3,000 events/s) or the pack
misses its target (p50 <= 20 ms, p95 <= 50 ms, <= 3x the bare SQL at the largest step).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "bench" / "results"
TARGET_BULK_EVENTS_PER_SECOND = 3000
SESSIONS = 10
TEXT = (
    "the agent remembered that the user prefers concise answers about postgres vector search and "
    "asked again about indexing strategies for long conversations with many tool calls"
)
WORDS = TEXT.split(" ")


def setup_django() -> None:
    """A throwaway embedded server, whatever the environment or .env say."""
    sys.path.insert(0, str(BASE_DIR))
    os.environ["DJANGO_SETTINGS_MODULE"] = "elephantasm.settings.test"
    os.environ["DATABASE_URL"] = ""  # set (empty) so .env cannot supply one: embedded it is
    os.environ["EMBEDDED_PG_DIR"] = tempfile.mkdtemp(prefix="elephantasm-bench-pg-")
    os.environ["EMBEDDED_PG_CLEANUP"] = "delete"
    import django

    django.setup()


# --- Data ----------------------------------------------------------------------------------------


def content(i: int) -> str:
    """About 300 characters of text, different for every event."""
    words = [WORDS[(i * 7 + k) % len(WORDS)] for k in range(45)]
    return f"[{i}] " + " ".join(words)


def event_payload(run: str, i: int, at: datetime) -> dict:
    return {
        "event_type": "message.in" if i % 2 == 0 else "message.out",
        "role": "user" if i % 2 == 0 else "assistant",
        "content": content(i),
        "occurred_at": (at + timedelta(milliseconds=i)).isoformat(),
        "session_id": f"{run}-session-{i % SESSIONS}",
        "metadata": {"i": i, "channel": "bench"},
        "dedupe_key": f"{run}-{i}",
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed(action: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


# --- Cases ---------------------------------------------------------------------------------------


def prepare():
    from django.core.management import call_command
    from rest_framework.test import APIClient

    from spirits.services import spirit_create
    from teams.services import api_key_create, team_create

    call_command("migrate", verbosity=0)
    team = team_create(name="Bench", slug="bench")
    _, raw_key = api_key_create(team=team, name="bench")
    spirit = spirit_create(team=team, name="bench-spirit")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client, spirit


def post_json(client, url: str, body: bytes):
    return client.generic("POST", url, data=body, content_type="application/json")


def bench_single(client, spirit, n: int) -> dict:
    at = datetime.now(UTC)
    bodies = [
        json.dumps({"spirit_id": str(spirit.pk), **event_payload("single", i, at)}).encode()
        for i in range(n)
    ]
    post_json(client, "/api/v1/events/", bodies[0])  # warm-up (first-request imports)
    latencies = []
    started = time.perf_counter()
    for body in bodies[1:]:
        seconds, response = timed(lambda body=body: post_json(client, "/api/v1/events/", body))
        assert response.status_code == 201, (response.status_code, response.content[:300])
        latencies.append(seconds)
    total = time.perf_counter() - started
    return _figures("single POST /api/v1/events/", len(latencies), total, latencies)


def bench_bulk(client, spirit, calls: int, size: int) -> dict:
    at = datetime.now(UTC)
    bodies = [
        json.dumps(
            {
                "spirit_id": str(spirit.pk),
                "events": [event_payload(f"bulk{c}", i, at) for i in range(size)],
            }
        ).encode()
        for c in range(calls + 1)
    ]
    post_json(client, "/api/v1/events/bulk/", bodies[-1])  # warm-up, not counted
    latencies = []
    started = time.perf_counter()
    for body in bodies[:calls]:
        seconds, response = timed(lambda body=body: post_json(client, "/api/v1/events/bulk/", body))
        assert response.status_code == 200, (response.status_code, response.content[:300])
        result = response.json()
        assert result["created"] == size, {k: v for k, v in result.items() if k != "results"}
        latencies.append(seconds)
    total = time.perf_counter() - started
    return _figures(f"bulk POST /api/v1/events/bulk/ ({size}/call)", calls * size, total, latencies)


def raw_rows(spirit, calls: int, size: int) -> tuple[str, list[str], list[list[tuple]]]:
    """The rows an ingest of the same events writes: every concrete column, Django-prepared."""
    from django.db import connection
    from django.utils import timezone

    from events.models import Event

    # Every concrete column but the generated ones and the arrival number (the sequence's default
    # numbers raw rows; ingest numbers its own in one query per call).
    fields = [
        f
        for f in Event._meta.concrete_fields
        if not getattr(f, "generated", False) and f.name != "arrival"
    ]
    at = datetime.now(UTC)
    batches = []
    for c in range(calls):
        batch = []
        for i in range(size):
            payload = event_payload(f"raw{c}", i, at)
            now = timezone.now()
            values = {
                "id": uuid.uuid4(),
                "spirit": spirit.pk,
                "created_at": now,
                "updated_at": now,
                "deleted_at": None,
                "author": "",
                "meta_summary": "",
                "source_uri": "",
                "importance_score": None,
                "enriched_at": None,
                "token_count": len(payload["content"].split()),
                **payload,
                "occurred_at": at + timedelta(milliseconds=i),
            }
            batch.append(
                tuple(
                    f.get_db_prep_save(values.get(f.name, f.get_default()), connection)
                    for f in fields
                )
            )
        batches.append(batch)
    return Event._meta.db_table, [f.column for f in fields], batches


def bench_raw(spirit, calls: int, size: int) -> list[dict]:
    from django.db import connection, transaction

    table, columns, batches = raw_rows(spirit, calls, size)
    column_list = ", ".join(f'"{c}"' for c in columns)
    insert = f'INSERT INTO "{table}" ({column_list}) VALUES ({", ".join(["%s"] * len(columns))})'  # noqa: S608
    copy = f'COPY "{table}" ({column_list}) FROM STDIN'

    def executemany(rows):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.cursor.executemany(insert, rows)  # psycopg's own (pipelined) executemany

    def copy_rows(rows):
        with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(copy) as out:
            for row in rows:
                out.write_row(row)

    half = len(batches) // 2 or 1
    results = []
    for name, insert_batch, chosen in (
        ("raw executemany, same rows", executemany, batches[:half]),
        ("raw COPY, same rows", copy_rows, batches[half:] or batches[:half]),
    ):
        latencies = [timed(lambda rows=rows, f=insert_batch: f(rows))[0] for rows in chosen]
        results.append(_figures(name, len(chosen) * size, sum(latencies), latencies))
    return results


def _figures(case: str, events: int, seconds: float, latencies: list[float]) -> dict:
    return {
        "case": case,
        "events": events,
        "seconds": round(seconds, 3),
        "events_per_second": round(events / seconds, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 2),
    }


# --- Report --------------------------------------------------------------------------------------


def table(rows: list[dict]) -> str:
    header = (
        f"{'case':<44} {'events':>7} {'seconds':>8} {'events/s':>10} {'p50 ms':>9} {'p95 ms':>9}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r['case']:<44} {r['events']:>7} {r['seconds']:>8.2f}"
            f" {r['events_per_second']:>10,.0f} {r['p50_ms']:>9.2f} {r['p95_ms']:>9.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--case",
        choices=("all", "ingest", "retrieval"),
        default="all",
        help="ingest (ingest + enrichment), retrieval, or all (default)",
    )
    parser.add_argument("--single", type=int, default=500, help="single POSTs (default 500)")
    parser.add_argument("--bulk-calls", type=int, default=20, help="bulk calls (default 20)")
    parser.add_argument("--bulk-size", type=int, default=1000, help="events per bulk call")
    parser.add_argument(
        "--enrich-events", type=int, default=2000, help="events enriched in process (default 2000)"
    )
    parser.add_argument(
        "--embed-memories", type=int, default=500, help="stale memories embedded (default 500)"
    )
    parser.add_argument(
        "--retrieval-steps",
        default="10000,30000,100000",
        help="sizes of the measured spirit, comma-separated (default 10000,30000,100000)",
    )
    parser.add_argument("--retrieval-others", type=int, default=9, help="other spirits (default 9)")
    parser.add_argument(
        "--retrieval-other-size", type=int, default=10_000, help="memories per other spirit"
    )
    parser.add_argument(
        "--retrieval-queries", type=int, default=50, help="distinct queries (default 50)"
    )
    parser.add_argument("--retrieval-rounds", type=int, default=2, help="passes per query")
    parser.add_argument("--strict", action="store_true", help="exit 1 under a target")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    setup_django()
    from django.db import connection

    client, spirit = prepare()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (server_version,) = cursor.fetchone()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    failed = False
    if args.case in ("all", "ingest"):
        failed |= not run_ingest(args, client, spirit, server_version, stamp)
    if args.case in ("all", "retrieval"):
        failed |= not run_retrieval(args, spirit, server_version, stamp)
    print(f"total bench time {time.perf_counter() - started:.1f} s")
    return 1 if args.strict and failed else 0


def run_ingest(args, client, spirit, server_version: str, stamp: str) -> bool:
    print(
        f"Elephantasm ingest benchmark: PostgreSQL {server_version} (embedded, throwaway), "
        f"in-process APIClient, one client, every event with a dedupe_key.\n",
        flush=True,
    )
    from bench.enrichment import bench_enrichment, private_enrich_queue, report

    with private_enrich_queue():
        single = bench_single(client, spirit, args.single + 1)
        bulk = bench_bulk(client, spirit, args.bulk_calls, args.bulk_size)
        raw = bench_raw(spirit, args.bulk_calls, args.bulk_size)
        enrichment = bench_enrichment(spirit, args.enrich_events, args.embed_memories)
    rows = [single, bulk, *raw]
    print(table(rows))

    ratios = {r["case"]: bulk["events_per_second"] / r["events_per_second"] for r in raw}
    print()
    for case, ratio in ratios.items():
        print(f"bulk / {case}: {ratio:.2f}")
    met = bulk["events_per_second"] >= TARGET_BULK_EVENTS_PER_SECOND
    print(
        f"bulk target >= {TARGET_BULK_EVENTS_PER_SECOND:,} events/s: "
        f"{'met' if met else 'NOT met'} ({bulk['events_per_second']:,.0f})"
    )

    print()
    print(report(enrichment))

    out = RESULTS_DIR / f"ingest-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "at": stamp,
                "postgres": server_version,
                "args": vars(args),
                "results": rows,
                "bulk_over_raw": ratios,
                "target_met": met,
                "enrichment": enrichment,
            },
            indent=2,
        )
    )
    print(f"figures written to {out.relative_to(BASE_DIR)}\n", flush=True)
    return met


def run_retrieval(args, spirit, server_version: str, stamp: str) -> bool:
    from bench.retrieval import bench_retrieval, report, target_met

    print(
        f"Elephantasm retrieval benchmark: PostgreSQL {server_version} (embedded, throwaway).",
        flush=True,
    )
    steps = tuple(int(s) for s in args.retrieval_steps.split(",") if s.strip())
    results = bench_retrieval(
        spirit.team,
        steps=steps,
        others=args.retrieval_others,
        other_size=args.retrieval_other_size,
        queries=args.retrieval_queries,
        rounds=args.retrieval_rounds,
        log=lambda line: print(line, flush=True),
    )
    print()
    print(report(results))
    met = target_met(results)
    out = RESULTS_DIR / f"retrieval-{stamp}.json"
    out.write_text(
        json.dumps(
            {"at": stamp, "postgres": server_version, "args": vars(args), **results}, indent=2
        )
    )
    print(f"figures written to {out.relative_to(BASE_DIR)}", flush=True)
    return met


if __name__ == "__main__":
    sys.exit(main())
