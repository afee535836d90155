"""manage.py reembed: (re-)embed events, memories, knowledge and lessons with the configured model.

Marks the rows (every row with --all; else those with no embedding or one from another model than
the configured embedder's), then enqueues embedding tasks of --batch rows on the "enrich" (events)
and "embed" queues and waits for their results with a text progress bar on stderr (done/total,
rate), up to --timeout seconds. With --sync it embeds in this process instead, with the same bar.
Marking is not a content change: no audit entries.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.management.base import BaseCommand, CommandError

from pipeline import cortex, embedding, flow

TARGETS = ("events", "memories", "knowledge", "lessons")
POLL_SECONDS = 0.2
BAR_WIDTH = 30


@dataclass
class Job:
    """One batch of one kind: how to run it here, and how to enqueue it."""

    kind: str
    ids: list[str]
    run: Callable[[], int]
    enqueue: Callable[[], object]


class ProgressBar:
    def __init__(self, total: int, write: Callable[[str], None]):
        self.total = total
        self.done = 0
        self.write = write
        self.started = time.monotonic()

    def update(self, done: int) -> None:
        self.done = done
        elapsed = max(time.monotonic() - self.started, 1e-6)
        filled = BAR_WIDTH if not self.total else BAR_WIDTH * done // self.total
        self.write(
            f"\r[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {done}/{self.total}"
            f" {done / elapsed:.1f}/s"
        )

    def finish(self) -> None:
        self.write("\n")


class Command(BaseCommand):
    help = "Re-embed events, memories, knowledge and lessons with the configured embedding model."

    def add_arguments(self, parser):
        parser.add_argument("--model", choices=(*TARGETS, "all"), default="all")
        parser.add_argument(
            "--all", action="store_true", dest="everything", help="every row, not only outdated"
        )
        parser.add_argument("--batch", type=int, default=64, help="rows per task (default 64)")
        parser.add_argument("--sync", action="store_true", help="embed in this process")
        parser.add_argument(
            "--timeout", type=float, default=3600.0, help="seconds to wait for the tasks"
        )

    def handle(self, *args, model: str, everything: bool, batch: int, sync: bool, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        kinds = TARGETS if model == "all" else (model,)
        jobs = [job for kind in kinds for job in self._jobs(kind, everything, batch)]
        total = sum(len(job.ids) for job in jobs)
        counts = {kind: 0 for kind in kinds}
        for job in jobs:
            counts[job.kind] += len(job.ids)
        self.stdout.write(
            "To embed: " + ", ".join(f"{kind} {count}" for kind, count in counts.items())
        )
        bar = ProgressBar(total, self._write_err)
        bar.update(0)
        if sync:
            done = 0
            for job in jobs:
                job.run()
                done += len(job.ids)
                bar.update(done)
            bar.finish()
        else:
            self._wait(jobs, bar, options["timeout"])
        self.stdout.write(self.style.SUCCESS(f"Embedded {total} rows."))

    def _write_err(self, text: str) -> None:
        self.stderr.write(text, ending="")
        self.stderr.flush()

    def _jobs(self, kind: str, everything: bool, batch: int) -> list[Job]:
        if kind == "events":
            cortex.events_mark_for_reembedding(everything=everything)
            ids = [str(i) for i in cortex.events_pending_enrichment(limit=None)]
            return [
                Job(
                    kind,
                    chunk,
                    run=lambda chunk=chunk: cortex.enrich_events(event_ids=chunk),
                    enqueue=lambda chunk=chunk: flow.send_enrichment(chunk),
                )
                for chunk in _chunks(ids, batch)
            ]
        label = embedding.MODEL_LABELS[kind]
        model = embedding.embeddable_model(label)
        embedding.mark_for_reembedding(model=model, everything=everything)
        ids = [str(i) for i in embedding.stale_ids(model=model)]
        return [
            Job(
                kind,
                chunk,
                run=lambda chunk=chunk: embedding.embed_stale(
                    model=model, ids=chunk, batch_size=batch
                ),
                enqueue=lambda chunk=chunk: flow.send_embedding(label, chunk),
            )
            for chunk in _chunks(ids, batch)
        ]

    def _wait(self, jobs: list[Job], bar: ProgressBar, timeout: float) -> None:
        # No transaction is open here: each task is published at once.
        pending = [(job.enqueue(), len(job.ids)) for job in jobs]
        deadline = time.monotonic() + timeout
        done = 0
        failed = 0
        while pending:
            still = []
            for result, size in pending:
                if result.ready():
                    done += size
                    if result.failed():
                        failed += size
                else:
                    still.append((result, size))
            if len(still) != len(pending):
                bar.update(done)
            pending = still
            if pending and time.monotonic() > deadline:
                bar.finish()
                raise CommandError(
                    f"Timed out after {timeout:.0f} s with {len(pending)} tasks still running; "
                    "they go on in the workers (run again to see what is left)."
                )
            if pending:
                time.sleep(POLL_SECONDS)
        bar.finish()
        if failed:
            raise CommandError(f"{failed} rows failed to embed; see the worker logs.")


def _chunks(ids: list[str], size: int) -> list[list[str]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]
