"""A real HTTP server on loopback that receives webhooks (the approach of
elephantasm/tests/chat_server.py): each test scripts the statuses it answers with, in order
(200 once the script runs out), with headers if given (a redirect's Location), and the server
checks every request's signature with the team's secret over the raw body it received, as a
real receiver would."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from teams.webhooks import signing


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    raw: bytes
    signature_valid: bool

    @property
    def body(self) -> Any:
        return json.loads(self.raw)


class WebhookReceiver:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self._script: deque[tuple[int, str, dict[str, str]]] = deque()
        self._lock = threading.Lock()
        self.requests: list[Received] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/elephantasm"

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def script(self, *statuses: int, body: str = "", headers: dict[str, str] | None = None) -> None:
        with self._lock:
            self._script.extend(
                (status, body or f"status {status}", headers or {}) for status in statuses
            )

    def _answer(self, received: Received) -> tuple[int, str, dict[str, str]]:
        with self._lock:
            self.requests.append(received)
            return self._script.popleft() if self._script else (200, "ok", {})

    def _handler_class(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                valid = signing.verify(
                    receiver.secret, raw, headers.get(signing.SIGNATURE_HEADER.lower(), "")
                )
                status, text, extra = receiver._answer(Received(headers, raw, valid))
                if not valid:
                    status, text, extra = 401, "bad signature", {}
                payload = text.encode()
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format, *args):
                pass

        return Handler
