"""scripts/run.py (`make run`): its commands, and that it stops every process it started."""

from __future__ import annotations

import importlib.util
import itertools
import os
import signal
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "run.py"


def load_run_script():
    spec = importlib.util.spec_from_file_location("elephantasm_run_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run = load_run_script()


def wait_for(path: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear within {timeout} s"
        time.sleep(0.02)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_worker_consumes_every_queue_with_one_process():
    command = run.worker_command("python")

    assert command[:6] == ["python", "-m", "celery", "-A", "elephantasm", "worker"]
    assert command[command.index("-Q") + 1] == ",".join(run.WORKER_QUEUES)
    assert command[command.index("--concurrency") + 1] == "1"


def test_beat_keeps_its_schedule_under_data_dir():
    command = run.beat_command("python")

    assert command[:6] == ["python", "-m", "celery", "-A", "elephantasm", "beat"]
    schedule = Path(command[command.index("--schedule") + 1])
    assert schedule.parent == run.BASE_DIR / ".data"


def test_web_serves_on_host_and_port_with_autoreload_in_debug():
    assert run.web_command("python", "127.0.0.1", 8000, debug=True) == [
        "python",
        "manage.py",
        "runserver",
        "127.0.0.1:8000",
    ]


def test_web_serves_admin_static_files_without_debug():
    command = run.web_command("python", "::1", 8001, debug=False)

    assert "[::1]:8001" in command
    assert "--insecure" in command


def test_migrate_runs_without_prompts():
    assert run.migrate_command("python") == ["python", "manage.py", "migrate", "--noinput"]


def test_banner_says_where_everything_is_and_how_to_get_credentials():
    text = run.banner(
        url="http://127.0.0.1:8000",
        data_dir=run.BASE_DIR / ".data" / "postgres",
        background=False,
        python=".venv/bin/python",
    )

    for path in ("/api/v1/", "/api/docs/", "/api/schema/", "/admin/", "/health"):
        assert f"http://127.0.0.1:8000{path}" in text
    assert ".venv/bin/python manage.py createsuperuser" in text
    # An admin key: the quickstart creates a spirit with it, which a member key may not.
    assert 'createapikey --team my-team --create-team "My Team" --role admin' in text
    assert "OFF" in text


@pytest.mark.parametrize(
    ("host", "shown"),
    [("0.0.0.0", "127.0.0.1"), ("::", "::1"), ("localhost", "localhost")],  # noqa: S104
)
def test_wildcard_bind_addresses_are_shown_as_loopback(host, shown):
    assert run.browser_host(host) == shown


def test_stop_interrupts_children_like_ctrl_c(tmp_path):
    children = run.Children(cwd=tmp_path)
    ready = tmp_path / "ready"
    code = (
        "import pathlib, sys, time\n"
        f"pathlib.Path({str(ready)!r}).touch()\n"
        "try:\n    time.sleep(60)\n"
        "except KeyboardInterrupt:\n    sys.exit(0)\n"
    )
    proc = children.start("sleeper", [sys.executable, "-c", code])
    wait_for(ready)

    started = time.monotonic()
    killed = children.stop(timeout=10)

    assert killed == []
    assert proc.returncode == 0
    assert time.monotonic() - started < 5
    assert not group_alive(proc.pid)


def test_stop_kills_a_child_that_ignores_sigint_and_its_own_children(tmp_path):
    children = run.Children(cwd=tmp_path)
    ready = tmp_path / "ready"
    code = (
        "import pathlib, signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "subprocess.Popen([sys.executable, '-c', "
        "'import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(60)'])\n"
        f"pathlib.Path({str(ready)!r}).touch()\n"
        "time.sleep(60)\n"
    )
    proc = children.start("stubborn", [sys.executable, "-c", code])
    wait_for(ready)

    killed = children.stop(timeout=0.5)

    assert killed == ["stubborn"]
    assert proc.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 5
    while group_alive(proc.pid):  # the grandchild, reparented to init, is reaped there
        assert time.monotonic() < deadline, "a process of the child's group survived"
        time.sleep(0.02)


def test_prune_dead_handles_forgets_pids_of_dead_processes(tmp_path):
    dead = _a_dead_pid()
    (tmp_path / ".handle_pids.json").write_text(f"[{dead}, {os.getppid()}]")

    removed = run.prune_dead_handles(tmp_path)

    assert removed == [dead]
    remaining = (tmp_path / ".handle_pids.json").read_text()
    assert str(dead) not in remaining
    assert str(os.getppid()) in remaining


def test_prune_dead_handles_does_nothing_without_an_embedded_server():
    assert run.prune_dead_handles(None) == []


def _a_dead_pid() -> int:
    import subprocess

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_worker_that_exits_is_started_again_with_backoff_while_the_web_serves(tmp_path):
    """The probe's finding: a dead worker used to stop `make run`, the API with it."""
    children = run.Children(cwd=tmp_path)
    starts = tmp_path / "starts"
    web_done = tmp_path / "web-done"
    # the worker exits at once (a crash) and notes each start (appended: a start that is still
    # writing when the web exits never empties the notes); the web serves ~1.5 s, then exits
    worker = [
        sys.executable,
        "-c",
        f"import sys, time; open({str(starts)!r}, 'a').write(f'{{time.monotonic()}}\\n'); "
        "sys.exit(3)",
    ]
    web = [
        sys.executable,
        "-c",
        f"import pathlib, time; time.sleep(1.5); pathlib.Path({str(web_done)!r}).touch()",
    ]
    children.start("web", web)
    children.start("worker", worker)

    code = run.supervise(
        children, {"worker": worker}, run.Backoff(first=0.1, most=0.4, stable=60), poll=0.02
    )

    assert code == 0 and web_done.exists()  # it returned when the web exited, not before
    children.stop(timeout=5)  # a worker started last has written its line
    times = [float(line) for line in starts.read_text().split()]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(times) >= 4  # started again and again while the web served
    assert gaps[0] >= 0.1 and gaps[1] >= 0.2 and gaps[2] >= 0.4  # backing off: 0.1, 0.2, 0.4
    assert max(gaps) < 0.4 + 1.0  # never much past the most (the poll, a process start)


def test_backoff_doubles_while_a_process_keeps_failing_and_resets_once_it_ran_long_enough():
    backoff = run.Backoff(first=1, most=8, stable=60)
    backoff.start("worker", 0)

    delays = []
    now = 0.0
    for _ in range(5):  # exits 2 s after each start
        now += 2
        delays.append(backoff.exited("worker", now))
        now += delays[-1]
        backoff.start("worker", now)
    now += 120  # then it runs two minutes before exiting
    after_a_good_run = backoff.exited("worker", now)

    assert delays == [1, 2, 4, 8, 8]
    assert after_a_good_run == 1


def test_the_workers_task_metrics_reach_the_webs_metrics_by_default(tmp_path):
    """`make run` puts every process in prometheus-client's multiprocess mode, in a directory of
    its own (emptied at each start); one given in the environment is kept."""
    environ: dict[str, str] = {}
    run.configure_environment(environ)
    assert environ["PROMETHEUS_MULTIPROC_DIR"] == str(run.METRICS_DIR)
    assert run.METRICS_DIR.is_relative_to(run.BASE_DIR / ".data")

    given = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    run.configure_environment(given)
    assert given["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)


def test_children_stop_on_ctrl_c_even_when_run_was_started_with_sigint_ignored(tmp_path):
    """`make run &` in a script (or nohup) starts it with SIGINT ignored, which its children
    would inherit: they get the default back, so a stop still interrupts them cleanly."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        test_stop_interrupts_children_like_ctrl_c(tmp_path)
    finally:
        signal.signal(signal.SIGINT, previous)
