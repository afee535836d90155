"""A real HTTP server on loopback that speaks OpenAI's chat-completions and embeddings protocols.

Each test scripts the answers: `server.script("/v1/chat/completions", Reply(...), ...)` queues
them in order for that path, and `server.requests` records what the server received (path,
headers, decoded JSON body). A request with nothing scripted gets a 500 that says so.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_PATH = "/v1/chat/completions"
EMBEDDINGS_PATH = "/v1/embeddings"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None  # a dict/list is sent as JSON, a str as it is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to hold the answer back (cut short when the server stops)


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: Any


def chat_reply(content: str, *, prompt_tokens=12, completion_tokens=5, usage=True) -> Reply:
    body: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "test-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
    }
    if usage:
        body["usage"] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
    return Reply(200, body)


def error_reply(status: int, message: str = "error", headers: dict | None = None) -> Reply:
    body = {"error": {"message": message, "type": "test_error", "code": status}}
    return Reply(status, body, headers or {})


def embeddings_reply(vectors: list[list[float]], order: list[int] | None = None) -> Reply:
    """`vectors[i]` is the embedding of input i; `order` lists the indexes in the order sent."""
    order = list(range(len(vectors))) if order is None else order
    data = [{"object": "embedding", "index": i, "embedding": vectors[i]} for i in order]
    return Reply(200, {"object": "list", "data": data, "model": "test-embedding"})


class ChatServer:
    def __init__(self) -> None:
        self._queues: dict[str, deque[Reply]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.requests: list[Received] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> ChatServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases delayed answers
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def script(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._queues[path].extend(replies)

    def received(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def _next(self, path: str, received: Received) -> Reply:
        with self._lock:
            self.requests.append(received)
            queue = self._queues[path]
            if queue:
                return queue.popleft()
        return error_reply(500, f"nothing scripted for {path}")

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                headers = {k.lower(): v for k, v in self.headers.items()}
                reply = server._next(self.path, Received(self.path, headers, body))
                if reply.delay and server._stopping.wait(reply.delay):
                    return
                data = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                payload = data.encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, format, *args):
                pass

        return Handler
