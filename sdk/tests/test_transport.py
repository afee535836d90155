"""Retries on 5xx, timeouts, connection errors, settings from the environment and the version
check, against a scripted server on loopback (tests/loopback.py): real HTTP, but answers the
test server cannot honestly give (a 503 then a 200, a slow answer, another API version)."""

from __future__ import annotations

import socket

import pytest
from elephantasm_client import (
    API_VERSION,
    APIConnectionError,
    APITimeoutError,
    ConflictError,
    DuplicateEventError,
    Elephantasm,
    ElephantasmError,
    Event,
    ServerError,
    Spirit,
    VersionMismatchError,
)

from .loopback import Loopback, Reply, envelope

SPIRIT = {"id": "s1", "name": "helper", "status": "active", "a_field_of_a_newer_server": 1}
EVENT = {"id": "e1", "spirit_id": "s1", "event_type": "message.in", "content": "Hi"}
UNAVAILABLE = envelope("service_unavailable", "The embedding provider failed; try again.")
SPIRIT_PATH = "/api/v1/spirits/s1/"


def fast_client(loopback: Loopback, **options) -> Elephantasm:
    return Elephantasm(base_url=loopback.url, api_key="elk_test_key", backoff=0.01, **options)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_503_is_retried_after_its_retry_after_and_new_fields_are_kept():
    script = {
        ("GET", SPIRIT_PATH): [Reply(503, UNAVAILABLE, {"Retry-After": "1"}), Reply(200, SPIRIT)]
    }
    with Loopback(script) as server, fast_client(server) as client:
        spirit = client.spirits.get("s1")

    first, second = server.requests_to("GET", SPIRIT_PATH)
    assert isinstance(spirit, Spirit) and spirit.name == "helper"
    assert spirit.a_field_of_a_newer_server == 1
    assert second.at - first.at >= 0.95
    assert first.headers["Authorization"] == "Bearer elk_test_key"


def test_5xx_answers_raise_server_error_after_max_retries_with_or_without_an_envelope():
    script = {
        ("GET", SPIRIT_PATH): [Reply(502, None)],
        ("GET", "/api/v1/spirits/s2/"): [
            Reply(500, envelope("server_error", "Internal server error."))
        ],
    }
    with Loopback(script) as server, fast_client(server, max_retries=3) as client:
        with pytest.raises(ServerError) as bad_gateway:
            client.spirits.get("s1")
        with pytest.raises(ServerError) as bug:
            client.spirits.get("s2")

    assert (bad_gateway.value.status, bad_gateway.value.code) == (502, None)
    assert bad_gateway.value.message == "HTTP 502 Bad Gateway"
    assert len(server.requests_to("GET", SPIRIT_PATH)) == 4  # 1 + 3 retries
    assert (bug.value.code, bug.value.message) == ("server_error", "Internal server error.")
    assert len(server.requests_to("GET", "/api/v1/spirits/s2/")) == 1  # a 500 is a bug: no retry


def test_a_post_that_could_write_twice_is_retried_on_429_but_not_on_503():
    script = {
        ("POST", "/api/v1/memories/"): [
            Reply(429, envelope("throttled", "Slow down.", retry_after=0), {"Retry-After": "0"}),
            Reply(503, UNAVAILABLE),
        ]
    }
    with (
        Loopback(script) as server,
        fast_client(server) as client,
        pytest.raises(ServerError) as caught,
    ):
        client.memories.create("s1", "A memory.")

    assert caught.value.status == 503
    assert len(server.requests_to("POST", "/api/v1/memories/")) == 2


def test_extract_is_retried_with_the_same_dedupe_key_and_a_409_after_the_retry_is_success():
    script = {
        ("POST", "/api/v1/events/"): [
            Reply(503, UNAVAILABLE),
            Reply(409, envelope("duplicate_event", "Exists.", existing_id="e1")),
        ],
        ("GET", "/api/v1/events/e1/"): [Reply(200, EVENT)],
    }
    with Loopback(script) as server, fast_client(server) as client:
        event = client.extract("s1", "message.in", "Hi")

    first, second = server.requests_to("POST", "/api/v1/events/")
    assert isinstance(event, Event) and event.id == "e1"
    assert first.body["dedupe_key"] == second.body["dedupe_key"]
    assert first.body["dedupe_key"].startswith("client-")


def test_error_classes_follow_the_envelope_code_before_the_status():
    script = {
        ("POST", "/api/v1/events/"): [
            Reply(409, envelope("duplicate_event", "Exists.", existing_id="e1"))
        ],
        ("POST", "/api/v1/spirits/s1/dreams/"): [Reply(409, envelope("spirit_paused", "Paused."))],
        ("GET", "/api/v1/events/e2/"): [Reply(405, envelope("method_not_allowed", "No."))],
    }
    with Loopback(script) as server, fast_client(server) as client:
        with pytest.raises(DuplicateEventError) as duplicate:
            client.extract("s1", "message.in", "Hi")
        with pytest.raises(ConflictError) as paused:
            client.dreams.request("s1")
        with pytest.raises(ElephantasmError) as other:
            client.events.get("e2")

    assert duplicate.value.existing_id == "e1" and duplicate.value.after_retry is False
    assert type(paused.value) is ConflictError and paused.value.code == "spirit_paused"
    assert type(other.value) is ElephantasmError and other.value.status == 405


def test_a_slow_answer_is_a_timeout_and_an_unreachable_server_a_connection_error():
    script = {("GET", SPIRIT_PATH): [Reply(200, SPIRIT, delay=1.0)]}
    with (
        Loopback(script) as server,
        fast_client(server, timeout=0.2, max_retries=0) as client,
        pytest.raises(APITimeoutError),
    ):
        client.spirits.get("s1")
    unreachable = Elephantasm(f"http://127.0.0.1:{closed_port()}", "elk_k", backoff=0.01)

    with pytest.raises(APIConnectionError) as caught:
        unreachable.spirits.list()

    assert not isinstance(caught.value, APITimeoutError)
    assert caught.value.status is None and "Could not reach GET" in caught.value.message


def test_the_environment_gives_the_url_and_key_and_a_missing_key_is_an_error(monkeypatch):
    with Loopback({("GET", SPIRIT_PATH): [Reply(200, SPIRIT)]}) as server:
        monkeypatch.setenv("ELEPHANTASM_URL", server.url + "/api/v1/")
        monkeypatch.setenv("ELEPHANTASM_API_KEY", "elk_from_env")
        with Elephantasm() as client:
            assert client.base_url == server.url
            client.spirits.get("s1")
    monkeypatch.delenv("ELEPHANTASM_API_KEY")

    with pytest.raises(ElephantasmError, match="ELEPHANTASM_API_KEY"):
        Elephantasm()
    assert (
        server.requests_to("GET", SPIRIT_PATH)[0].headers["Authorization"] == "Bearer elk_from_env"
    )


def test_another_api_version_is_refused_on_the_first_call_naming_both_versions():
    script = {("GET", "/"): [Reply(200, {"name": "Elephantasm", "api_version": "v2"})]}
    with Loopback(script) as server:
        client = fast_client(server)
        assert server.received == []  # constructing the client sends nothing

        with pytest.raises(VersionMismatchError) as caught:
            client.spirits.get("s1")
        with pytest.raises(VersionMismatchError):
            client.check_version()

    error = caught.value
    assert (error.client_version, error.server_version) == (API_VERSION, "v2")
    assert "speaks Elephantasm API v1" in str(error) and "serves API v2" in str(error)
    assert server.requests_to("GET", SPIRIT_PATH) == []


def test_a_server_that_does_not_name_its_api_version_is_taken_as_compatible_once():
    script = {
        ("GET", "/"): [Reply(200, {"name": "Elephantasm", "version": "0.1.0"})],
        ("GET", SPIRIT_PATH): [Reply(200, SPIRIT)],
    }
    with Loopback(script) as server, fast_client(server) as client:
        assert client.check_version() is None
        client.spirits.get("s1")
        client.spirits.get("s1")

    assert len(server.requests_to("GET", "/")) == 1
