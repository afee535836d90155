"""Running a real Celery worker in tests, and waiting for what it does in the background."""

from __future__ import annotations

import time
from contextlib import contextmanager

from celery.contrib.testing.worker import start_worker

from elephantasm import celery_app


@contextmanager
def real_worker(queue: str | list[str]):
    """A real worker (solo pool, in this process) consuming only `queue` (or these queues, in
    this order), on the real Redis broker, for the length of the `with` block; it finishes its
    current task on exit."""
    queues = [queue] if isinstance(queue, str) else list(queue)
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, queues=queues, shutdown_timeout=30
    ) as worker:
        yield worker


def wait_until(predicate, what: str = "the condition", *, timeout: float = 90.0) -> None:
    """Poll `predicate` every 0.1 s until it is true; AssertionError naming `what` after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {what}")
