"""A Celery worker SIGKILLed in the middle of a synthesis: the task is redelivered, nothing is lost
and no memory is duplicated (acks_late + reject_on_worker_lost: elephantasm.tasks.SAFE_DELIVERY).

A real worker (`celery worker --pool=prefork --concurrency=1`, a subprocess) consumes a queue of
this test only, on the test database and the test Redis. No hook in production code stops the
synthesis: the test holds the spirit's row `FOR UPDATE` from a connection of its own, so the
synthesis waits for that row (a memory references its spirit: the foreign-key check takes
`FOR KEY SHARE` on it). Django's foreign keys are DEFERRABLE INITIALLY DEFERRED, so the check, and
the wait, come at COMMIT: the run has locked the events, written every memory and link and marked
the events, all uncommitted. The test sees that wait in pg_stat_activity, kills the worker, and
lets go of the row only once the dead worker's session is gone and its transaction rolled back
(left alone, that session's COMMIT, already received by the server, would go through as soon as
the row is free).

- Pool child killed: the worker's main process sees the child die (WorkerLostError), rejects the
  message with requeue (reject_on_worker_lost), and a new child runs it again.
- Whole worker killed (main process and child): nobody acknowledges or rejects the message; Redis
  keeps it "unacked" and a worker hands it out again once it is older than the visibility timeout
  (CELERY_VISIBILITY_TIMEOUT, short for the second worker here).

Behind a transaction-pooling pgBouncer (make test-pgbouncer) a client connection has no backend of
its own: `pg_backend_pid()` outside a transaction names whichever server connection ran that
statement, `psycopg`'s `info.backend_pid` is pgBouncer's, and pg_stat_activity also lists the
pooler's idle server connections. So the test names a backend only from inside the transaction
that pins it (the lock's pid is read in the lock's own transaction, the worker's is the session
blocked by it) and ends only sessions that have a transaction open, never "every other session"
(pooled connections, perhaps the one asking, belong to nobody in particular).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import environ
import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from events.models import Event
from events.tests.factories import EventFactory
from memories.models import Memory, MemoryEvent
from pipeline import synthesis, tasks
from spirits.models import Spirit

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

BASE_DIR = Path(__file__).resolve().parents[2]
STEP_TIMEOUT = 30.0  # seconds any one step may take (a worker starting, the synthesis finishing)
VISIBILITY_TIMEOUT = 3  # seconds, for the worker that must pick up the lost message


def wait_until(predicate, what: str, timeout: float = STEP_TIMEOUT, logs=None):
    """Poll `predicate` until it returns something truthy (returned); fail clearly on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    detail = f"\n--- worker logs ---\n{logs()}" if logs else ""
    pytest.fail(f"timed out after {timeout:.0f} s waiting for: {what}{detail}", pytrace=False)


def database_url(db: dict) -> str:
    """A DATABASE_URL for the database Django uses now (the test database). The embedded server
    listens on a Unix socket: django-environ reads a PostgreSQL URL whose path starts with "/" as
    socket directory + database name."""
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    if db["HOST"].startswith("/"):
        url = f"postgres://{user}{password}@/{quote(db['HOST'] + '/' + db['NAME'], safe='')}"
    else:
        port = f":{db['PORT']}" if db["PORT"] else ""
        url = f"postgres://{user}{password}@{db['HOST']}{port}/{quote(db['NAME'], safe='')}"
    parsed = environ.Env.db_url_config(url)
    assert (parsed["HOST"], parsed["NAME"]) == (db["HOST"], db["NAME"]), parsed
    return url


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(p) for p in text.split()]


def alive(pid: int) -> bool:
    """Running (a zombie or a process gone counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


class Workers:
    """Celery workers as subprocesses, each in a process group of its own, all stopped at last."""

    def __init__(self, tmp_path: Path, queue: str):
        self.tmp_path = tmp_path
        self.queue = queue
        self.procs: list[subprocess.Popen] = []
        self.log_paths: list[Path] = []

    def start(self, *, visibility_timeout: int | None = None) -> subprocess.Popen:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("EMBEDDED_PG_DIR", "EMBEDDED_PG_CLEANUP", "PYTEST_CURRENT_TEST")
        }
        env.update(
            # The test settings (test Redis database, the same OPTIONS) on the test database
            # itself: with DATABASE_URL set, they start no embedded server of their own.
            DJANGO_SETTINGS_MODULE="elephantasm.settings.test",
            DATABASE_URL=database_url(connection.settings_dict),
            CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
            CELERY_RESULT_BACKEND=settings.CELERY_RESULT_BACKEND,
            LLM_PROVIDER="none",
            PYTHONUNBUFFERED="1",
        )
        if visibility_timeout is not None:
            env["CELERY_VISIBILITY_TIMEOUT"] = str(visibility_timeout)
        log_path = self.tmp_path / f"worker-{len(self.procs) + 1}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(  # noqa: S603
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "elephantasm",
                    "worker",
                    "--pool=prefork",
                    "--concurrency=1",
                    "-Q",
                    self.queue,
                    "-n",
                    f"sigkill-{uuid.uuid4().hex[:8]}@%h",
                    "--loglevel=INFO",
                    "--without-mingle",
                    "--without-gossip",
                    "--without-heartbeat",
                ],
                cwd=BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs.append(proc)
        self.log_paths.append(log_path)
        return proc

    def logs(self) -> str:
        return "\n".join(
            f"[{p.name}]\n{p.read_text(errors='replace')[-4000:]}"
            for p in self.log_paths
            if p.exists()
        )

    def stop_all(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
            # The pool children too, even when the main process is already gone.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)


def backends_blocked_by(pid: int) -> list[tuple[int, str, bool]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, query, backend_xid IS NOT NULL FROM pg_stat_activity"
            " WHERE datname = current_database() AND %s = ANY(pg_blocking_pids(pid))",
            [pid],
        )
        return cursor.fetchall()


def client_backends() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND backend_type = 'client backend'"
        )
        return {pid for (pid,) in cursor.fetchall()}


def backends_in_transaction(keep: set[int]) -> set[int]:
    """The sessions on the test database with a transaction open, except `keep` and the one that
    runs this query (named in the same statement: behind a transaction pooler the next statement
    may run on another server connection). Only such a session can hold a lock: a session out of
    a transaction holds none, and one whose client is gone ends by itself."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND backend_type = 'client backend'"
            " AND xact_start IS NOT NULL AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()} - keep


def terminate_backends(pids: set[int]) -> None:
    """End the PostgreSQL sessions of a dead worker and wait until they are gone (their
    transactions rolled back). A server notices a dead client by itself only when it next talks
    to it (or after tcp_keepalives_* / client_connection_check_interval); a session blocked on a
    lock, or one whose COMMIT is already on its way, would otherwise live on with its locks."""
    if not pids:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(p) FROM unnest(%s::int[]) AS p", [list(pids)])
    wait_until(lambda: not (client_backends() & pids), f"backends {pids} to end")


@pytest.fixture
def queue():
    """A queue of this test only: a development worker (queue "synthesis") never takes the task."""
    name = f"test-sigkill-{uuid.uuid4().hex}"
    yield name
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=5)
    with contextlib.suppress(redis.RedisError):
        # A message of a failed run may still be unacked: drop it, or a later worker with a short
        # visibility timeout would restore it into this queue, which nobody consumes.
        for tag, payload in client.hscan_iter("unacked"):
            if json.loads(payload)[2] == name:  # [message, exchange, routing key]
                client.zrem("unacked_index", tag)
                client.hdel("unacked", tag)
        client.delete(name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")


@pytest.fixture
def workers(transactional_db, tmp_path, queue):
    """Depends on transactional_db, so it is torn down before the database is flushed: no worker
    (and no session of one) may hold a lock the flush's TRUNCATE would wait for."""
    own = Workers(tmp_path, queue)
    try:
        yield own
    finally:
        own.stop_all()
        with contextlib.suppress(Exception):
            terminate_backends(backends_in_transaction(set()))


@pytest.fixture
def spirit_lock(transactional_db, spirit):
    """Hold the spirit's row FOR UPDATE on a connection of its own; `release()` rolls it back.
    `pid` is the backend that holds the lock, read in the lock's transaction (behind a transaction
    pooler, `info.backend_pid` is the pooler's, and only an open transaction keeps one backend)."""
    db = connection.settings_dict

    class Lock:
        def __init__(self):
            self.conn = psycopg.connect(
                host=db["HOST"],
                port=db["PORT"] or None,
                dbname=db["NAME"],
                user=db["USER"],
                password=db["PASSWORD"] or None,
                connect_timeout=10,
                prepare_threshold=None,  # no server-side prepared statements (a pooler's)
            )
            self.pid: int | None = None

        def acquire(self):
            self.conn.execute(
                f"SELECT 1 FROM {Spirit._meta.db_table} WHERE id = %s FOR UPDATE",  # noqa: S608
                [spirit.pk],
            )
            self.pid = self.conn.execute("SELECT pg_backend_pid()").fetchone()[0]

        def release(self):
            self.conn.rollback()

    lock = Lock()
    try:
        lock.acquire()
        yield lock
    finally:
        lock.conn.close()


@pytest.fixture
def conversation(spirit):
    """Pending events of several sessions: 4 episodes, 11 events."""
    start = timezone.now() - timedelta(hours=6)
    plan = [
        ("breakfast", [0, 1, 2]),
        ("lunch", [120, 121, 122, 124]),
        ("dinner", [240, 241, 300, 302]),  # a gap of an hour: two episodes
    ]
    events = [
        EventFactory(
            spirit=spirit,
            session_id=session,
            role="user" if i % 2 == 0 else "assistant",
            content=f"{session} message {i}",
            occurred_at=start + timedelta(minutes=minute),
        )
        for session, minutes in plan
        for i, minute in enumerate(minutes)
    ]
    gap = spirit.effective_config["synthesis"]["episode_gap_minutes"]
    assert len(synthesis.group_episodes(events, gap)) == 4
    return events


def unacked_delivery_time(task_id: str) -> float | None:
    """When Redis handed out the message of `task_id` still unacknowledged (None: not unacked)."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=5)
    for tag, payload in client.hscan_iter("unacked"):
        message = json.loads(payload)[0]
        if message.get("headers", {}).get("id") == task_id:
            return client.zscore("unacked_index", tag)
    return None


def assert_synthesized_exactly_once(spirit, events, episodes: int):
    ids = {e.pk for e in events}
    memories = Memory.objects.filter(spirit=spirit)
    assert memories.count() == episodes
    links = list(MemoryEvent.objects.filter(event_id__in=ids).values_list("event_id", "memory_id"))
    assert sorted(e for e, _ in links) == sorted(ids)  # every event in exactly one memory
    assert {m for _, m in links} == set(memories.values_list("pk", flat=True))
    sessions = sorted(m.metadata["synthesis"]["session_id"] for m in memories)
    assert sessions == ["breakfast", "dinner", "dinner", "lunch"]
    assert len(set(memories.values_list("content", flat=True))) == episodes  # no duplicate
    assert not Event.objects.filter(pk__in=ids, synthesized_at__isnull=True).exists()
    assert not synthesis.pending_events(spirit.pk).exists()


@pytest.mark.parametrize("victim", ["pool_child", "whole_worker"])
def test_a_synthesis_killed_mid_transaction_is_redelivered_and_done_exactly_once(
    victim, spirit, conversation, spirit_lock, workers, queue
):
    events = conversation
    result = tasks.synthesize_spirit.apply_async(
        (str(spirit.pk),), {"force": True}, queue=queue, task_id=str(uuid.uuid4())
    )
    worker = workers.start()

    # The synthesis has locked the pending events and waits for the spirit's row.
    blocked = wait_until(
        lambda: backends_blocked_by(spirit_lock.pid),
        "the synthesis to lock the events and wait for the spirit row",
        logs=workers.logs,
    )
    assert len(blocked) == 1, blocked
    backend, query, wrote = blocked[0]
    # At COMMIT (deferred foreign keys), or at the first INSERT should the keys become immediate.
    assert query.strip().upper() == "COMMIT" or "memories_memory" in query, query
    assert wrote  # the transaction has written rows (it has a transaction id)
    with transaction.atomic():  # all of them taken by the stuck transaction
        assert not synthesis.pending_events(spirit.pk).select_for_update(skip_locked=True)
    (child,) = wait_until(lambda: children(worker.pid), "the pool child", logs=workers.logs)

    if victim == "pool_child":
        # Stop the child first, so that its session is ended (as the server ends the session of a
        # client it finds gone) before the worker hands the message to a new child, whose
        # SELECT ... SKIP LOCKED would otherwise skip the events the dead session still locks and
        # finish with nothing to do (seen without this: the dead session then commits once the
        # row is free; killed before its COMMIT, it would leave the events to the next sweep).
        os.kill(child, signal.SIGSTOP)
        terminate_backends({backend})
        os.kill(child, signal.SIGKILL)
    else:
        os.killpg(worker.pid, signal.SIGKILL)  # the main process and its child, at once
        worker.wait(timeout=10)
        wait_until(lambda: not alive(child), "the killed pool child to be gone")
        # Every session of the dead worker that still has a transaction: the one blocked at
        # COMMIT among them (its other sessions, if any, ended with their clients).
        dead = backends_in_transaction({spirit_lock.pid})
        assert backend in dead, (backend, dead)
        terminate_backends(dead)

    # The killed run left nothing behind: everything is pending, as before it started.
    assert not Memory.objects.filter(spirit=spirit).exists()
    assert not MemoryEvent.objects.filter(event__spirit=spirit).exists()
    assert synthesis.pending_events(spirit.pk).count() == len(events)

    if victim == "whole_worker":
        # Only the broker still knows the message: unacknowledged, handed out by a worker that
        # is gone. A new worker restores such messages once older than its visibility timeout.
        delivered = unacked_delivery_time(result.id)
        assert delivered is not None, "the killed worker's message is not unacked in Redis"
        time.sleep(max(0.0, delivered + VISIBILITY_TIMEOUT + 0.5 - time.time()))
        spirit_lock.release()
        workers.start(visibility_timeout=VISIBILITY_TIMEOUT)
    else:
        spirit_lock.release()

    # The same message runs again and completes.
    wait_until(
        result.ready,
        "the task to be run again and finish",
        logs=lambda: (
            f"{synthesis.pending_events(spirit.pk).count()} events still pending\n{workers.logs()}"
        ),
    )
    assert result.get(timeout=5) == 4, workers.logs()
    assert_synthesized_exactly_once(spirit, events, episodes=4)
    if victim == "pool_child":
        assert alive(worker.pid)  # the same worker ran it again, in a new child
        assert children(worker.pid) not in ([], [child])
        assert "SIGKILL" in workers.logs()
