#!/usr/bin/env python3
"""Run a command with a Redis broker: the one at CELERY_BROKER_URL, or a throwaway one.

If nothing answers at CELERY_BROKER_URL (default redis://127.0.0.1:6379/0) and `redis-server` is
installed, a throwaway server is started on a free port (no persistence) and the command gets its
URL in CELERY_BROKER_URL; it is stopped afterwards. With neither, it fails with a clear message.

Usage: with_redis.py -- COMMAND [ARGS...]
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from urllib.parse import urlparse

DEFAULT_URL = "redis://127.0.0.1:6379/0"


def redis_answers(url: str, timeout: float = 1.0) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=timeout
        ) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"PING\r\n")
            reply = sock.recv(64)
    except OSError:
        return False
    # "+PONG", or "-NOAUTH" from a server that wants a password given in the URL
    return reply.startswith((b"+PONG", b"-NOAUTH"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def broker():
    url = os.environ.get("CELERY_BROKER_URL", DEFAULT_URL)
    if redis_answers(url):
        yield url
        return
    server = shutil.which("redis-server")
    if server is None:
        sys.exit(
            f"No Redis answers at {url} and redis-server is not installed.\n"
            "Start Redis (e.g. `apt-get install redis-server`) or set CELERY_BROKER_URL."
        )
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="elephantasm-redis-")
    proc = subprocess.Popen(  # noqa: S603
        [
            server,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while not redis_answers(url):
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            sys.exit(f"Could not start a throwaway redis-server on port {port}.")
        time.sleep(0.05)
    print(f"with_redis: no Redis at the configured URL; started a throwaway one at {url}")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    if not argv:
        sys.exit(__doc__)
    with broker() as url:
        env = dict(os.environ, CELERY_BROKER_URL=url)
        env.setdefault("CELERY_RESULT_BACKEND", url)
        return subprocess.call(argv, env=env)  # noqa: S603


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
