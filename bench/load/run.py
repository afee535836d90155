#!/usr/bin/env python3
"""Load test of a running Elephantasm: `make bench-load` (docs/benchmarks.md, "Load").

Against the server at --url (default http://127.0.0.1:8000, `make run`), for each client count
of --clients (default 5, 20, 50), one step:

1. creates --spirits spirits (default 5) with the first key;
2. runs locust headless (bench/load/locustfile.py) with that many clients for --duration seconds
   (default 30): each client, at most --rate requests a second, records events one by one and in
   bulk (each with a dedupe key of its own) and asks for packs and searches;
3. checks that every event the API acknowledged is stored exactly once: it lists the events of
   every client's session through the API and compares them with the acknowledgements.

Then it prints two tables (per client count and request kind: requests, requests/s, p50 and p95
of the successful answers, errors and 429s; per client count: events acknowledged, stored,
lost, duplicated) and writes them to bench/results/load-<time>.json. Exit status 1 when an
acknowledged event is lost or duplicated, or the server does not answer.

API keys: --key / ELEPHANTASM_API_KEYS (admin keys: they create spirits). Without one, the runner
creates one per client (bench/load/keys.py, in the server's database: run it with the server's
DATABASE_URL or EMBEDDED_PG_DIR), so the default rate limit (1,200 requests a minute per key)
holds at the default --rate; clients beyond the keys given share them (round robin).

Run the server without autoreload (`DEBUG=false make run`): a development server that reloads
because a file changed drops the requests in flight, which the figures would count as errors.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(BASE_DIR))

from bench.load import report  # noqa: E402 - after the path, so it runs from anywhere

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
KEYS_SCRIPT = Path(__file__).with_name("keys.py")
RESULTS_DIR = BASE_DIR / "bench" / "results"
PAGE = 200  # the API's largest page
STOP_TIMEOUT = 15  # seconds locust lets a client finish its request at the end of a step
TRIES = 30  # of one call of the runner's own (setup, checks): 429, 503 and no answer are retried


class ApiError(RuntimeError):
    pass


class Api:
    """The few calls the runner makes itself (JSON over urllib); a 429 is waited out."""

    def __init__(self, url: str, key: str):
        self.url, self.key = url, key

    def call(self, method: str, path: str, body: dict | None = None, **params) -> dict:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(TRIES):
            request = urllib.request.Request(  # noqa: S310 - the URL the user gave
                f"{self.url}{path}{query}",
                data=data,
                method=method,
                headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                    return json.loads(response.read() or b"{}")
            except urllib.error.HTTPError as error:
                if error.code not in (429, 503):
                    detail = error.read()[:300]
                    raise ApiError(f"{method} {path}: {error.code} {detail!r}") from None
                time.sleep(min(float(error.headers.get("Retry-After") or 1), 10))
            except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
                # the server restarting (a development server reloads on code changes)
                if attempt == TRIES - 1:
                    raise ApiError(f"{method} {path}: {error}") from None
                time.sleep(1)
        raise ApiError(f"{method} {path}: no answer after {TRIES} tries")

    def session_events(self, spirit: str, session: str) -> list[tuple[str, str]]:
        """(id, dedupe key) of every event of the spirit's session, page by page."""
        found, offset = [], 0
        while True:
            page = self.call(
                "GET", "/api/v1/events/", spirit_id=spirit, session_id=session,
                limit=PAGE, offset=offset,
            )  # fmt: skip
            found += [(event["id"], event["dedupe_key"]) for event in page["results"]]
            if not page.get("next"):
                return found
            offset += PAGE


def server_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health/live", timeout=5) as response:  # noqa: S310
            return response.status == 200
    except OSError:
        return False


def create_keys(count: int, label: str) -> list[str]:
    """Admin keys in the server's database (bench/load/keys.py, this environment)."""
    done = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, str(KEYS_SCRIPT), str(count), label],
        capture_output=True,
        text=True,
        cwd=BASE_DIR,
        check=False,
    )
    if done.returncode != 0:
        raise ApiError(f"could not create API keys:\n{done.stderr[-2000:]}")
    return done.stdout.split()


def run_step(args, keys: list[str], clients: int, stamp: str, workdir: Path) -> dict:
    run = f"{stamp}-{clients}"
    api = Api(args.url, keys[0])
    spirits = [
        api.call("POST", "/api/v1/spirits/", {"name": f"load-{run}-s{i}"})["id"]
        for i in range(min(args.spirits, clients))
    ]
    record_path, log_path = workdir / f"record-{clients}.json", workdir / f"locust-{clients}.log"
    plan = {
        "run": run,
        "keys": keys,
        "spirits": spirits,
        "rate": args.rate,
        "bulk_size": args.bulk_size,
        "record": str(record_path),
    }
    plan_path = workdir / f"plan-{clients}.json"
    plan_path.write_text(json.dumps(plan))
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--users", str(clients), "--spawn-rate", str(max(1, clients // 2)),
        "--run-time", f"{args.duration}s", "--stop-timeout", str(STOP_TIMEOUT),
        "--host", args.url, "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip
    with log_path.open("w") as log:
        subprocess.run(  # noqa: S603 - locust, our locustfile
            command,
            env={**os.environ, "LOAD_PLAN": str(plan_path)},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=BASE_DIR,
            check=False,
            timeout=args.duration + STOP_TIMEOUT + 120,
        )
    if not record_path.exists():
        raise ApiError(f"locust wrote no record; its log:\n{log_path.read_text()[-3000:]}")
    recorded = json.loads(record_path.read_text())
    rows = report.summarize(recorded, clients)
    acked = [(event_id, key) for _, _, event_id, key in recorded["acks"]]
    stored = []
    for number in range(clients):  # every client's session, acknowledged or not
        spirit = spirits[number % len(spirits)]
        stored += api.session_events(spirit, f"load-{run}-c{number}")
    integrity = report.check_integrity(clients, acked, stored, recorded["elapsed"])
    return {
        "clients": clients,
        "elapsed": recorded["elapsed"],
        "rows": [asdict(row) for row in rows],
        "integrity": integrity.as_dict(),
        "unexpected_duplicates": recorded["unexpected"],
        "_rows": rows,
        "_integrity": integrity,
    }


def main(argv: list[str] | None = None) -> int:
    args = report.parse_args(argv)
    if not server_answers(args.url):
        print(f"load: no server answers at {args.url}/health/live (start it: make run).")
        return 1
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    keys = args.keys
    if not keys:
        count = max(args.clients)
        print(f"load: creating {count} API keys in team `load-test` (bench/load/keys.py)...")
        keys = create_keys(count, stamp)
    elif len(keys) * 20 < max(args.clients) * args.rate:
        print(
            f"load: {len(keys)} key(s) for up to {max(args.clients)} clients at {args.rate}/s "
            "each: past 20 requests/s per key the default limit answers 429 (start the server "
            "with a higher API_THROTTLE_RATE, or pass more keys)."
        )
    steps = []
    with tempfile.TemporaryDirectory(prefix="elephantasm-load-") as tmp:
        for clients in args.clients:
            print(f"load: {clients} clients for {args.duration} s...", flush=True)
            steps.append(run_step(args, keys, clients, stamp, Path(tmp)))
    rows = [row for step in steps for row in step["_rows"]]
    print()
    print(report.table(report.ROW_HEADERS, (row.cells() for row in rows)))
    print()
    integrity = [step["_integrity"] for step in steps]
    print(report.table(report.INTEGRITY_HEADERS, (i.cells() for i in integrity)))
    results_dir = Path(args.results_dir) if args.results_dir else RESULTS_DIR
    results_dir.mkdir(parents=True, exist_ok=True)
    out = results_dir / f"load-{stamp}.json"
    settings = {k: getattr(args, k) for k in ("url", "clients", "duration", "rate", "bulk_size")}
    out.write_text(
        json.dumps(
            {
                "at": stamp,
                "settings": {**settings, "spirits": args.spirits, "keys": len(keys)},
                "steps": [{k: v for k, v in s.items() if not k.startswith("_")} for s in steps],
            },
            indent=2,
        )
    )
    print(f"\nload: written to {out}")
    if not all(i.ok for i in integrity) or any(s["unexpected_duplicates"] for s in steps):
        print("load: FAILED: acknowledged events lost or duplicated (see above).")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
