"""The processes `make run` starts (scripts/run.py): each the leader of its own process group,
stopped as Ctrl-C in a terminal would, and kept running with a back-off while the web serves."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

STOP_TIMEOUT = 10.0
POLL_INTERVAL = 0.2
# A worker or beat that exits is started again after a back-off (`supervise`): RESTART_MIN
# seconds, doubled while it keeps exiting within RESTART_STABLE seconds, at most RESTART_MAX.
RESTART_MIN = 1.0
RESTART_MAX = 60.0
RESTART_STABLE = 60.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def say(message: str = "") -> None:
    print(message, flush=True)


# --- Children ------------------------------------------------------------------------------------


def _child_setup() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ctrl-C stops the child even when this script was started with SIGINT ignored (`cmd &` in
    a script, nohup): the child gets the default disposition back, so Python turns SIGINT into
    KeyboardInterrupt again. And, on Linux, if this script is killed outright, its children get
    SIGTERM instead of lingering."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # the signal handlers below still stop the children on a normal stop


class Children:
    """The processes this script started, each the leader of its own process group."""

    def __init__(self, *, cwd: Path, env: dict[str, str] | None = None):
        self.cwd = cwd
        self.env = env
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: Sequence[str]) -> subprocess.Popen:
        proc = subprocess.Popen(  # noqa: S603 - our own commands
            list(argv), cwd=self.cwd, env=self.env, process_group=0, preexec_fn=_child_setup
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


def raise_stop(signum, frame) -> None:
    install_signal_handlers(signal.SIG_IGN)  # one stop is enough; repeat Ctrl-C changes nothing
    raise StopRequested(signal.Signals(signum).name)


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
