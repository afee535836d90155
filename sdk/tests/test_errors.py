"""The API's error envelope as typed exceptions, and retries on real 429s, against the live test
server (rates lowered with the `settings` fixture; the throttles read them on every request)."""

from __future__ import annotations

import logging
import time
import uuid

import pytest
from elephantasm_client import (
    AuthenticationError,
    Elephantasm,
    ElephantasmError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ValidationError,
)

from teams.models import Role


def test_a_bad_key_is_an_authentication_error(live_server):
    client = Elephantasm(base_url=live_server.url, api_key="elk_nothing_wrong")

    with pytest.raises(AuthenticationError) as caught:
        client.spirits.list()
    client.close()

    error = caught.value
    assert isinstance(error, ElephantasmError)
    assert (error.status, error.code, error.message) == (
        401,
        "authentication_failed",
        "Invalid API key.",
    )


def test_too_low_a_role_or_scope_is_permission_denied_naming_what_is_needed(
    make_client, make_key, live_server, spirit_id
):
    viewer = make_client(Role.VIEWER)
    read_only = Elephantasm(base_url=live_server.url, api_key=make_key(Role.OWNER, ["read"]))

    with pytest.raises(PermissionDeniedError) as by_role:
        viewer.extract(spirit_id, "message.in", "Hello")
    with pytest.raises(PermissionDeniedError) as by_scope:
        read_only.memories.create(spirit_id, "A memory.")

    assert (by_role.value.status, by_role.value.code) == (403, "permission_denied")
    assert by_role.value.details == {"required_role": "member", "role": "viewer"}
    assert by_scope.value.details == {"required_scope": "write", "scopes": ["read"]}
    assert viewer.search(spirit_id, "hello") == []  # reading is a viewer's right
    read_only.close()


def test_an_unknown_or_foreign_object_is_not_found(client, foreign_spirit):
    with pytest.raises(NotFoundError) as unknown:
        client.events.get(str(uuid.uuid4()))
    with pytest.raises(NotFoundError) as foreign:
        client.identity.get(str(foreign_spirit.pk))

    assert (unknown.value.status, unknown.value.code) == (404, "not_found")
    assert foreign.value.code == "not_found"


def test_invalid_input_is_a_validation_error_with_field_details(client, spirit_id):
    with pytest.raises(ValidationError) as bad_event:
        client.extract(spirit_id, "message.sideways", "Hello", importance_score=2)
    with pytest.raises(ValidationError) as bad_page:
        client.events.list(spirit_id=spirit_id, limit=500)

    error = bad_event.value
    assert (error.status, error.code) == (400, "validation_error")
    assert error.message == "Invalid input: event_type, importance_score."
    assert set(error.details) == {"event_type", "importance_score"}
    assert bad_page.value.details == {"limit": ["limit must be between 1 and 200."]}


def test_a_real_429_raises_rate_limited_with_retry_after_when_longer_than_allowed(
    make_client, settings, spirit_id
):
    settings.API_THROTTLE_RATE = "2/min"
    settings.API_THROTTLE_BURST_RATE = ""
    client = make_client(max_retry_wait=0.5)  # the server's Retry-After is at least 1 s
    client.spirits.get(spirit_id)
    client.spirits.get(spirit_id)

    started = time.monotonic()
    with pytest.raises(RateLimitedError) as caught:
        client.spirits.get(spirit_id)

    error = caught.value
    assert (error.status, error.code) == (429, "throttled")
    assert 1 <= error.retry_after <= 60
    assert error.details == {"retry_after": int(error.retry_after)}
    assert time.monotonic() - started < 0.5  # not waited for


def test_a_real_429_is_retried_after_its_retry_after(make_client, settings, spirit_id, caplog):
    settings.API_THROTTLE_RATE = ""
    settings.API_THROTTLE_BURST_RATE = "1/s"
    client = make_client()
    caplog.set_level(logging.INFO, logger="elephantasm_client")

    names = [client.spirits.get(spirit_id).name for _ in range(3)]

    retries = [r.getMessage() for r in caplog.records if r.name == "elephantasm_client"]
    assert len(set(names)) == 1
    # Three calls within about a second: at least one is refused, then sent again in the next
    # window after the server's Retry-After (1 s), not the shorter backoff.
    assert retries
    assert all(" in 1.00 s after HTTP 429 " in message for message in retries)
