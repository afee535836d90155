"""`elephantasm-mcp`: a spirit's memory as MCP tools and resources, for any MCP client.

Configured by the environment: ELEPHANTASM_URL, ELEPHANTASM_API_KEY and ELEPHANTASM_SPIRIT_ID
(the default spirit; every tool also takes `spirit_id`). Speaks stdio by default,
streamable HTTP with `--transport streamable-http [--host 127.0.0.1] [--port 8765]`.

Tools: search_memory, get_context, record_event, remember, get_identity. Resources: the
spirit's identity and its latest context pack. An API error comes back as a tool error
carrying the API's message and code.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from . import __version__
from ._client import AsyncElephantasm
from .errors import ElephantasmError
from .models import SearchHit

try:
    from mcp.server.fastmcp import FastMCP
    from mcp.server.fastmcp.exceptions import ToolError
except ImportError:  # pragma: no cover - the extra is not installed
    FastMCP = None  # type: ignore[assignment,misc]
    ToolError = RuntimeError  # type: ignore[assignment,misc]

INSTRUCTIONS = (
    "Long-term memory of this agent (Elephantasm). Before answering, call get_context with the "
    "user's message as the query and use what it returns. Record each turn with record_event "
    "(the user's message as message.in, your answer as message.out). Use search_memory to look "
    "something up, remember to write down something worth keeping for good."
)
DEFAULT_PORT = 8765
ROLES = {"message.in": "user", "message.out": "assistant"}


def describe(exc: ElephantasmError) -> str:
    """The API's message, code and status, and the per-field details of a validation error."""
    text = exc.message
    parts = [part for part in (exc.code, f"HTTP {exc.status}" if exc.status else None) if part]
    if parts:
        text += f" ({', '.join(parts)})"
    if exc.code == "validation_error" and isinstance(exc.details, dict) and exc.details:
        text += " " + "; ".join(
            f"{name}: {_messages(value)}" for name, value in exc.details.items()
        )
    return text


def _messages(value: Any) -> str:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return " ".join(value)
    return json.dumps(value, ensure_ascii=False)


@contextmanager
def api_errors() -> Iterator[None]:
    try:
        yield
    except ElephantasmError as exc:
        raise ToolError(describe(exc)) from exc


def hit_summary(hit: SearchHit) -> dict[str, Any]:
    summary = {
        "kind": hit.kind,
        "id": hit.id,
        "score": round(hit.score, 5),
        "text": hit.text,
        "subject": hit.subject or None,
        "type": hit.type,
        "session_id": hit.session_id,
        "occurred_at": hit.occurred_at.isoformat() if hit.occurred_at else None,
    }
    return {k: v for k, v in summary.items() if v is not None}


def build_server(
    client: AsyncElephantasm,
    *,
    default_spirit_id: str | None = None,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
) -> FastMCP:
    """The MCP server over `client`; tools without `spirit_id` use `default_spirit_id`."""
    if FastMCP is None:
        raise RuntimeError(
            'The MCP server needs the mcp package: pip install "elephantasm-client[mcp]"'
        )
    server = FastMCP("elephantasm", instructions=INSTRUCTIONS, host=host, port=port)

    def spirit(spirit_id: str | None) -> str:
        chosen = spirit_id or default_spirit_id
        if not chosen:
            raise ToolError("No spirit: pass spirit_id, or set ELEPHANTASM_SPIRIT_ID.")
        return chosen

    @server.tool()
    async def search_memory(
        query: str, kinds: list[str] | None = None, k: int = 10, spirit_id: str | None = None
    ) -> dict[str, Any]:
        """Search the spirit's long-term memory (events, memories, knowledge, lessons) for
        `query`; best hits first. `kinds` limits it to some of events, memories, knowledge,
        lessons; `k` is the number of hits (1-100)."""
        with api_errors():
            hits = await client.search(spirit(spirit_id), query, kinds=kinds, k=k)
        return {"query": query, "hits": [hit_summary(hit) for hit in hits]}

    @server.tool()
    async def get_context(
        query: str | None = None,
        session_id: str | None = None,
        max_tokens: int | None = None,
        spirit_id: str | None = None,
    ) -> str:
        """What the spirit should remember now, as text for the prompt: who it is, the
        current session, relevant past events, knowledge, lessons and memories. Give the
        user's message as `query`, the conversation's `session_id`, and a token budget."""
        with api_errors():
            pack = await client.inject(
                spirit(spirit_id), query=query, session_id=session_id, max_tokens=max_tokens
            )
        return pack.text or "(Nothing remembered yet.)"

    @server.tool()
    async def record_event(
        content: str,
        event_type: str = "message.in",
        session_id: str | None = None,
        role: str | None = None,
        spirit_id: str | None = None,
    ) -> dict[str, Any]:
        """Record one event in the spirit's memory: a message in (`message.in`, the user's,
        the default) or out (`message.out`, yours), a tool call or result (`tool.call`,
        `tool.result`) or a note (`system`). `role` defaults to user for message.in and
        assistant for message.out."""
        role = role or ROLES.get(event_type)
        extra = {"session_id": session_id, "role": role}
        with api_errors():
            event = await client.extract(
                spirit(spirit_id),
                event_type,
                content,
                ignore_duplicates=True,
                **{k: v for k, v in extra.items() if v},
            )
        return {
            "id": event.id,
            "event_type": event.event_type,
            "session_id": event.session_id or None,
            "occurred_at": event.occurred_at.isoformat() if event.occurred_at else None,
        }

    @server.tool()
    async def remember(
        content: str,
        memory_type: str | None = None,
        importance: float | None = None,
        spirit_id: str | None = None,
    ) -> dict[str, Any]:
        """Write a memory to keep for good, stated by you (the agent). `memory_type`: semantic
        (a fact, the default), episodic, procedural, user_profile...; `importance` 0-1."""
        with api_errors():
            memory = await client.memories.create(
                spirit(spirit_id),
                content,
                memory_type=memory_type,
                importance=importance,
                reason="Written by the agent (elephantasm-mcp remember).",
            )
        return {
            "id": memory.id,
            "memory_type": memory.memory_type,
            "importance": memory.importance,
            "content": memory.content,
        }

    @server.tool()
    async def get_identity(spirit_id: str | None = None) -> dict[str, Any]:
        """The spirit's self-model: its principles, values, communication style,
        relationships; version 0 and empty until it has evolved."""
        with api_errors():
            identity = await client.identity.get(spirit(spirit_id))
        return {"version": identity.version, "document": identity.document}

    async def identity_json(spirit_id: str) -> str:
        identity = await client.identity.get(spirit_id)
        return identity.model_dump_json(indent=2)

    async def latest_pack_text(spirit_id: str) -> str:
        return (await client.packs.latest(spirit_id)).text

    server.resource(
        "elephantasm://spirits/{spirit_id}/identity",
        name="identity",
        description="A spirit's identity (its self-model), as JSON.",
        mime_type="application/json",
    )(identity_json)
    server.resource(
        "elephantasm://spirits/{spirit_id}/pack/latest",
        name="latest-pack",
        description="The text of a spirit's newest context pack.",
        mime_type="text/markdown",
    )(latest_pack_text)
    if default_spirit_id:

        async def default_identity() -> str:
            return await identity_json(default_spirit_id)

        async def default_pack() -> str:
            return await latest_pack_text(default_spirit_id)

        server.resource(
            "elephantasm://identity",
            name="default-identity",
            description="The default spirit's identity, as JSON.",
            mime_type="application/json",
        )(default_identity)
        server.resource(
            "elephantasm://pack/latest",
            name="default-latest-pack",
            description="The text of the default spirit's newest context pack.",
            mime_type="text/markdown",
        )(default_pack)
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="elephantasm-mcp",
        description="Elephantasm's memory as an MCP server. Reads ELEPHANTASM_URL, "
        "ELEPHANTASM_API_KEY and ELEPHANTASM_SPIRIT_ID.",
    )
    parser.add_argument(
        "--transport", choices=["stdio", "streamable-http"], default="stdio", help="default stdio"
    )
    parser.add_argument("--host", default="127.0.0.1", help="streamable HTTP: default 127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"streamable HTTP: default {DEFAULT_PORT}"
    )
    parser.add_argument(
        "--spirit-id",
        default=os.environ.get("ELEPHANTASM_SPIRIT_ID") or None,
        help="the default spirit (default: ELEPHANTASM_SPIRIT_ID)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    args = parser.parse_args(argv)
    if FastMCP is None:
        parser.exit(
            2, 'elephantasm-mcp needs the mcp package: pip install "elephantasm-client[mcp]"\n'
        )
    try:
        client = AsyncElephantasm()
    except ElephantasmError as exc:
        parser.exit(2, f"elephantasm-mcp: {exc}\n")
    server = build_server(client, default_spirit_id=args.spirit_id, host=args.host, port=args.port)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per API call
    server.run(transport=args.transport)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
