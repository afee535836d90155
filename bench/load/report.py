"""The load test's arguments, figures and integrity check: plain Python, no locust import (the
suite imports this module; locust monkey-patches the process it is imported in).

- `parse_args`: the runner's command line (bench/load/run.py), with its bounds;
- `summarize`: one row per request kind (and a total) from what the locustfile recorded in a
  step: requests, requests/s, p50/p95 of the successful ones, errors, of which 429s;
- `check_integrity`: every acknowledged event stored exactly once, from the events the API
  lists per spirit and session;
- `table`: the rows as a Markdown table.
"""

from __future__ import annotations

import argparse
import math
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

KINDS = ("event", "bulk", "pack", "search")
DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_CLIENTS = (5, 20, 50)
MAX_CLIENTS = 200
MAX_DURATION = 600
MAX_BULK = 1000


@dataclass(frozen=True, slots=True)
class Row:
    clients: int
    kind: str
    requests: int
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    errors: int
    throttled: int

    def cells(self) -> list[str]:
        def ms(value: float | None) -> str:
            return "–" if value is None else f"{value:.0f}"

        return [
            str(self.clients),
            self.kind,
            str(self.requests),
            f"{self.rps:.1f}",
            ms(self.p50_ms),
            ms(self.p95_ms),
            str(self.errors),
            str(self.throttled),
        ]


ROW_HEADERS = ["clients", "kind", "requests", "req/s", "p50 ms", "p95 ms", "errors", "of which 429"]


@dataclass(frozen=True, slots=True)
class Integrity:
    clients: int
    acknowledged: int  # events the API acknowledged (201, or "created" in a bulk answer)
    stored: int  # events the API lists in the sessions the clients wrote to
    lost: int  # acknowledged, not stored
    duplicated: int  # stored more than once (same dedupe key), or acknowledged twice
    unacknowledged: int  # stored without an acknowledgement (a request cut at the end of a step)
    events_per_second: float = 0.0  # acknowledged events per second of the step

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicated == 0

    def cells(self) -> list[str]:
        return [
            str(self.clients),
            str(self.acknowledged),
            f"{self.events_per_second:.1f}",
            str(self.stored),
            str(self.lost),
            str(self.duplicated),
            str(self.unacknowledged),
            "yes" if self.ok else "NO",
        ]

    def as_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


INTEGRITY_HEADERS = [
    "clients",
    "acknowledged",
    "events/s",
    "stored",
    "lost",
    "duplicated",
    "stored, not acknowledged",
    "each stored once",
]


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation between closest ranks; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(recorded: dict, clients: int) -> list[Row]:
    """Rows per kind, then "all", from a step's record: {"elapsed": seconds, "requests": {kind:
    {"ok_ms": [latencies of 2xx answers], "statuses": {"201": n, "429": n, "error": n, ...}}}}.
    A status that is not 2xx (or no answer at all: "error") is an error."""
    elapsed = max(float(recorded["elapsed"]), 1e-9)
    rows, all_ok, totals = [], [], Counter()
    kinds = [k for k in KINDS if k in recorded["requests"]]
    kinds += sorted(set(recorded["requests"]) - set(KINDS))
    for kind in kinds:
        entry = recorded["requests"][kind]
        statuses = Counter({str(k): int(v) for k, v in entry["statuses"].items()})
        requests = sum(statuses.values())
        errors = sum(n for status, n in statuses.items() if not status.startswith("2"))
        rows.append(
            Row(
                clients=clients,
                kind=kind,
                requests=requests,
                rps=requests / elapsed,
                p50_ms=percentile(entry["ok_ms"], 50),
                p95_ms=percentile(entry["ok_ms"], 95),
                errors=errors,
                throttled=statuses["429"],
            )
        )
        all_ok.extend(entry["ok_ms"])
        totals.update(requests=requests, errors=errors, throttled=statuses["429"])
    rows.append(
        Row(
            clients=clients,
            kind="all",
            requests=totals["requests"],
            rps=totals["requests"] / elapsed,
            p50_ms=percentile(all_ok, 50),
            p95_ms=percentile(all_ok, 95),
            errors=totals["errors"],
            throttled=totals["throttled"],
        )
    )
    return rows


def check_integrity(
    clients: int,
    acknowledged: Iterable[tuple[str, str]],
    stored: Iterable[tuple[str, str]],
    elapsed: float = 0.0,
) -> Integrity:
    """`acknowledged`: (event id, dedupe key) of every event the API acknowledged; `stored`:
    (event id, dedupe key) of every event it lists in the same spirits' sessions; `elapsed`: the
    step's seconds."""
    acked = list(acknowledged)
    kept = list(stored)
    acked_ids = Counter(event_id for event_id, _ in acked)
    stored_ids = {event_id for event_id, _ in kept}
    stored_keys = Counter(key for _, key in kept)
    return Integrity(
        clients=clients,
        acknowledged=len(acked),
        stored=len(kept),
        lost=sum(1 for event_id in acked_ids if event_id not in stored_ids),
        duplicated=sum(n - 1 for n in stored_keys.values() if n > 1)
        + sum(n - 1 for n in acked_ids.values() if n > 1),
        unacknowledged=sum(1 for event_id in stored_ids if event_id not in acked_ids),
        events_per_second=len(acked) / elapsed if elapsed > 0 else 0.0,
    )


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A Markdown table."""
    rows = [list(row) for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def _clients(value: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in value.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of client counts: {value!r}") from None
    if not counts or any(not 1 <= n <= MAX_CLIENTS for n in counts):
        raise argparse.ArgumentTypeError(f"client counts must be 1 to {MAX_CLIENTS}: {value!r}")
    return counts


def _bounded(low: float, high: float, cast=int):
    def parse(value: str):
        try:
            number = cast(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be {low} to {high}: {value!r}")
        return number

    return parse


def _keys(value: str) -> list[str]:
    return [key.strip() for key in value.split(",") if key.strip()]


def parse_args(argv: Sequence[str] | None = None, environ=os.environ) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/load/run.py",
        description="Load test of a running Elephantasm (locust, headless): clients ingest "
        "events and ask for packs and searches at once, at several client counts; then every "
        "acknowledged event is checked to be stored exactly once.",
    )
    parser.add_argument(
        "--url",
        default=environ.get("ELEPHANTASM_URL", DEFAULT_URL),
        help=f"The server (env ELEPHANTASM_URL; default {DEFAULT_URL}, `make run`).",
    )
    parser.add_argument(
        "--key",
        dest="keys",
        action="append",
        type=_keys,
        default=None,
        help="An admin API key of the team to load (repeat, or comma-separate, to spread the "
        "clients over several keys; env ELEPHANTASM_API_KEYS). None: the runner creates one "
        "per client in a team `load-test` (needs the server's database: same DATABASE_URL or "
        "EMBEDDED_PG_DIR).",
    )
    parser.add_argument(
        "--clients",
        type=_clients,
        default=DEFAULT_CLIENTS,
        help=f"Client counts, one step each (default {','.join(map(str, DEFAULT_CLIENTS))}; "
        f"at most {MAX_CLIENTS}).",
    )
    parser.add_argument(
        "--duration",
        type=_bounded(1, MAX_DURATION),
        default=30,
        help=f"Seconds per step (default 30, at most {MAX_DURATION}).",
    )
    parser.add_argument(
        "--rate",
        type=_bounded(0.1, 100.0, float),
        default=4.0,
        help="Requests per second each client sends at most (default 4: a key's default limit "
        "is 1,200/min, 20/s).",
    )
    parser.add_argument(
        "--bulk-size",
        type=_bounded(1, MAX_BULK),
        default=20,
        help="Events per bulk POST (default 20).",
    )
    parser.add_argument(
        "--spirits",
        type=_bounded(1, MAX_CLIENTS),
        default=5,
        help="Spirits per step, shared by its clients (default 5); each client writes its own "
        "session.",
    )
    parser.add_argument(
        "--results-dir", default=None, help="Where to write the JSON (default bench/results)."
    )
    args = parser.parse_args(argv)
    keys = [key for group in (args.keys or []) for key in group]
    if not keys:
        given = environ.get("ELEPHANTASM_API_KEYS") or environ.get("ELEPHANTASM_API_KEY", "")
        keys = _keys(given)
    args.keys = keys
    args.url = args.url.rstrip("/")
    return args
