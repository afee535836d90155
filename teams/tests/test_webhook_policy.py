"""Where webhooks may go (teams.webhooks.urls_policy): public https URLs only, checked in the
team's admin form and again before every attempt, the request sent to the address checked;
redirects not followed; old deliveries pruned by the sweep."""

from __future__ import annotations

import re
import socket
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from memories.services.memories import memory_create
from spirits.tests.factories import SpiritFactory
from teams.actors import Actor
from teams.tests.factories import TeamFactory
from teams.tests.webhook_receiver import WebhookReceiver
from teams.webhooks import services
from teams.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookStatus
from teams.webhooks.tasks import deliver_webhook, webhooks_sweep

SECRET = "whsec-test-0123456789"
USER = Actor(type="user", id="u1", label="tester")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    settings.WEBHOOK_BACKOFF_SECONDS = 0.01
    settings.WEBHOOK_BACKOFF_MAX_SECONDS = 0.05
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_TIMEOUT = 5


@pytest.fixture
def receiver():
    server = WebhookReceiver(SECRET).start()
    yield server
    server.stop()


def _delivery(url: str) -> WebhookDelivery:
    """A delivery of a memory.created to `url`, set on the team directly (as an older row, or
    one whose name now resolves elsewhere, would be: not through the admin's check)."""
    spirit = SpiritFactory(team=TeamFactory(webhook_url=url, webhook_secret=SECRET))
    memory_create(spirit=spirit, data={"content": "The user likes tea."}, actor=USER)
    return WebhookDelivery.objects.get()


def _send(delivery: WebhookDelivery) -> str:
    delivery.refresh_from_db()
    return deliver_webhook.apply(args=[str(delivery.pk), delivery.cycle, 1]).get()


# --- Registration: the team's admin form ---------------------------------------------------------


def _save_webhook_url(admin_client, team, url: str):
    return admin_client.post(
        reverse("admin:teams_team_change", args=[team.pk]),
        {
            "name": team.name,
            "slug": team.slug,
            "retention_days": "",
            "webhook_url": url,
            "webhook_secret": SECRET,
            "settings": "{}",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("https://127.0.0.1/hook", "127.0.0.1 is a loopback address"),
        ("https://localhost/hook", "localhost resolves to 127.0.0.1, which is a loopback address"),
        ("https://[::1]/hook", "::1 is a loopback address"),
        ("https://10.1.2.3/hook", "10.1.2.3 is a private address"),
        ("https://192.168.0.10/hook", "192.168.0.10 is a private address"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("https://[fe80::1]/hook", "fe80::1 is a link-local address"),
        ("https://[::ffff:127.0.0.1]/hook", "::ffff:127.0.0.1 is a loopback address"),
        ("https://[::ffff:169.254.169.254]/hook", "is a link-local address"),
        ("https://100.64.0.1/hook", "100.64.0.1 is not a public address"),
        ("https://0.0.0.0/hook", "0.0.0.0 is an unspecified address"),
        ("https://224.0.0.1/hook", "224.0.0.1 is a multicast address"),
    ],
)
def test_the_admin_refuses_a_webhook_url_that_is_not_public(admin_client, team, url, rule):
    response = _save_webhook_url(admin_client, team, url)
    assert response.status_code == 200  # the form again, with the error
    html = response.content.decode()
    assert rule in html and "webhooks are sent to public addresses only" in html
    team.refresh_from_db()
    assert team.webhook_url == ""


def test_the_admin_refuses_a_name_that_does_not_resolve(admin_client, team):
    response = _save_webhook_url(admin_client, team, "https://nowhere.invalid/hook")
    assert "The host nowhere.invalid could not be resolved." in response.content.decode()
    team.refresh_from_db()
    assert team.webhook_url == ""


def test_the_admin_accepts_a_public_address(admin_client, team):
    assert _save_webhook_url(admin_client, team, "https://93.184.215.14/hook").status_code == 302
    team.refresh_from_db()
    assert team.webhook_url == "https://93.184.215.14/hook"


def test_the_admin_refuses_http_unless_allowed(admin_client, team, settings):
    response = _save_webhook_url(admin_client, team, "http://93.184.215.14/hook")
    assert "Use an https:// URL" in response.content.decode()
    settings.WEBHOOK_ALLOW_HTTP = True
    assert _save_webhook_url(admin_client, team, "http://93.184.215.14/hook").status_code == 302


def test_the_admin_accepts_an_allowed_host_whatever_it_resolves_to(admin_client, team, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["localhost", "hooks.internal"]
    assert _save_webhook_url(admin_client, team, "https://localhost/hook").status_code == 302
    # not resolved at registration: the name may resolve only where the workers run
    assert _save_webhook_url(admin_client, team, "https://hooks.internal/x").status_code == 302


# --- Delivery ------------------------------------------------------------------------------------


def test_a_name_resolving_to_loopback_is_refused_at_delivery(receiver, settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    delivery = _delivery(f"http://localhost:{receiver.port}/hook")
    assert _send(delivery) == "failed"
    delivery.refresh_from_db()
    assert delivery.status == WebhookStatus.FAILED
    assert delivery.last_error.startswith(
        "URL refused: localhost resolves to 127.0.0.1, which is a loopback address"
    )
    assert delivery.attempts.count() == 1  # refused for good: not retried
    assert receiver.requests == []


def test_http_is_refused_at_delivery_unless_allowed(receiver, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    delivery = _delivery(receiver.url)
    assert _send(delivery) == "failed"
    delivery.refresh_from_db()
    assert delivery.last_error == (
        "URL refused: Use an https:// URL: http is allowed only with WEBHOOK_ALLOW_HTTP on."
    )
    assert receiver.requests == []


def test_an_allowed_host_is_delivered_to_with_its_name_as_host(receiver, settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_HOSTS = ["LocalHost"]
    delivery = _delivery(f"http://localhost:{receiver.port}/hook")
    assert _send(delivery) == "delivered"
    (request,) = receiver.requests
    assert request.headers["host"] == f"localhost:{receiver.port}"
    assert request.signature_valid


def test_the_request_goes_to_the_address_checked_not_a_new_resolution(
    receiver, settings, monkeypatch
):
    """DNS rebinding: the name resolves to the checked address once, then elsewhere (an
    unroutable TEST-NET address). The request still reaches the checked address, with the name
    in its Host header: the name is resolved once, by the check."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_HOSTS = ["rebinding.test"]
    real_getaddrinfo = socket.getaddrinfo
    lookups = []

    def rebinding(host, *args, **kwargs):
        if host != "rebinding.test":
            return real_getaddrinfo(host, *args, **kwargs)
        lookups.append(host)
        address = "127.0.0.1" if len(lookups) == 1 else "192.0.2.1"
        return real_getaddrinfo(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    settings.WEBHOOK_TIMEOUT = 2
    delivery = _delivery(f"http://rebinding.test:{receiver.port}/hook")
    assert _send(delivery) == "delivered"
    assert lookups == ["rebinding.test"]
    (request,) = receiver.requests
    assert request.headers["host"] == f"rebinding.test:{receiver.port}"


def test_a_name_that_does_not_resolve_is_retried(settings):
    delivery = _delivery("https://nowhere.invalid/hook")
    assert _send(delivery) == "failed"
    errors = list(delivery.attempts.values_list("error", flat=True))
    assert errors == ["URL refused: The host nowhere.invalid could not be resolved."] * 3


def test_a_redirect_is_not_followed(receiver, settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    target = WebhookReceiver(SECRET).start()
    try:
        receiver.script(302, headers={"Location": target.url})
        delivery = _delivery(receiver.url)
        assert _send(delivery) == "failed"
        assert target.requests == []
    finally:
        target.stop()
    assert len(receiver.requests) == 1
    (attempt,) = delivery.attempts.all()
    assert attempt.http_status == 302 and not attempt.succeeded
    assert attempt.error == "HTTP 302 (redirects are not followed)"


# --- Pruning -------------------------------------------------------------------------------------


def _aged(delivery: WebhookDelivery, days: float, status: str) -> WebhookDelivery:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        created_at=timezone.now() - timedelta(days=days), status=status
    )
    WebhookAttempt.objects.create(delivery=delivery, number=1, http_status=200, succeeded=True)
    return delivery


def _deliveries(team, n: int) -> list[WebhookDelivery]:
    return [
        services.webhook_emit(team_id=team.pk, event_type="memory.created", data={"n": i})
        for i in range(n)
    ]


def test_the_sweep_deletes_settled_deliveries_older_than_the_retention(settings, team):
    settings.WEBHOOK_DELIVERY_RETENTION_DAYS = 30
    team.webhook_url, team.webhook_secret = "https://93.184.215.14/hook", SECRET
    team.save()
    old_delivered, old_failed, old_pending, recent = _deliveries(team, 4)
    _aged(old_delivered, 31, WebhookStatus.DELIVERED)
    _aged(old_failed, 40, WebhookStatus.FAILED)
    _aged(old_pending, 40, WebhookStatus.PENDING)  # not settled yet: stays
    _aged(recent, 29, WebhookStatus.DELIVERED)
    webhooks_sweep.apply().get()
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {
        old_pending.pk,
        recent.pk,
    }
    assert set(WebhookAttempt.objects.values_list("delivery_id", flat=True)) == {
        old_pending.pk,
        recent.pk,
    }


def _deleted_table(sql: str) -> str | None:
    match = re.match(r'DELETE FROM "(\w+)"', sql)
    return match.group(1) if match else None


def test_pruning_deletes_in_batches_until_done(settings, team, monkeypatch):
    monkeypatch.setattr(services, "PRUNE_BATCH", 2, raising=False)
    team.webhook_url, team.webhook_secret = "https://93.184.215.14/hook", SECRET
    team.save()
    for delivery in _deliveries(team, 5):
        _aged(delivery, 90, WebhookStatus.DELIVERED)
    deletes = []

    def record_deletes(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if _deleted_table(sql) == WebhookDelivery._meta.db_table:
            deletes.append(context["cursor"].rowcount)
        return result

    with connection.execute_wrapper(record_deletes):
        assert services.webhooks_prune() == 5
    assert deletes == [2, 2, 1]
    assert not WebhookDelivery.objects.exists() and not WebhookAttempt.objects.exists()
