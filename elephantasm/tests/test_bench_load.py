"""The load test (bench/load/, `make bench-load`): its arguments, figures and integrity check,
that the locustfile loads, and one tiny step against a live server so it cannot rot unnoticed
(the load itself is run by hand: docs/benchmarks.md)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.load import report
from bench.load import run as load_run
from events.models import Event
from teams.models import Role
from teams.tests.factories import ApiKeyFactory

ROOT = Path(__file__).resolve().parents[2]


# --- Arguments ------------------------------------------------------------------------------------


def test_defaults_are_make_runs_server_and_three_bounded_steps():
    args = report.parse_args([], environ={})

    assert args.url == "http://127.0.0.1:8000"
    assert args.clients == (5, 20, 50)
    assert (args.duration, args.rate, args.bulk_size, args.spirits) == (30, 4.0, 20, 5)
    assert args.keys == []


def test_url_and_keys_come_from_the_environment_or_the_command_line():
    environ = {"ELEPHANTASM_URL": "http://10.0.0.5:9000/", "ELEPHANTASM_API_KEYS": "a, b"}

    from_env = report.parse_args([], environ=environ)
    given = report.parse_args(["--key", "x,y", "--key", "z", "--url", "http://h:1"], environ)

    assert (from_env.url, from_env.keys) == ("http://10.0.0.5:9000", ["a", "b"])
    assert (given.url, given.keys) == ("http://h:1", ["x", "y", "z"])
    assert report.parse_args([], environ={"ELEPHANTASM_API_KEY": "k"}).keys == ["k"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--clients", "0"],
        ["--clients", f"5,{report.MAX_CLIENTS + 1}"],
        ["--clients", "five"],
        ["--duration", str(report.MAX_DURATION + 1)],
        ["--rate", "0"],
        ["--bulk-size", str(report.MAX_BULK + 1)],
    ],
)
def test_unbounded_runs_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        report.parse_args(argv, environ={})

    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert re.search(r"error: argument --[\w-]+: .*(must be|not a)", error), error


# --- Figures --------------------------------------------------------------------------------------


def test_percentiles_interpolate_between_ranks():
    values = [float(v) for v in range(1, 101)]  # 1..100

    assert report.percentile(values, 50) == pytest.approx(50.5)
    assert report.percentile(values, 95) == pytest.approx(95.05)
    assert report.percentile([7.0], 95) == 7.0
    assert report.percentile([], 50) is None


def test_a_step_is_summarized_per_kind_and_in_all():
    recorded = {
        "elapsed": 10.0,
        "requests": {
            "pack": {"ok_ms": [30.0, 10.0, 20.0], "statuses": {"200": 3, "503": 1}},
            "event": {"ok_ms": [1.0, 3.0], "statuses": {"201": 2, "429": 2, "error": 1}},
        },
    }

    rows = {row.kind: row for row in report.summarize(recorded, clients=5)}

    assert list(rows) == ["event", "pack", "all"]
    assert rows["event"] == report.Row(5, "event", 5, 0.5, 2.0, 2.9, 3, 2)
    assert (rows["pack"].requests, rows["pack"].errors, rows["pack"].p50_ms) == (4, 1, 20.0)
    assert (rows["all"].requests, rows["all"].errors, rows["all"].throttled) == (9, 4, 2)
    assert rows["all"].rps == pytest.approx(0.9)
    assert rows["all"].p50_ms == 10.0  # of 1, 3, 10, 20, 30


def test_integrity_counts_lost_duplicated_and_unacknowledged_events():
    acked = [("e1", "k1"), ("e2", "k2"), ("e3", "k3")]
    stored = [("e1", "k1"), ("e3", "k3"), ("e9", "k3"), ("e4", "k4")]

    result = report.check_integrity(5, acked, stored, elapsed=2.0)

    assert (result.acknowledged, result.stored) == (3, 4)
    assert (result.lost, result.duplicated, result.unacknowledged) == (1, 1, 2)
    assert result.events_per_second == 1.5
    assert not result.ok
    assert report.check_integrity(1, acked, acked).ok


def test_tables_are_markdown_with_one_line_per_row():
    rows = report.summarize({"elapsed": 1, "requests": {"bulk": {"ok_ms": [5], "statuses": {}}}}, 2)

    text = report.table(report.ROW_HEADERS, (row.cells() for row in rows))

    lines = text.splitlines()
    assert lines[0].startswith("| clients | kind")
    assert set(lines[1]) <= {"|", "-"}
    assert len(lines) == 2 + len(rows)
    assert all(line.count("|") == len(report.ROW_HEADERS) + 1 for line in lines)


# --- The locustfile and one tiny step -------------------------------------------------------------


def test_the_locustfile_loads_and_defines_its_client():
    done = subprocess.run(  # noqa: S603 - locust on our locustfile
        [sys.executable, "-m", "locust", "-f", str(load_run.LOCUSTFILE), "--list"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert "AgentClient" in done.stdout


@pytest.mark.django_db(transaction=True)
def test_one_small_step_against_a_live_server_stores_every_acknowledged_event_once(
    live_server, team, tmp_path
):
    key = ApiKeyFactory(team=team, role=Role.ADMIN).raw
    args = report.parse_args(
        ["--url", live_server.url, "--key", key, "--clients", "2", "--duration", "3",
         "--rate", "5", "--bulk-size", "3", "--spirits", "1"],
        environ={},
    )  # fmt: skip

    step = load_run.run_step(args, args.keys, 2, "test", tmp_path)

    kinds = {row["kind"]: row for row in step["rows"]}
    assert kinds["all"]["requests"] > 0 and kinds["all"]["errors"] == 0, kinds
    integrity = step["integrity"]
    assert integrity["ok"] and integrity["lost"] == 0 and integrity["duplicated"] == 0
    assert integrity["acknowledged"] > 0
    assert integrity["acknowledged"] == Event.objects.filter(session_id__startswith="load-").count()
