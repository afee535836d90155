"""Rate limits per API key, user and IP, counted in the real (test) Redis."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from rest_framework.test import APIClient

from conftest import bearer_client
from elephantasm.api import throttling
from elephantasm.tests.test_api_core import assert_error
from elephantasm.tests.test_production_settings import production_env, run
from teams.tests.factories import ApiKeyFactory

SPIRITS = "/api/v1/spirits/"
# A fixed clock, 15 s into a one-minute window: Retry-After is exactly 45.
NOW = 60 * 29_000_000 + 15.0

TINY = override_settings(API_THROTTLE_RATE="3/min", API_THROTTLE_BURST_RATE="")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def _fixed_clock_and_clean_counters(monkeypatch):
    monkeypatch.setattr(throttling.time, "time", lambda: NOW)
    client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    pattern = f"{settings.CACHES['default']['KEY_PREFIX']}:*throttle:*"
    for key in client.scan_iter(match=pattern):
        client.delete(key)
    yield
    for key in client.scan_iter(match=pattern):
        client.delete(key)


def test_the_cache_is_redis_on_the_test_database():
    location = settings.CACHES["default"]["LOCATION"]

    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert location.startswith("redis://") and location.endswith("/15")
    caches["default"].set("throttling-probe", 1, timeout=5)
    assert caches["default"].get("throttling-probe") == 1


@pytest.mark.django_db
@TINY
def test_a_key_over_its_rate_gets_429_throttled_with_retry_after(api):
    for _ in range(3):
        assert api.get(SPIRITS).status_code == 200

    response = api.get(SPIRITS)

    error = assert_error(response, 429, "throttled")
    assert error["details"] == {"retry_after": 45}
    assert response["Retry-After"] == "45"


@pytest.mark.django_db
@TINY
def test_other_keys_of_the_same_team_are_not_throttled(api, team):
    for _ in range(4):
        api.get(SPIRITS)
    assert api.get(SPIRITS).status_code == 429

    other = bearer_client(ApiKeyFactory(team=team).raw)

    assert other.get(SPIRITS).status_code == 200


@pytest.mark.django_db
@TINY
def test_a_new_window_lets_the_key_in_again(api, monkeypatch):
    for _ in range(4):
        api.get(SPIRITS)
    assert api.get(SPIRITS).status_code == 429

    monkeypatch.setattr(throttling.time, "time", lambda: NOW + 45)

    assert api.get(SPIRITS).status_code == 200


@pytest.mark.django_db
@TINY
def test_session_users_are_throttled_per_user(user_api, user_factory, team):
    from teams.models import Role
    from teams.tests.factories import TeamMembershipFactory

    for _ in range(3):
        assert user_api.get(SPIRITS).status_code == 200
    assert_error(user_api.get(SPIRITS), 429, "throttled")

    colleague = APIClient()
    colleague.force_login(TeamMembershipFactory(team=team, role=Role.MEMBER).user)
    assert colleague.get(SPIRITS).status_code == 200


def keyed(raw_key: str, ip: str) -> APIClient:
    client = APIClient(REMOTE_ADDR=ip)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


@pytest.mark.django_db
@override_settings(API_AUTH_FAILURE_RATE="3/min")
def test_refused_keys_are_counted_per_ip_and_then_get_429(team):
    """DRF authenticates before it throttles: refused keys are counted by the authentication
    itself. Wrong, revoked and expired keys all count; past the rate a refused key from that IP
    gets 429, while a good key from it still passes and other IPs are not concerned."""
    from datetime import timedelta

    from django.utils import timezone

    good = ApiKeyFactory(team=team).raw
    revoked = ApiKeyFactory(team=team, revoked=True).raw
    expired = ApiKeyFactory(team=team, expires_at=timezone.now() - timedelta(minutes=1)).raw
    for raw in ("elk_nope_wrong", revoked, expired):
        assert_error(keyed(raw, "203.0.113.9").get(SPIRITS), 401, "authentication_failed")

    response = keyed("elk_nope_wrong", "203.0.113.9").get(SPIRITS)
    error = assert_error(response, 429, "throttled")
    assert error["details"] == {"retry_after": 45} and response["Retry-After"] == "45"
    assert keyed(good, "203.0.113.9").get(SPIRITS).status_code == 200
    assert_error(keyed(revoked, "203.0.113.10").get(SPIRITS), 401, "authentication_failed")


@pytest.mark.django_db
@override_settings(API_AUTH_FAILURE_RATE="3/min")
def test_good_keys_do_not_count_and_a_new_window_forgets(team, monkeypatch):
    good = keyed(ApiKeyFactory(team=team).raw, "203.0.113.11")
    wrong = keyed("elk_nope_wrong", "203.0.113.11")
    for _ in range(5):
        assert good.get(SPIRITS).status_code == 200
    for _ in range(3):
        assert wrong.get(SPIRITS).status_code == 401
    assert wrong.get(SPIRITS).status_code == 429

    monkeypatch.setattr(throttling.time, "time", lambda: NOW + 45)

    assert wrong.get(SPIRITS).status_code == 401


@pytest.mark.django_db
@TINY
def test_anonymous_callers_are_throttled_per_ip_address():
    schema = "/api/schema/?format=json"
    first, second = APIClient(REMOTE_ADDR="203.0.113.7"), APIClient(REMOTE_ADDR="203.0.113.8")
    for _ in range(3):
        assert first.get(schema).status_code == 200

    assert_error(first.get(schema), 429, "throttled")
    assert second.get(schema).status_code == 200


@pytest.mark.django_db
@TINY
def test_a_forged_x_forwarded_for_does_not_escape_the_ip_limit():
    schema = "/api/schema/?format=json"
    client = APIClient(REMOTE_ADDR="203.0.113.9")
    for n in range(3):
        client.get(schema, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")

    assert client.get(schema, HTTP_X_FORWARDED_FOR="198.51.100.99").status_code == 429


@pytest.mark.django_db
@override_settings(API_THROTTLE_RATE="", API_THROTTLE_BURST_RATE="2/s")
def test_the_burst_rate_applies_on_its_own(api):
    assert api.get(SPIRITS).status_code == 200
    assert api.get(SPIRITS).status_code == 200

    response = api.get(SPIRITS)

    assert_error(response, 429, "throttled")
    assert response["Retry-After"] == "1"


@pytest.mark.django_db
@override_settings(API_THROTTLE_RATE="5/min", API_THROTTLE_BURST_RATE="2/s")
def test_a_refused_request_uses_up_none_of_the_quota(api, monkeypatch):
    """The probe's finding: requests refused by the burst limit used to count against the
    sustained one (936 of 1,192 served in a minute). Now only served requests count."""
    served = 0
    for second in range(4):  # 10 requests a second for 4 seconds: 2 a second pass
        monkeypatch.setattr(throttling.time, "time", lambda second=second: NOW + second)
        for _ in range(10):
            served += api.get(SPIRITS).status_code == 200
    monkeypatch.setattr(throttling.time, "time", lambda: NOW + 4)

    # 2 + 2 served in the first two seconds, then 1 more: the sustained 5, counted by served
    # requests only (the 36 refused ones counted too would have stopped it at 2)
    assert served == 5
    assert api.get(SPIRITS).status_code == 429  # the sustained limit, now full
    monkeypatch.setattr(throttling.time, "time", lambda: NOW + 45)  # its next window
    assert api.get(SPIRITS).status_code == 200


@pytest.mark.django_db
@override_settings(API_THROTTLE_RATE="", API_THROTTLE_BURST_RATE="")
def test_empty_rates_turn_throttling_off(api):
    for _ in range(5):
        assert api.get(SPIRITS).status_code == 200


@pytest.mark.django_db
@TINY
def test_requests_pass_when_the_cache_does_not_answer(api, caplog, monkeypatch):
    monkeypatch.setattr(throttling, "_last_warning", 0.0)
    dead = dict(settings.CACHES["default"], LOCATION=f"redis://127.0.0.1:{free_port()}/0")
    with override_settings(CACHES={"default": dead}):
        statuses = [api.get(SPIRITS).status_code for _ in range(5)]

    assert statuses == [200] * 5
    assert caplog.text.count("Throttling is off") == 1  # once, not per request


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [
        ("1200/min", (1200, 60)),
        ("100/s", (100, 1)),
        ("5/hour", (5, 3600)),
        ("7/d", (7, 86400)),
        ("2/seconds", (2, 1)),
        ("30 / Minutes", (30, 60)),
        ("9/DAYS", (9, 86400)),
    ],
)
def test_rates_parse(rate, parsed):
    assert throttling.parse_rate(rate) == parsed


@pytest.mark.parametrize(
    "rate",
    # A period is read whole: "month", "dozen" and "ms" are not a minute, a day and a minute.
    ["fast", "10/fortnight", "x/min", "1/month", "3/dozen", "5/ms", "0/min", "-5/min", "5/"],
)
def test_an_invalid_rate_is_a_configuration_error(rate):
    with pytest.raises(ImproperlyConfigured, match="Invalid rate"):
        throttling.parse_rate(rate)


def test_an_invalid_rate_in_the_environment_stops_the_settings_from_loading():
    result = run(["manage.py", "check"], production_env(API_THROTTLE_BURST_RATE="1/month"))

    assert result.returncode != 0
    assert "ImproperlyConfigured: Invalid API_THROTTLE_BURST_RATE '1/month'" in result.stderr


def _counters() -> dict[bytes, int]:
    """The throttle counters in the test Redis and their time to live (-1: no expiry)."""
    client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    pattern = f"{settings.CACHES['default']['KEY_PREFIX']}:*throttle:*"
    return {key: client.ttl(key) for key in client.scan_iter(match=pattern)}


def test_concurrent_hits_are_each_counted_once_and_the_counter_always_expires():
    """Eight threads count 400 hits of one caller at once: the counter says 400, and it has its
    expiry (it is created and given its expiry in one MULTI/EXEC, so no INCR can create a
    counter that never expires, which would refuse the caller for ever)."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        waits = list(pool.map(lambda _: throttling.count("t", "key:race", "1000/min"), range(400)))

    assert waits == [None] * 400
    (key, ttl), *others = _counters().items()
    assert others == []
    assert redis.Redis.from_url(settings.CACHES["default"]["LOCATION"]).get(key) == b"400"
    assert 0 < ttl <= 61


def test_taking_back_a_hit_whose_window_expired_leaves_nothing_that_lives_for_ever():
    hit = throttling._hit("t", "key:late", "1/min")
    assert hit is not None
    key, ttl, _ = hit
    client, name = throttling._counter(key)
    client.delete(name)  # the window ended between the hit and its refusal

    throttling._unhit(key, ttl)

    assert client.get(name) == b"-1"
    assert 0 < client.ttl(name) <= ttl
