"""Enrichment + embedding throughput of one worker process, with the offline model.

Called by bench/run.py after the ingest cases (same throwaway database). It ingests N realistic
events (user and assistant messages, tool calls with JSON arguments, tool results, some errors,
system notes) through the service, then runs the Cortex on them in this process exactly as an
"enrich" task does (`pipeline.cortex.enrich_events`, ENRICH_TASK_CHUNK ids per call): summary,
importance, one embed call per batch and one bulk UPDATE. Then M stale memories are embedded as an
"embed" task does (`pipeline.embedding.embed_stale`). The embedder uses EMBEDDING_BATCH_THREADS
onnxruntime threads, as a worker would; the model load is timed apart (once per worker process).
"""

from __future__ import annotations

import contextlib
import json
import time

USER = [
    "Can you remember that I prefer short answers? I read them on my phone.",
    "My name is Dana and I work at Acme on the billing team since 2021.",
    "What was the deadline for the Q3 report again? I think it was October 14.",
    "Never schedule meetings before 10am, it's important for me.",
    "Let's look at why the nightly import failed; the logs mention a timeout on the S3 bucket.",
    "Please summarise the last three emails from Marco about the Lisbon offsite.",
]
ASSISTANT = [
    "Noted: you prefer short answers. I'll keep replies brief and skimmable from now on.",
    "The Q3 report is due on October 14. I can draft an outline today if you want.",
    "The import failed because the S3 request timed out after 30 seconds; retrying with a longer "
    "timeout and multipart download should fix it. I have opened a ticket with the details.",
    "Marco confirmed the venue, asked for dietary requirements by Friday, and shared the agenda.",
]
TOOLS = ["search_email", "run_sql", "fetch_url", "calendar_create", "read_file"]


@contextlib.contextmanager
def private_enrich_queue():
    """Ingest enqueues enrichment after commit: send the bench's tasks to a queue of their own
    ("bench-enrich", which no worker consumes) and purge it at the end, so no worker of a running
    `make run` on the same Redis takes them (their ids are in this throwaway database).
    Publishing stays in the measured path, as in production."""
    from celery.app.routes import Router, prepare

    from elephantasm import celery_app
    from pipeline import flow

    queue = "bench-enrich"
    amqp = celery_app.amqp
    saved = amqp.router
    routes = [*prepare({flow.ENRICH_EVENTS: {"queue": queue}}), *amqp.routes]
    amqp.router = Router(routes, amqp.queues, True, app=celery_app)
    try:
        yield queue
    finally:
        amqp.router = saved
        with celery_app.connection_for_write() as connection:
            connection.default_channel.queue_purge(queue)


def realistic_event(i: int) -> dict:
    kind = i % 10
    session = f"bench-enrich-{i // 40}"
    if kind in (0, 3, 6):
        text = USER[i % len(USER)]
        return {"event_type": "message.in", "role": "user", "content": f"{text} (#{i})"}
    if kind in (1, 4, 8):
        text = " ".join(ASSISTANT[(i + k) % len(ASSISTANT)] for k in range(1 + i % 3))
        return {"event_type": "message.out", "role": "assistant", "content": text}
    tool = TOOLS[i % len(TOOLS)]
    if kind in (2, 7):
        args = {"query": USER[i % len(USER)][:60], "limit": 10 + i % 5}
        return {
            "event_type": "tool.call",
            "content": json.dumps({"name": tool, "arguments": args}),
            "metadata": {"tool": tool},
            "session_id": session,
        }
    if kind == 5 and i % 20 == 5:
        output = "Error: connection timed out after 30s\nTraceback (most recent call last): ..."
    elif kind == 9:
        output = "System note: the user switched to the mobile app."
        return {"event_type": "system", "content": output}
    else:
        output = json.dumps({"rows": [{"id": k, "title": f"item {k}"} for k in range(8)]})
    return {
        "event_type": "tool.result",
        "content": output,
        "metadata": {"tool": tool},
        "session_id": session,
    }


def bench_enrichment(spirit, events: int = 2000, memories: int = 500) -> list[dict]:
    from django.conf import settings

    from elephantasm.ai.embeddings import get_batch_embedder
    from events.services import ItemStatus, events_bulk_create
    from memories.models import Memory
    from pipeline import cortex
    from pipeline.embedding import embed_stale

    items = [realistic_event(i) for i in range(events)]
    ids = []
    for start in range(0, len(items), 1000):
        results = events_bulk_create(spirit=spirit, items=items[start : start + 1000])
        ids += [str(r.id) for r in results if r.status == ItemStatus.CREATED]

    started = time.perf_counter()
    embedder = get_batch_embedder()
    embedder.embed(["warm up"])
    load_seconds = time.perf_counter() - started

    chunk = settings.ENRICH_TASK_CHUNK
    started = time.perf_counter()
    done = sum(
        cortex.enrich_events(event_ids=ids[start : start + chunk])
        for start in range(0, len(ids), chunk)
    )
    enrich_seconds = time.perf_counter() - started
    assert done == len(ids), (done, len(ids))

    Memory.all_objects.bulk_create(
        [
            Memory(spirit=spirit, content=" ".join(ASSISTANT[: 1 + k % 4]), summary=USER[k % 6])
            for k in range(memories)
        ]
    )
    started = time.perf_counter()
    embedded = embed_stale(model=Memory, batch_size=settings.EMBED_BATCH_SIZE)
    embed_seconds = time.perf_counter() - started
    assert embedded == memories, (embedded, memories)

    threads = settings.EMBEDDING_BATCH_THREADS
    return [
        {
            "case": f"enrich events (Cortex, {chunk}/task)",
            "rows": done,
            "seconds": round(enrich_seconds, 3),
            "per_second": round(done / enrich_seconds, 1),
        },
        {
            "case": f"embed stale memories ({settings.EMBED_BATCH_SIZE}/batch)",
            "rows": embedded,
            "seconds": round(embed_seconds, 3),
            "per_second": round(embedded / embed_seconds, 1),
        },
        {"case": "model load + first embed", "rows": 1, "seconds": round(load_seconds, 3)},
        {"model": embedder.model_name, "threads": threads},
    ]


def report(rows: list[dict]) -> str:
    *cases, info = rows
    lines = [
        f"Enrichment + embedding, one worker process: {info['model']}, "
        f"EMBEDDING_BATCH_THREADS={info['threads']} (onnxruntime intra-op threads)",
        f"{'case':<44} {'rows':>7} {'seconds':>8} {'rows/s':>10}",
        "-" * 72,
    ]
    for r in cases:
        rate = f"{r['per_second']:>10,.0f}" if "per_second" in r else f"{'':>10}"
        lines.append(f"{r['case']:<44} {r['rows']:>7} {r['seconds']:>8.2f} {rate}")
    return "\n".join(lines)
