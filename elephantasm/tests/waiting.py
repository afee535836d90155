"""Waiting for what a real Celery worker does in the background, in tests."""

from __future__ import annotations

import time


def wait_until(predicate, what: str = "the condition", *, timeout: float = 90.0) -> None:
    """Poll `predicate` every 0.1 s until it is true; AssertionError naming `what` after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {what}")
