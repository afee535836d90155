"""Locust clients of the load test: agents that record events and ask for context at once.

bench/load/run.py runs this headless, once per client count, with LOAD_PLAN naming a JSON file:
{"run": id, "keys": [API keys], "spirits": [spirit ids], "rate": requests/s per client,
"bulk_size": n, "record": path}. Each client takes the next key and spirit (round robin) and a
session of its own, and, at most `rate` times a second, does one of (by weight):

- 6  `event`: POST /api/v1/events/, one event with a dedupe key of its own;
- 1  `bulk`:  POST /api/v1/events/bulk/, `bulk_size` events, each with its own dedupe key;
- 2  `pack`:  POST /api/v1/spirits/{id}/pack/ for its session, with a query;
- 1  `search`: POST /api/v1/spirits/{id}/search/.

Every answer is recorded by kind (latency of each 2xx answer, count of each status; "error" for
no answer), and so is every event the API acknowledged (201, or "created" in a bulk answer) with
its id and dedupe key. When the step ends the record is written to the plan's `record` path, for
the runner to summarize and to check against what the API stores.

`locust -f bench/load/locustfile.py --list` imports it without a plan.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

from locust import FastHttpUser, constant_throughput, events, task

TEXT = (
    "the user prefers concise answers about postgres vector search and asked again about "
    "indexing strategies for long conversations with many tool calls while planning a trip to "
    "lisbon with green tea neovim keybindings deadlines budget reports and weekly reviews"
)
WORDS = TEXT.split(" ")


def _plan() -> dict:
    path = os.environ.get("LOAD_PLAN")
    if not path:  # imported without a run (locust --list, a check)
        return {"run": "none", "keys": [], "spirits": [], "rate": 1.0, "bulk_size": 1}
    return json.loads(Path(path).read_text())


PLAN = _plan()
_requests: dict[str, dict] = defaultdict(lambda: {"ok_ms": [], "statuses": Counter()})
# (spirit id, session id, event id, dedupe key) of every acknowledged event
_acks: list[tuple[str, str, str, str]] = []
# items a bulk answer called "duplicate" although their dedupe key was new
_unexpected: list[dict] = []
_clock = {"started": None}
_numbers = itertools.count()


@events.test_start.add_listener
def _started(**kwargs) -> None:
    _clock["started"] = time.monotonic()


@events.request.add_listener
def _answered(name, response_time, response=None, exception=None, **kwargs) -> None:
    status = getattr(response, "status_code", 0) or 0
    entry = _requests[name]
    entry["statuses"][str(status) if status else "error"] += 1
    if 200 <= status < 300 and exception is None:
        entry["ok_ms"].append(response_time)


@events.test_stop.add_listener
def _stopped(**kwargs) -> None:
    if not PLAN.get("record"):
        return
    started = _clock["started"] or time.monotonic()
    record = {
        "run": PLAN["run"],
        "elapsed": time.monotonic() - started,
        "requests": {
            name: {"ok_ms": entry["ok_ms"], "statuses": dict(entry["statuses"])}
            for name, entry in _requests.items()
        },
        "acks": _acks,
        "unexpected": _unexpected,
    }
    Path(PLAN["record"]).write_text(json.dumps(record))


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


class AgentClient(FastHttpUser):
    """One agent: its key, its spirit (shared with other clients), its own session."""

    wait_time = constant_throughput(float(PLAN["rate"]))

    def on_start(self) -> None:
        number = next(_numbers)
        if not PLAN["keys"] or not PLAN["spirits"]:
            raise RuntimeError("LOAD_PLAN names no keys or spirits: run bench/load/run.py")
        self.headers = {"Authorization": f"Bearer {PLAN['keys'][number % len(PLAN['keys'])]}"}
        self.spirit = PLAN["spirits"][number % len(PLAN["spirits"])]
        self.session = f"load-{PLAN['run']}-c{number}"
        self.sequence = itertools.count()
        self.rng = random.Random(number)

    def _event(self) -> dict:
        n = next(self.sequence)
        return {
            "event_type": "message.in" if n % 2 == 0 else "message.out",
            "role": "user" if n % 2 == 0 else "assistant",
            "session_id": self.session,
            "content": f"[{n}] {_text(self.rng, 30)}",
            "dedupe_key": f"{self.session}-{n}",
            "occurred_at": datetime.now(UTC).isoformat(),
        }

    def _ack(self, event_id: str, dedupe_key: str) -> None:
        _acks.append((self.spirit, self.session, event_id, dedupe_key))

    @task(6)
    def event(self) -> None:
        body = {"spirit_id": self.spirit, **self._event()}
        response = self.client.post(
            "/api/v1/events/", json=body, headers=self.headers, name="event"
        )
        if response.status_code == 201:
            self._ack(response.json()["id"], body["dedupe_key"])

    @task(1)
    def bulk(self) -> None:
        items = [self._event() for _ in range(int(PLAN["bulk_size"]))]
        body = {"spirit_id": self.spirit, "events": items}
        response = self.client.post(
            "/api/v1/events/bulk/", json=body, headers=self.headers, name="bulk"
        )
        if response.status_code != 200:
            return
        for result in response.json()["results"]:
            key = items[result["index"]]["dedupe_key"]
            if result["status"] == "created":
                self._ack(result["id"], key)
            elif result["status"] == "duplicate":
                _unexpected.append({"dedupe_key": key, "result": result})

    @task(2)
    def pack(self) -> None:
        body = {"query": _text(self.rng, 6), "session_id": self.session, "max_tokens": 1000}
        self.client.post(
            f"/api/v1/spirits/{self.spirit}/pack/", json=body, headers=self.headers, name="pack"
        )

    @task(1)
    def search(self) -> None:
        body = {"query": _text(self.rng, 4), "k": 10}
        self.client.post(
            f"/api/v1/spirits/{self.spirit}/search/",
            json=body,
            headers=self.headers,
            name="search",
        )
