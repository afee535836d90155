"""An agent loop with long-term memory: every turn is recorded in Elephantasm, and the model
gets the spirit's context pack as its system prompt before each answer.

    ELEPHANTASM_URL=http://127.0.0.1:8000 ELEPHANTASM_API_KEY=elk_... \\
    ELEPHANTASM_SPIRIT_ID=<spirit id> python examples/agent_loop.py

The model is any OpenAI-compatible chat-completions endpoint when OPENAI_MODEL is set
(OPENAI_BASE_URL, default https://api.openai.com/v1, and OPENAI_API_KEY); without it, an offline
echo model answers, so the loop runs anywhere. Type a line and Enter for each turn; an empty
line or Ctrl-D ends the session.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import httpx
from elephantasm_client import Elephantasm, Pack

SYSTEM_PROMPT = (
    "You are a helpful assistant with a long-term memory. What you remember about the user "
    "and your past conversations follows; use it when it helps, and never invent memories."
)


class EchoModel:
    """An offline stand-in for a chat model: it repeats the user and says how much context it
    was given, so the loop (and what memory brings to the prompt) can be seen without a model."""

    name = "echo (offline)"

    def reply(self, system: str, messages: list[dict[str, str]]) -> str:
        remembered = [line for line in system.splitlines() if line.startswith(("[", "- "))]
        return f"You said: {messages[-1]['content']} (I was reminded of {len(remembered)} things.)"


class ChatModel:
    """Any OpenAI-compatible chat-completions endpoint, over httpx."""

    def __init__(self, base_url: str, api_key: str, model: str, timeout: float = 60.0):
        self.name = model
        self._url = base_url.rstrip("/") + "/chat/completions"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(headers=headers, timeout=timeout)

    def reply(self, system: str, messages: list[dict[str, str]]) -> str:
        body = {"model": self.name, "messages": [{"role": "system", "content": system}, *messages]}
        response = self._http.post(self._url, json=body)
        response.raise_for_status()
        return response.json()["choices"][0]["message"]["content"]


def model_from_env(env: Mapping[str, str] = os.environ) -> EchoModel | ChatModel:
    if not env.get("OPENAI_MODEL"):
        return EchoModel()
    return ChatModel(
        env.get("OPENAI_BASE_URL") or "https://api.openai.com/v1",
        env.get("OPENAI_API_KEY", ""),
        env["OPENAI_MODEL"],
    )


@dataclass
class Turn:
    user: str
    reply: str
    pack: Pack


def run_turn(
    client: Elephantasm,
    spirit_id: str,
    model: EchoModel | ChatModel,
    session_id: str,
    line: str,
    max_tokens: int = 1500,
) -> Turn:
    """One turn: record the user's line, inject the pack, ask the model, record its reply."""
    client.extract(spirit_id, "message.in", line, role="user", session_id=session_id)
    pack = client.inject(spirit_id, query=line, session_id=session_id, max_tokens=max_tokens)
    system = f"{SYSTEM_PROMPT}\n\n{pack.text}" if pack.text else SYSTEM_PROMPT
    # The pack's session layer holds the conversation so far: only the new line is sent.
    reply = model.reply(system, [{"role": "user", "content": line}])
    client.extract(spirit_id, "message.out", reply, role="assistant", session_id=session_id)
    return Turn(line, reply, pack)


def run_loop(
    client: Elephantasm,
    spirit_id: str,
    model: EchoModel | ChatModel,
    lines: Iterable[str],
    *,
    session_id: str | None = None,
    say: Callable[[str], None] = print,
) -> list[Turn]:
    """Run a turn for each line until an empty one; returns the turns."""
    session_id = session_id or f"loop-{uuid.uuid4().hex[:8]}"
    turns = []
    for raw in lines:
        line = raw.strip()
        if not line:
            break
        turn = run_turn(client, spirit_id, model, session_id, line)
        say(f"assistant> {turn.reply}  [{turn.pack.token_count} tokens of memory]")
        turns.append(turn)
    return turns


def _prompted_lines() -> Iterable[str]:
    while True:
        try:
            yield input("you> ")
        except EOFError:
            return


def main() -> None:
    spirit_id = os.environ.get("ELEPHANTASM_SPIRIT_ID")
    if not spirit_id:
        sys.exit("Set ELEPHANTASM_SPIRIT_ID (and ELEPHANTASM_URL, ELEPHANTASM_API_KEY).")
    model = model_from_env()
    with Elephantasm() as client:
        client.check_version()
        print(f"Spirit {spirit_id}, model {model.name}. An empty line ends the session.")
        run_loop(client, spirit_id, model, _prompted_lines())


if __name__ == "__main__":
    main()
