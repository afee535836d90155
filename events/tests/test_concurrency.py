"""Concurrent ingest on real connections: dedupe and session counters stay exact."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from rest_framework.test import APIClient

from events.models import Event, Session

from .conftest import BULK_URL, EVENTS_URL, at, iso

THREADS = 20


def bearer_client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def run_concurrently(task: Callable[[int], object], n: int = THREADS) -> list:
    """Run task(0..n-1) in n threads released together; each thread has its own DB connection."""
    barrier = threading.Barrier(n)

    def run(i: int):
        try:
            barrier.wait(timeout=30)
            return task(i)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


@pytest.mark.django_db(transaction=True)
def test_same_dedupe_key_posted_by_20_threads_creates_one_event(api_key, spirit):
    def post(i: int):
        client = bearer_client(api_key.raw)
        body = {
            "spirit_id": str(spirit.pk),
            "event_type": "message.in",
            "content": f"attempt {i}",
            "dedupe_key": "same-key",
            "session_id": "s",
        }
        return client.post(EVENTS_URL, body, format="json")

    responses = run_concurrently(post)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (THREADS - 1)
    [event] = Event.objects.all()
    conflicts = [r.json()["error"] for r in responses if r.status_code == 409]
    assert {c["code"] for c in conflicts} == {"duplicate_event"}
    assert {c["details"]["existing_id"] for c in conflicts} == {str(event.pk)}
    assert Session.objects.get().event_count == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_ingest_into_one_session_keeps_exact_counters(api_key, spirit):
    per_thread = 5

    def post(i: int):
        client = bearer_client(api_key.raw)
        items = [
            {
                "event_type": "message.in" if j % 2 else "message.out",
                "content": "x",
                "session_id": "shared",
                "occurred_at": iso(at(i * per_thread + j)),
                "token_count": i + 1,
            }
            for j in range(per_thread)
        ]
        return client.post(BULK_URL, {"spirit_id": str(spirit.pk), "events": items}, format="json")

    responses = run_concurrently(post)

    assert {r.status_code for r in responses} == {200}
    session = Session.objects.get(session_id="shared")
    tokens = sum((i + 1) * per_thread for i in range(THREADS))
    inputs = sum((i + 1) * 2 for i in range(THREADS))  # j = 1, 3 of each thread
    assert session.event_count == THREADS * per_thread == Event.objects.count()
    assert (session.token_count, session.input_token_count) == (tokens, inputs)
    assert session.output_token_count == tokens - inputs
    assert session.first_event_at == at(0)
    assert session.last_event_at == at(THREADS * per_thread - 1)
