"""/health says whether a worker answers and whether beat ticked lately ("degraded", never a
reason to refuse traffic); /health/live and /health/ready serve orchestrators."""

from __future__ import annotations

import time

import pytest
import redis
from celery.beat import PersistentScheduler
from django.conf import settings
from django.db import connections
from django.test import Client

from elephantasm import health, heartbeat

from .test_views import default_db_settings_pointing_nowhere


@pytest.fixture
def client():
    return Client()


@pytest.fixture(autouse=True)
def _fresh_checks():
    health.forget_background_checks()  # each test asks again (they are kept 5 s per process)
    yield
    health.forget_background_checks()


@pytest.fixture(autouse=True)
def _no_heartbeat():
    key = heartbeat.BEAT_HEARTBEAT_KEY
    store = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    store.delete(key)
    yield store
    store.delete(key)


@pytest.mark.django_db
def test_without_a_worker_or_beat_the_api_is_degraded_not_down(client):
    response = client.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["worker"] == {"ok": False, "error": "no worker answered"}
    assert body["beat"] == {"ok": False, "error": "no heartbeat"}


@pytest.mark.django_db
def test_a_late_beat_is_reported_with_its_age(client, settings):
    settings.BEAT_STALE_SECONDS = 60
    heartbeat.stamp(time.time() - 600)

    beat = client.get("/health").json()["beat"]

    assert beat["ok"] is False and beat["error"] == "late"
    assert 599 <= beat["seconds_since"] <= 660


def test_the_scheduler_stamps_the_heartbeat_on_every_tick(monkeypatch, _no_heartbeat):
    monkeypatch.setattr(PersistentScheduler, "tick", lambda self, *a, **k: 5.0)
    scheduler = heartbeat.HeartbeatScheduler.__new__(heartbeat.HeartbeatScheduler)

    assert heartbeat.last_beat(settings.CELERY_BROKER_URL) is None
    assert scheduler.tick() == 5.0  # the schedule's own answer, unchanged
    assert time.time() - heartbeat.last_beat(settings.CELERY_BROKER_URL) < 60


def test_celery_beat_uses_the_heartbeat_scheduler():
    from elephantasm.celery import app

    assert app.conf.beat_scheduler == "elephantasm.heartbeat.HeartbeatScheduler"
    assert app.conf.beat_max_loop_interval <= settings.BEAT_STALE_SECONDS / 2


def test_live_checks_nothing_but_the_process(client, monkeypatch, tmp_path):
    monkeypatch.setitem(
        connections.settings, "default", default_db_settings_pointing_nowhere(tmp_path)
    )

    response = client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert client.post("/health/live").status_code == 405


@pytest.mark.django_db
def test_ready_follows_the_database_only(client, monkeypatch, tmp_path):
    ready = client.get("/health/ready")  # no worker, no beat here: still ready
    monkeypatch.setitem(
        connections.settings, "default", default_db_settings_pointing_nowhere(tmp_path)
    )
    not_ready = client.get("/health/ready")

    assert ready.status_code == 200 and ready.json()["status"] == "ok"
    assert not_ready.status_code == 503
    assert not_ready.json()["database"] == {"ok": False, "error": "OperationalError"}


@pytest.mark.django_db
def test_the_worker_and_beat_checks_are_kept_a_few_seconds(client):
    first = client.get("/health").json()
    heartbeat.stamp()  # beat ticks now, but the answer of a moment ago is kept
    again = client.get("/health").json()
    health.forget_background_checks()
    fresh = client.get("/health").json()

    assert first["beat"]["ok"] is False and again["beat"] == first["beat"]
    assert fresh["beat"]["ok"] is True
