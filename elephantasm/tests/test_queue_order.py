"""A worker takes its queues in the order it consumes them (settings: queue_order_strategy
"priority"), so the Cortex's "enrich" tasks run before the synthesis backlog of a bulk ingest."""

from __future__ import annotations

from uuid import uuid4

import celery.contrib.testing.tasks  # noqa: F401 - registers celery.ping
import pytest
from django.conf import settings

from elephantasm import celery_app

from .waiting import real_worker, wait_until


@pytest.fixture
def queues():
    names = [f"test-first-{uuid4().hex[:8]}", f"test-then-{uuid4().hex[:8]}"]
    yield names
    with celery_app.connection_for_write() as connection:
        for name in names:
            connection.default_channel.queue_purge(name)


def test_the_workers_queues_are_taken_in_order_enrich_first():
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["queue_order_strategy"] == "priority"
    assert settings.WORKER_QUEUES[0] == "enrich"


def test_a_worker_drains_its_first_queue_before_the_next(queues):
    first, then = queues
    ping = celery_app.tasks["celery.ping"]
    waiting = [ping.apply_async(queue=then) for _ in range(4)]  # sent first, a backlog
    urgent = [ping.apply_async(queue=first) for _ in range(4)]

    with real_worker([first, then]):
        wait_until(lambda: all(r.ready() for r in waiting + urgent), "every ping answered")

    assert max(r.date_done for r in urgent) < min(r.date_done for r in waiting)
