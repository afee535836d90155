"""Task runs, failures, retries and durations, counted by the worker that runs them, and seen by
a scrape: the web's /metrics (the same process, or the host's processes through
PROMETHEUS_MULTIPROC_DIR) and the worker's own exporter (WORKER_METRICS_PORT)."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
from django.conf import settings
from django.db import connection

from elephantasm import celery_app, task_metrics
from elephantasm.metrics import TASK_RUNS
from elephantasm.tests.test_metrics import samples_of, scrape, value
from elephantasm.tests.waiting import real_worker, wait_until
from pipeline.tests.test_synthesis_sigkill import database_url

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]
OK, FAILS, RETRIES = (
    "elephantasm.tests.metrics_ok",
    "elephantasm.tests.metrics_fails",
    "elephantasm.tests.metrics_retries",
)


@celery_app.task(name=OK)
def succeeds() -> str:
    return "done"


@celery_app.task(name=FAILS)
def fails() -> None:
    raise ValueError("this task fails")


@celery_app.task(bind=True, name=RETRIES, max_retries=1)
def retries_once(self) -> str:
    if self.request.retries == 0:
        raise self.retry(countdown=0)
    return "done on the second run"


def counts(samples: dict, task: str) -> dict[str, float]:
    return {
        "runs": value(samples, "elephantasm_task_runs_total", task=task),
        "failures": value(samples, "elephantasm_task_failures_total", task=task),
        "retries": value(samples, "elephantasm_task_retries_total", task=task),
        "timed": value(samples, "elephantasm_task_duration_seconds_count", task=task),
    }


def delta(after: dict, before: dict) -> dict:
    return {key: after[key] - before[key] for key in after}


def test_a_real_worker_counts_runs_failures_retries_and_durations_by_task(
    route_to_private_queue,
):
    queue = route_to_private_queue(OK, FAILS, RETRIES)
    before = {name: counts(scrape(), name) for name in (OK, FAILS, RETRIES)}

    with real_worker(queue):
        results = [succeeds.delay(), fails.delay(), retries_once.delay()]
        wait_until(lambda: all(r.ready() for r in results), "the three tasks ended", timeout=60)
    samples = scrape()

    assert delta(counts(samples, OK), before[OK]) == {
        "runs": 1,
        "failures": 0,
        "retries": 0,
        "timed": 1,
    }
    assert delta(counts(samples, FAILS), before[FAILS]) == {
        "runs": 1,
        "failures": 1,
        "retries": 0,
        "timed": 1,
    }
    # the first run ends in a retry, the second succeeds: two runs
    assert delta(counts(samples, RETRIES), before[RETRIES]) == {
        "runs": 2,
        "failures": 0,
        "retries": 1,
        "timed": 2,
    }
    assert value(samples, "elephantasm_task_duration_seconds_sum", task=OK) > 0


# --- The worker's exporter ------------------------------------------------------------------------


def get(url: str, token: str = "") -> tuple[int, str]:
    request = urllib.request.Request(url)  # noqa: S310 - http on loopback
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_exporter_serves_the_process_metrics_behind_the_token():
    TASK_RUNS.labels(OK).inc(0)  # the series exists
    server = task_metrics.MetricsServer(
        ("127.0.0.1", 0), task_metrics.process_registry(), token="s3cret"
    ).start()
    try:
        url = f"http://127.0.0.1:{server.port}/metrics"
        refused, _ = get(url)
        wrong, _ = get(url, token="nope")
        status, text = get(url, token="s3cret")
        missing, _ = get(f"http://127.0.0.1:{server.port}/other", token="s3cret")
    finally:
        server.stop()

    assert (refused, wrong, missing) == (401, 401, 404)
    assert status == 200
    assert ("elephantasm_task_runs_total" + str([("task", OK)])) in samples_of(text)
    # the figures /metrics reads at scrape time (Redis, the database) are the web's alone
    assert "elephantasm_queue_depth" not in text
    assert "elephantasm_pipeline_lag_seconds" not in text


def test_the_exporter_starts_with_a_worker_when_a_port_is_set_and_stops_with_it(settings):
    settings.WORKER_METRICS_PORT = free_port()
    settings.WORKER_METRICS_ADDR = "127.0.0.1"
    settings.METRICS_TOKEN = ""
    worker = SimpleNamespace(pool_cls="solo")  # what worker_init sends: the WorkController

    server = task_metrics.start_exporter(sender=worker)
    try:
        status, text = get(f"http://127.0.0.1:{settings.WORKER_METRICS_PORT}/metrics")
    finally:
        task_metrics.stop_exporter(sender=worker)

    assert server is not None and status == 200
    assert "elephantasm_task_runs_total" in text
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", settings.WORKER_METRICS_PORT), timeout=1)


def test_the_exporter_is_off_by_default(settings):
    assert settings.WORKER_METRICS_PORT == 0
    assert task_metrics.start_exporter(sender=SimpleNamespace(pool_cls="solo")) is None


def test_a_prefork_worker_without_a_multiprocess_dir_gets_no_exporter_and_an_error(
    settings, monkeypatch, caplog
):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    settings.WORKER_METRICS_PORT = free_port()
    caplog.set_level(logging.ERROR, logger="elephantasm.task_metrics")

    server = task_metrics.start_exporter(sender=SimpleNamespace(pool_cls="prefork"))

    assert server is None
    assert "PROMETHEUS_MULTIPROC_DIR" in caplog.text


def worker_command(queue: str) -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "elephantasm", "worker",
        "--pool=prefork", "--concurrency=1", "-Q", queue,
        "-n", f"metrics-{uuid.uuid4().hex[:8]}@%h", "--loglevel=INFO",
        "--without-mingle", "--without-gossip", "--without-heartbeat",
    ]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- A prefork worker in multiprocess mode, as deployed -------------------------------------------


@pytest.fixture
def prefork_worker(tmp_path):
    """`start(queue, port)`: a real `celery worker` (prefork pool, one child) in a subprocess with
    PROMETHEUS_MULTIPROC_DIR (returned) and WORKER_METRICS_PORT set; stopped at the end."""
    procs: list[subprocess.Popen] = []
    log_path = tmp_path / "worker.log"
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()

    def start(queue: str, port: int) -> Path:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("EMBEDDED_PG_DIR", "EMBEDDED_PG_CLEANUP", "PYTEST_CURRENT_TEST")
        }
        env.update(
            DJANGO_SETTINGS_MODULE="elephantasm.settings.test",
            DATABASE_URL=database_url(connection.settings_dict),
            CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
            CELERY_RESULT_BACKEND=settings.CELERY_RESULT_BACKEND,
            PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
            WORKER_METRICS_PORT=str(port),
            WORKER_METRICS_ADDR="127.0.0.1",
            METRICS_TOKEN="",
            PYTHONUNBUFFERED="1",
        )
        with log_path.open("wb") as log:
            procs.append(
                subprocess.Popen(  # noqa: S603 - our own command
                    worker_command(queue),
                    cwd=BASE_DIR,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        return metrics_dir

    start.logs = lambda: log_path.read_text(errors="replace")[-4000:]
    yield start
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def test_a_prefork_worker_serves_its_childrens_counts_and_the_web_sees_them_on_one_host(
    prefork_worker, monkeypatch
):
    queue, port = f"test-metrics-{uuid.uuid4().hex}", free_port()
    metrics_dir = prefork_worker(queue, port)
    url = f"http://127.0.0.1:{port}/metrics"
    # celery's own `accumulate` needs no database: one run that succeeds, one that fails
    celery_app.send_task("celery.accumulate", args=[1, 2], queue=queue, ignore_result=True)
    celery_app.send_task("celery.accumulate", kwargs={"index": "x"}, queue=queue)

    def exported() -> dict:
        try:
            return samples_of(get(url)[1])
        except OSError:  # not listening yet
            return {}

    try:
        wait_until(
            lambda: value(exported(), "elephantasm_task_runs_total", task="celery.accumulate") == 2,
            "the worker's exporter shows two runs",
            timeout=60,
        )
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- worker log ---\n{prefork_worker.logs()}") from None
    finally:
        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue)
    from_worker = counts(exported(), "celery.accumulate")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    from_web = counts(scrape(), "celery.accumulate")

    assert from_worker == {"runs": 2, "failures": 1, "retries": 0, "timed": 2}
    assert from_web == from_worker  # the web's /metrics adds up the host's processes
    assert any(path.name.startswith("counter_") for path in metrics_dir.iterdir())
