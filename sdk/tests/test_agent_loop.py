"""examples/agent_loop.py for two turns against the live test server: with the offline echo
model, and with an OpenAI-compatible model on loopback (elephantasm/tests/chat_server.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from elephantasm.tests.chat_server import CHAT_PATH, ChatServer, chat_reply
from events.models import Event

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "agent_loop.py"


@pytest.fixture(scope="module")
def agent_loop():
    spec = importlib.util.spec_from_file_location("agent_loop", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules["agent_loop"] = module  # its dataclass looks its module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules["agent_loop"]


def test_the_loop_records_each_turn_and_injects_memory_before_each_answer(
    agent_loop, client, spirit_id
):
    said = []
    lines = ["Hi, I'm Ada and I live in Lisbon.", "Where do I live?", "", "never read"]

    turns = agent_loop.run_loop(
        client, spirit_id, agent_loop.EchoModel(), lines, session_id="s-1", say=said.append
    )

    assert [t.reply.split(" (")[0] for t in turns] == [
        "You said: Hi, I'm Ada and I live in Lisbon.",
        "You said: Where do I live?",
    ]
    assert "user: Hi, I'm Ada and I live in Lisbon." in turns[1].pack.text
    assert "assistant: You said: Hi, I'm Ada" in turns[1].pack.text
    assert len(said) == 2 and said[1].startswith("assistant> You said: Where do I live?")
    recorded = Event.objects.filter(spirit_id=spirit_id, session_id="s-1").order_by("occurred_at")
    assert [(e.event_type, e.role) for e in recorded] == [
        ("message.in", "user"),
        ("message.out", "assistant"),
    ] * 2


def test_the_loop_sends_the_pack_as_the_system_prompt_of_an_openai_compatible_model(
    agent_loop, client, spirit_id
):
    server = ChatServer().start()
    server.script(CHAT_PATH, chat_reply("Hello Ada!"), chat_reply("In Lisbon."))
    try:
        model = agent_loop.model_from_env(
            {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test", "OPENAI_MODEL": "m"}
        )
        turns = agent_loop.run_loop(
            client, spirit_id, model, ["I'm Ada from Lisbon.", "Where do I live?"], say=print
        )
    finally:
        server.stop()

    second = server.received(CHAT_PATH)[1]
    system, user = second.body["messages"]
    assert [t.reply for t in turns] == ["Hello Ada!", "In Lisbon."]
    assert second.body["model"] == "m" and second.headers["authorization"] == "Bearer sk-test"
    assert system["role"] == "system" and system["content"].endswith(turns[1].pack.text)
    assert "user: I'm Ada from Lisbon." in system["content"]
    assert user == {"role": "user", "content": "Where do I live?"}
