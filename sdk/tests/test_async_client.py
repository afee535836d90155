"""The async client: the agent verbs, paging and errors against the live test server, retries
and the version check against the loopback server. Each test drives its coroutine with
asyncio.run (the test's data is written before, outside the event loop)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from elephantasm_client import (
    AsyncElephantasm,
    DuplicateEventError,
    Event,
    NotFoundError,
    Pack,
    SearchHit,
    Spirit,
    VersionMismatchError,
)

from .loopback import Loopback, Reply, envelope


def test_async_client_extracts_searches_injects_and_pages(live_server, make_key, spirit_id):
    key = make_key()

    async def scenario():
        async with AsyncElephantasm(base_url=live_server.url, api_key=key) as client:
            first = await client.extract(
                spirit_id, "message.in", "I live in Lisbon.", role="user", session_id="s-1"
            )
            await client.events.bulk(
                spirit_id,
                [{"event_type": "system", "content": f"note {n}"} for n in range(4)],
            )
            hits, pack, page = await asyncio.gather(
                client.search(spirit_id, "Lisbon", kinds=["events"]),
                client.inject(spirit_id, query="where do I live?", session_id="s-1"),
                client.events.list(spirit_id=spirit_id, limit=2),
            )
            every = [event async for event in client.events.iter(spirit_id=spirit_id, page_size=2)]
            with pytest.raises(DuplicateEventError) as duplicate:
                await client.extract(spirit_id, "system", "x", dedupe_key=first.dedupe_key)
            same = await client.extract(
                spirit_id, "system", "x", dedupe_key=first.dedupe_key, ignore_duplicates=True
            )
            with pytest.raises(NotFoundError):
                await client.memories.get(str(uuid.uuid4()))
            return first, hits, pack, page, every, duplicate.value, same

    first, hits, pack, page, every, duplicate, same = asyncio.run(scenario())

    assert isinstance(first, Event) and first.session_id == "s-1"
    assert [(h.text, type(h)) for h in hits] == [("I live in Lisbon.", SearchHit)]
    assert isinstance(pack, Pack) and "user: I live in Lisbon." in pack.text
    assert (page.count, len(page.results)) == (5, 2)
    assert len(every) == 5 and len({e.id for e in every}) == 5
    assert duplicate.existing_id == first.id and same.id == first.id


def test_async_client_retries_a_503_and_refuses_another_api_version():
    retried = {
        ("GET", "/api/v1/spirits/s1/"): [
            Reply(503, envelope("service_unavailable", "Busy."), {"Retry-After": "0"}),
            Reply(200, {"id": "s1", "name": "helper"}),
        ]
    }
    newer = {("GET", "/"): [Reply(200, {"api_version": "v2"})]}

    async def scenario(server: Loopback):
        async with AsyncElephantasm(base_url=server.url, api_key="elk_k") as client:
            return await client.spirits.get("s1")

    with Loopback(retried) as server:
        spirit = asyncio.run(scenario(server))
    with Loopback(newer) as other, pytest.raises(VersionMismatchError, match="serves API v2"):
        asyncio.run(scenario(other))

    assert isinstance(spirit, Spirit) and spirit.name == "helper"
    assert len(server.requests_to("GET", "/api/v1/spirits/s1/")) == 2
