"""While the broker does not answer, a request that enqueues work does not wait on it: the rows
are written, the task is not sent (the sweeps find the work later), and the answer comes at once
(elephantasm.queueing). The broker here is a real TCP server that accepts connections and never
answers, as a stopped (SIGSTOP) or wedged Redis does: the probe saw requests held ~19 s."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest

from elephantasm import queueing
from events.models import Event


class SilentServer:
    """Accepts connections on loopback and never answers; counts them."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent_broker(settings):
    server = SilentServer()
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{server.port}/0"
    queueing.forget_broker_state()
    yield server
    server.close()
    queueing.forget_broker_state()


@pytest.mark.django_db
def test_recording_events_does_not_wait_on_a_broker_that_never_answers(
    api, spirit, silent_broker, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.WARNING, logger="elephantasm.queueing")
    body = {"spirit_id": str(spirit.pk), "event_type": "message.in", "content": "Hello there"}

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post("/api/v1/events/", body, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        bulk = api.post(
            "/api/v1/events/bulk/",
            {"spirit_id": str(spirit.pk), "events": [{**body, "content": "Again"}]},
            format="json",
        )
    took = time.monotonic() - started

    assert first.status_code == 201 and bulk.status_code in (200, 201)
    assert Event.objects.filter(spirit=spirit).count() == 2  # written, for the sweeps to find
    # One PING timed out (BROKER_CHECK_TIMEOUT); every later send within BROKER_DOWN_SECONDS
    # was refused without trying: one connection in all. Not a speed target: the probe's
    # requests were held ~19 s each, or for ever.
    assert len(silent_broker.accepted) == 1
    assert took < 5
    warnings = [r for r in caplog.records if "does not answer" in r.getMessage()]
    assert len(warnings) == 1  # said once, not per task


def test_send_raises_at_once_and_tries_again_after_the_pause(silent_broker, monkeypatch):
    with pytest.raises(queueing.BrokerUnavailable):
        queueing.send("events.tasks.enrich_events", ["x"])
    with pytest.raises(queueing.BrokerUnavailable):
        queueing.send("events.tasks.enrich_events", ["y"])
    assert len(silent_broker.accepted) == 1

    later = time.monotonic() + queueing.BROKER_DOWN_SECONDS + 1
    monkeypatch.setattr(queueing.time, "monotonic", lambda: later)
    with pytest.raises(queueing.BrokerUnavailable):
        queueing.send("events.tasks.enrich_events", ["z"])
    assert len(silent_broker.accepted) == 2  # checked again after the pause


def test_a_broker_that_answers_is_used(settings):
    queueing.forget_broker_state()

    assert queueing.broker_answers() is True  # the test Redis
