"""`elephantasm-mcp` started from the venv as a subprocess and driven by the `mcp` client
library: over stdio against the live test server, and over streamable HTTP (its flag)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from memories.models import Memory

from .loopback import Loopback, Reply

SCRIPT = Path(sys.executable).parent / "elephantasm-mcp"
TOOLS = {"search_memory", "get_context", "record_event", "remember", "get_identity"}


def text_of(result) -> str:
    return "\n".join(part.text for part in result.content)


async def drive(params: StdioServerParameters, spirit_id: str) -> dict:
    seen: dict = {}
    with anyio.fail_after(60):
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            seen["tools"] = {tool.name for tool in (await session.list_tools()).tools}
            call = session.call_tool
            seen["recorded"] = [
                await call(
                    "record_event",
                    {"content": "Hi, I'm Ada. I live in Lisbon.", "session_id": "s-1"},
                ),
                await call(
                    "record_event",
                    {
                        "content": "Nice to meet you, Ada.",
                        "event_type": "message.out",
                        "session_id": "s-1",
                    },
                ),
            ]
            seen["search"] = await call("search_memory", {"query": "Lisbon", "k": 5})
            seen["context"] = await call(
                "get_context", {"query": "where does Ada live?", "session_id": "s-2"}
            )
            seen["remember"] = await call(
                "remember", {"content": "Ada drinks green tea.", "importance": 0.8}
            )
            seen["identity"] = await call("get_identity", {"spirit_id": spirit_id})
            seen["not_found"] = await call(
                "search_memory", {"query": "Lisbon", "spirit_id": str(uuid.uuid4())}
            )
            seen["invalid"] = await call(
                "record_event", {"content": "Hi", "event_type": "message.sideways"}
            )
            seen["resources"] = {str(r.uri) for r in (await session.list_resources()).resources}
            seen["templates"] = {
                t.uriTemplate for t in (await session.list_resource_templates()).resourceTemplates
            }
            identity = await session.read_resource(f"elephantasm://spirits/{spirit_id}/identity")
            pack = await session.read_resource("elephantasm://pack/latest")
            seen["identity_resource"] = identity.contents[0].text
            seen["pack_resource"] = pack.contents[0].text
    return seen


def test_the_mcp_server_serves_the_tools_and_resources_over_stdio(live_server, make_key, spirit_id):
    env = {
        **os.environ,
        "ELEPHANTASM_URL": live_server.url,
        "ELEPHANTASM_API_KEY": make_key(),
        "ELEPHANTASM_SPIRIT_ID": spirit_id,
    }
    params = StdioServerParameters(command=str(SCRIPT), args=[], env=env)

    seen = asyncio.run(drive(params, spirit_id))

    assert seen["tools"] == TOOLS
    recorded = [json.loads(text_of(result)) for result in seen["recorded"]]
    assert [r["event_type"] for r in recorded] == ["message.in", "message.out"]
    assert not any(result.isError for result in seen["recorded"])
    hits = json.loads(text_of(seen["search"]))["hits"]
    assert (
        hits[0]["text"] == "Hi, I'm Ada. I live in Lisbon." and hits[0]["id"] == recorded[0]["id"]
    )
    context = text_of(seen["context"])
    assert (
        "## Relevant past events" in context and "user: Hi, I'm Ada. I live in Lisbon." in context
    )
    remembered = json.loads(text_of(seen["remember"]))
    memory = Memory.objects.get(pk=remembered["id"])
    assert (memory.content, memory.importance, memory.source_type) == (
        "Ada drinks green tea.",
        0.8,
        "explicit",
    )
    assert json.loads(text_of(seen["identity"])) == {
        "version": 0,
        "document": json.loads(seen["identity_resource"])["document"],
    }

    assert seen["not_found"].isError and "Not found. (not_found, HTTP 404)" in text_of(
        seen["not_found"]
    )
    invalid = text_of(seen["invalid"])
    assert (
        seen["invalid"].isError
        and "Invalid input: event_type. (validation_error, HTTP 400)" in invalid
    )
    assert "event_type: Not a valid event type: use one of message.in" in invalid

    assert seen["resources"] == {"elephantasm://identity", "elephantasm://pack/latest"}
    assert seen["templates"] == {
        "elephantasm://spirits/{spirit_id}/identity",
        "elephantasm://spirits/{spirit_id}/pack/latest",
    }
    assert seen["pack_resource"] == context


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def over_http(port: int) -> tuple[set[str], dict]:
    with anyio.fail_after(30):
        while True:  # until the server listens
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                await anyio.sleep(0.1)
        async with (
            streamable_http_client(f"http://127.0.0.1:{port}/mcp") as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            tools = {tool.name for tool in (await session.list_tools()).tools}
            identity = await session.call_tool("get_identity", {})
    return tools, json.loads(text_of(identity))


def test_the_mcp_server_speaks_streamable_http_with_its_flag():
    identity = {"spirit_id": "s1", "version": 3, "document": {"essence": "Helpful."}}
    script = {("GET", "/api/v1/spirits/s1/identity/"): [Reply(200, identity)]}
    port = free_port()
    with Loopback(script) as api:
        env = {
            **os.environ,
            "ELEPHANTASM_URL": api.url,
            "ELEPHANTASM_API_KEY": "elk_k",
            "ELEPHANTASM_SPIRIT_ID": "s1",
        }
        command = [str(SCRIPT), "--transport", "streamable-http", "--port", str(port)]
        server = subprocess.Popen(  # noqa: S603 - our own console script
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            tools, answer = asyncio.run(over_http(port))
        finally:
            server.terminate()
            server.wait(timeout=10)

    assert tools == TOOLS
    assert answer == {"version": 3, "document": {"essence": "Helpful."}}
    assert api.requests_to("GET", "/api/v1/spirits/s1/identity/")[0].headers["Authorization"] == (
        "Bearer elk_k"
    )
