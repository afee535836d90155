"""Concurrent curation on real connections: a memory gets at most one successor."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from conftest import bearer_client
from memories.models import Memory, MemoryStatus
from memories.services import memories as svc
from teams.actors import Actor

THREADS = 8
ACTOR = Actor.system("test")


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
def test_concurrent_merges_of_the_same_memories_make_one_merged_memory(api_key, spirit):
    a = svc.memory_create(spirit=spirit, data={"content": "a"}, actor=ACTOR)
    b = svc.memory_create(spirit=spirit, data={"content": "b"}, actor=ACTOR)
    body = {"memory_ids": [str(a.pk), str(b.pk)]}

    responses = run_concurrently(
        lambda i: bearer_client(api_key.raw).post("/api/v1/memories/merge/", body, format="json")
    )

    assert sorted(r.status_code for r in responses) == [201] + [400] * (THREADS - 1)
    [merged] = Memory.objects.exclude(pk__in=[a.pk, b.pk])
    for source in (a, b):
        source.refresh_from_db()
        assert (source.status, source.superseded_by_id) == (MemoryStatus.SUPERSEDED, merged.pk)


@pytest.mark.django_db(transaction=True)
def test_concurrent_supersedes_of_one_memory_make_one_new_version(api_key, spirit):
    old = svc.memory_create(spirit=spirit, data={"content": "v1"}, actor=ACTOR)
    url = f"/api/v1/memories/{old.pk}/supersede/"

    responses = run_concurrently(
        lambda i: bearer_client(api_key.raw).post(url, {"content": f"v2-{i}"}, format="json")
    )

    assert sorted(r.status_code for r in responses) == [201] + [400] * (THREADS - 1)
    [new] = Memory.objects.exclude(pk=old.pk)
    old.refresh_from_db()
    assert old.superseded_by_id == new.pk
