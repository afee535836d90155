"""The root document, /health (against the real database and broker), and JSON error pages."""

from __future__ import annotations

import copy
import socket
import uuid

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client, override_settings

from elephantasm import health, heartbeat
from elephantasm.tests.waiting import real_worker, wait_until


def closed_local_port() -> int:
    """A TCP port on 127.0.0.1 where nothing listens (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def default_db_settings_pointing_nowhere(socket_dir) -> dict:
    """The test database's connection settings, pointed at a socket directory with no server."""
    params = copy.deepcopy(connections.settings["default"])
    params["HOST"] = str(socket_dir)
    params["PORT"] = ""
    return params


@pytest.fixture
def client():
    return Client()


@pytest.fixture(autouse=True)
def _fresh_health_checks():
    health.forget_background_checks()  # kept 5 s per process: each test asks again
    yield
    health.forget_background_checks()


def test_root_names_the_api_version_and_links_to_api_docs_schema_admin_and_health(client):
    response = client.get("/")

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Elephantasm"
    assert body["version"]
    assert body["api_version"] == "v1"
    assert body["links"] == {
        "api": "http://testserver/api/v1/",
        "docs": "http://testserver/api/docs/",
        "schema": "http://testserver/api/schema/",
        "admin": "http://testserver/admin/",
        "health": "http://testserver/health",
    }


def test_root_links_use_the_requests_host(client):
    response = client.get("/", HTTP_HOST="localhost:8000")

    assert response.json()["links"]["health"] == "http://localhost:8000/health"


def test_root_refuses_post_with_json_405(client):
    response = client.post("/")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.django_db(transaction=True)
def test_health_is_ok_with_real_database_broker_worker_and_beat(client):
    heartbeat.stamp()  # what beat's scheduler does on every tick
    with real_worker(f"test-health-{uuid.uuid4().hex}"):
        wait_until(lambda: health.check_worker(timeout=1)["ok"], "the worker answers a ping")
        response = client.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok", body
    assert body["worker"]["ok"] is True
    assert body["beat"]["ok"] is True and body["beat"]["seconds_since"] < 60
    assert body["database"]["ok"] is True
    assert body["database"]["latency_ms"] >= 0
    assert body["broker"]["ok"] is True
    assert body["broker"]["latency_ms"] >= 0
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_health_is_degraded_but_200_when_broker_is_unreachable(client):
    with override_settings(CELERY_BROKER_URL=f"redis://127.0.0.1:{closed_local_port()}/0"):
        response = client.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False
    assert body["broker"]["error"]


def test_health_is_down_and_503_when_database_is_unreachable(db, client, monkeypatch, tmp_path):
    # New connections for "default" now go to a directory where no server listens; the test's
    # own open connection keeps its settings (the real server is untouched).
    monkeypatch.setitem(
        connections.settings, "default", default_db_settings_pointing_nowhere(tmp_path)
    )

    response = client.get("/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["database"] == {"ok": False, "error": "OperationalError"}
    assert body["broker"]["ok"] is True


def test_health_refuses_post_with_json_405(client):
    response = client.post("/health")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_check_database_answers_on_the_real_server(db):
    result = health.check_database()

    assert result["ok"] is True
    assert result["latency_ms"] >= 0


def test_check_database_settings_reports_nothing_listening_on_unix_socket(db, tmp_path):
    result = health.check_database_settings(default_db_settings_pointing_nowhere(tmp_path))

    assert result == {"ok": False, "error": "OperationalError"}


def test_check_database_settings_reports_closed_tcp_port(db):
    params = copy.deepcopy(connections.settings["default"])
    params.update(HOST="127.0.0.1", PORT=str(closed_local_port()))

    result = health.check_database_settings(params, timeout=1)

    assert result == {"ok": False, "error": "OperationalError"}


def test_check_database_does_not_touch_the_pooled_connection(db):
    pooled = connections["default"]
    pooled.ensure_connection()
    before = pooled.connection

    assert health.check_database()["ok"] is True
    assert pooled.connection is before
    assert not pooled.connection.closed


def test_check_broker_pings_real_redis():
    result = health.check_broker(settings.CELERY_BROKER_URL)

    assert result["ok"] is True


def test_check_broker_reports_closed_port_quickly():
    result = health.check_broker(f"redis://127.0.0.1:{closed_local_port()}/0", timeout=1)

    assert result == {"ok": False, "error": "ConnectionError"}


def test_check_broker_reports_unsupported_scheme():
    result = health.check_broker("amqp://guest@localhost//")

    assert result["ok"] is False
    assert "amqp" in result["error"]


def test_unknown_url_is_a_json_404(client):
    response = client.get("/no/such/page")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": {"code": "not_found", "message": "Not found.", "details": {}}
    }


def test_unknown_api_url_is_a_json_404(client):
    response = client.get("/api/v1/no-such-resource/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
