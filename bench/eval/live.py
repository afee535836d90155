#!/usr/bin/env python3
"""Recall through a running server, as an outside benchmark asks it.

Against `make run` (or any deployment): each conversation of bench/eval/recall/ is ingested in
one bulk call into a new spirit; the script waits (`--wait`, default 60 s from the first call:
the worker enriches, embeds and synthesizes meanwhile; it prints when every event is
embedded), prints the first spirit's pipeline status, then asks every question through the
search endpoint (defaults, k = 10) and the pack endpoint (`max_tokens` 1,000), and prints
recall_all@10 and pack answers as bench/eval/recall.py counts them. The spirits are left in
place (delete them in the admin or through the API).

    KEY=$(.venv/bin/python manage.py createapikey --team my-team --create-team "My Team" \\
          --role admin)
    ELEPHANTASM_API_KEY=$KEY .venv/bin/python bench/eval/live.py [--url http://127.0.0.1:8000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import recall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("ELEPHANTASM_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--wait", type=float, default=60.0, help="seconds after ingest (60)")
    args = parser.parse_args(argv)
    base = args.url.rstrip("/") + "/api/v1"
    key = os.environ["ELEPHANTASM_API_KEY"]
    client = httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=60)
    conversations = recall.load_conversations()
    started = time.time()
    spirits = {}
    for conversation in conversations:
        name = f"live-{conversation['id']}-{int(started)}"
        spirit = client.post(f"{base}/spirits/", json={"name": name}).raise_for_status().json()
        payloads = [
            p for s in conversation["sessions"] for p in recall.turn_payloads(conversation, s)
        ]
        turns = [t["id"] for s in conversation["sessions"] for t in s["turns"]]
        body = {"spirit_id": spirit["id"], "events": payloads}
        results = client.post(f"{base}/events/bulk/", json=body).raise_for_status().json()
        ids = [item["id"] for item in results["results"]]
        spirits[conversation["id"]] = (spirit["id"], dict(zip(ids, turns, strict=True)))
    events = sum(len(turns) for _, turns in spirits.values())
    print(f"ingested {events} events in {time.time() - started:.1f} s", flush=True)
    waiting = {spirit for spirit, _ in spirits.values()}
    while waiting and time.time() - started < args.wait:
        for spirit in list(waiting):
            steps = client.get(f"{base}/spirits/{spirit}/pipeline/").raise_for_status().json()
            if steps["steps"]["embedding"]["pending"]["events"] == 0:
                waiting.discard(spirit)
        time.sleep(0.5)
    if not waiting:
        print(f"every event embedded {time.time() - started:.1f} s after the first call")
    time.sleep(max(0.0, args.wait - (time.time() - started)))
    first = next(iter(spirits.values()))[0]
    status = client.get(f"{base}/spirits/{first}/pipeline/").raise_for_status().json()
    print("pipeline of the first spirit:", json.dumps(status["steps"])[:400])
    found = answered = asked = 0
    for conversation in conversations:
        spirit, turns = spirits[conversation["id"]]
        for question in conversation["questions"]:
            asked += 1
            body = {"query": question["question"]}
            hits = client.post(f"{base}/spirits/{spirit}/search/", json=body)
            top = {turns.get(hit["id"]) for hit in hits.raise_for_status().json()["results"][:10]}
            found += set(question["evidence"]) <= top
            body = {"query": question["question"], "max_tokens": 1000}
            pack = client.post(f"{base}/spirits/{spirit}/pack/", json=body).raise_for_status()
            answered += recall.answered(question["answer"], pack.json()["text"])
    print(
        f"{asked} questions, asked from {args.wait:.0f} s after ingest: recall_all@10 "
        f"{found / asked:.3f}, pack answers at 1,000 tokens {answered / asked:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
