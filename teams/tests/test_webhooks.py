"""Webhooks: emission in the change's transaction, signed delivery to a real loopback server,
retries with backoff, giving up, send again, and the admin."""

from __future__ import annotations

import socket

import pytest
from django.db import connection, transaction
from django.urls import reverse

from memories.models import DreamTrigger
from memories.services.knowledge import knowledge_close, knowledge_create
from memories.services.memories import memory_archive, memory_create, memory_update
from pipeline.dreamer.run import dream_request, dream_run
from spirits.tests.factories import SpiritFactory
from teams.actors import Actor
from teams.tests.admin_utils import message_texts, run_action
from teams.tests.factories import TeamFactory
from teams.tests.webhook_receiver import WebhookReceiver
from teams.webhooks import services, signing
from teams.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookStatus
from teams.webhooks.services import webhook_send_again, webhooks_due
from teams.webhooks.tasks import deliver_webhook

SECRET = "whsec-test-0123456789"
USER = Actor(type="user", id="u1", label="tester")

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    """The loopback receiver, and the policy exception it needs (http, a loopback host)."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    server = WebhookReceiver(SECRET).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    settings.WEBHOOK_BACKOFF_SECONDS = 0.01
    settings.WEBHOOK_BACKOFF_MAX_SECONDS = 0.05
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_TIMEOUT = 5


@pytest.fixture
def hooked_spirit(receiver):
    team = TeamFactory(webhook_url=receiver.url, webhook_secret=SECRET)
    return SpiritFactory(team=team)


def _create_memory(spirit, **data):
    return memory_create(spirit=spirit, data={"content": "The user likes tea.", **data}, actor=USER)


def _types() -> list[str]:
    return list(WebhookDelivery.objects.order_by("created_at").values_list("event_type", flat=True))


def _send(delivery: WebhookDelivery, number: int = 1) -> str:
    delivery.refresh_from_db()
    return deliver_webhook.apply(args=[str(delivery.pk), delivery.cycle, number]).get()


def test_no_delivery_without_a_webhook_url(spirit):
    _create_memory(spirit)
    assert not WebhookDelivery.objects.exists()


def test_no_delivery_without_a_secret(spirit):
    spirit.team.webhook_url = "https://example.com/hook"
    spirit.team.save()
    _create_memory(spirit)
    assert not WebhookDelivery.objects.exists()


def test_memory_created_is_queued_in_the_same_transaction_and_sent_after_commit(
    hooked_spirit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        memory = _create_memory(hooked_spirit)
    delivery = WebhookDelivery.objects.get()
    assert delivery.event_type == "memory.created"
    assert delivery.status == WebhookStatus.PENDING
    # the delivery task is enqueued only once the change commits (with the memory's embedding and
    # extraction: a person's write joins the pipeline)
    assert len(callbacks) == 3
    payload = delivery.payload
    assert payload["id"] == str(delivery.pk)
    assert payload["type"] == "memory.created"
    assert payload["team_id"] == str(hooked_spirit.team_id)
    assert payload["spirit_id"] == str(hooked_spirit.pk)
    assert payload["data"]["object_id"] == str(memory.pk)
    assert payload["data"]["action"] == "create"
    assert payload["data"]["state"]["content"] == "The user likes tea."


def test_a_rolled_back_change_leaves_no_delivery(hooked_spirit):
    with pytest.raises(RuntimeError), transaction.atomic():
        _create_memory(hooked_spirit)
        raise RuntimeError("roll back")
    assert not WebhookDelivery.objects.exists()


def test_memory_update_and_archive_have_their_own_event_types(hooked_spirit):
    memory = _create_memory(hooked_spirit)
    memory_update(memory=memory, data={"summary": "tea"}, actor=USER)
    memory_archive(memory=memory, actor=USER)
    types = list(
        WebhookDelivery.objects.order_by("created_at").values_list("event_type", flat=True)
    )
    assert types == ["memory.created", "memory.updated", "memory.archived"]


def test_knowledge_changes_are_sent(hooked_spirit):
    item = knowledge_create(
        spirit=hooked_spirit, data={"knowledge_type": "FACT", "content": "Paris"}, actor=USER
    )
    knowledge_close(knowledge=item, actor=USER)
    types = list(
        WebhookDelivery.objects.order_by("created_at").values_list("event_type", flat=True)
    )
    assert types == ["knowledge.created", "knowledge.closed"]


def test_dream_completed_is_sent(hooked_spirit):
    _create_memory(hooked_spirit)
    session = dream_request(spirit=hooked_spirit, trigger=DreamTrigger.API, actor=USER)
    dream_run(session_id=session.pk)
    delivery = WebhookDelivery.objects.get(event_type="dream.completed")
    assert delivery.payload["data"]["dream_id"] == str(session.pk)
    assert delivery.payload["data"]["status"] == "completed"


def test_delivery_is_signed_and_recorded(hooked_spirit, receiver):
    _create_memory(hooked_spirit)
    delivery = WebhookDelivery.objects.get()
    assert _send(delivery) == "delivered"
    (request,) = receiver.requests
    assert request.signature_valid  # checked by the server over the raw body it received
    assert request.headers["x-elephantasm-event"] == "memory.created"
    assert request.headers["x-elephantasm-delivery"] == str(delivery.pk)
    assert request.body == delivery.payload
    delivery.refresh_from_db()
    assert delivery.status == WebhookStatus.DELIVERED
    assert delivery.delivered_at is not None
    (attempt,) = delivery.attempts.all()
    assert attempt.succeeded and attempt.http_status == 200
    assert attempt.response_excerpt == "ok"


def test_signature_is_hmac_sha256_over_timestamp_and_body():
    header = signing.signature_header("s3cret", b'{"a":1}', timestamp=1_700_000_000)
    import hashlib
    import hmac

    expected = hmac.new(b"s3cret", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert signing.verify("s3cret", b'{"a":1}', header, now=1_700_000_010)
    assert not signing.verify("other", b'{"a":1}', header, now=1_700_000_010)
    assert not signing.verify("s3cret", b'{"a":2}', header, now=1_700_000_010)
    assert not signing.verify("s3cret", b'{"a":1}', header, now=1_700_009_999)  # too old


def test_a_500_is_retried_and_then_delivered(hooked_spirit, receiver):
    receiver.script(500)
    _create_memory(hooked_spirit)
    delivery = WebhookDelivery.objects.get()
    assert _send(delivery) == "delivered"
    delivery.refresh_from_db()
    assert delivery.status == WebhookStatus.DELIVERED
    assert delivery.attempt_count == 2
    statuses = list(delivery.attempts.values_list("http_status", "succeeded", "error"))
    assert statuses == [(500, False, "HTTP 500"), (200, True, "")]
    assert len(receiver.requests) == 2


def test_429_is_retried(hooked_spirit, receiver):
    receiver.script(429)
    _create_memory(hooked_spirit)
    assert _send(WebhookDelivery.objects.get()) == "delivered"


def test_gives_up_after_max_attempts(hooked_spirit, receiver):
    receiver.script(503, 502, 500, 500)
    _create_memory(hooked_spirit)
    delivery = WebhookDelivery.objects.get()
    assert _send(delivery) == "failed"
    delivery.refresh_from_db()
    assert delivery.status == WebhookStatus.FAILED
    assert delivery.attempt_count == 3
    assert delivery.last_error == "HTTP 500"
    assert delivery.next_attempt_at is None
    assert delivery.attempts.count() == 3


def test_a_4xx_other_than_408_and_429_fails_at_once(hooked_spirit, receiver):
    receiver.script(410)
    _create_memory(hooked_spirit)
    delivery = WebhookDelivery.objects.get()
    assert _send(delivery) == "failed"
    assert delivery.attempts.count() == 1


def test_connection_errors_are_retried_and_recorded(spirit, settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    spirit.team.webhook_url = f"http://127.0.0.1:{port}/hook"
    spirit.team.webhook_secret = SECRET
    spirit.team.save()
    _create_memory(spirit)
    delivery = WebhookDelivery.objects.get()
    assert _send(delivery) == "failed"
    errors = list(delivery.attempts.values_list("error", flat=True))
    assert len(errors) == 3
    assert all(e.startswith("connection failed") for e in errors)


def test_send_again_starts_a_new_cycle(hooked_spirit, receiver, django_capture_on_commit_callbacks):
    receiver.script(500, 500, 500)
    _create_memory(hooked_spirit)
    delivery = WebhookDelivery.objects.get()
    assert _send(delivery) == "failed"
    with django_capture_on_commit_callbacks() as callbacks:
        webhook_send_again(delivery=delivery)
    assert len(callbacks) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.cycle, delivery.attempt_count) == ("pending", 2, 0)
    assert _send(delivery) == "delivered"
    delivery.refresh_from_db()
    assert delivery.status == WebhookStatus.DELIVERED
    cycles = list(delivery.attempts.values_list("cycle", "number", "succeeded"))
    assert cycles == [(1, 1, False), (1, 2, False), (1, 3, False), (2, 1, True)]


def test_a_second_copy_of_an_attempt_is_skipped(hooked_spirit, receiver):
    _create_memory(hooked_spirit)
    delivery = WebhookDelivery.objects.get()
    assert _send(delivery) == "delivered"
    assert deliver_webhook.apply(args=[str(delivery.pk), 1, 1]).get() == "skipped"
    assert len(receiver.requests) == 1


def test_a_delivery_removed_during_its_request_records_nothing(hooked_spirit, monkeypatch):
    """Retention or a purge may remove a delivery while its request is in flight: the attempt
    is skipped, and no attempt row is left pointing at the removed delivery."""
    _create_memory(hooked_spirit)
    delivery = WebhookDelivery.objects.get()

    def post_while_removed(team, sent):
        WebhookDelivery.objects.filter(pk=sent.pk).delete()
        return {"http_status": 200, "succeeded": True, "latency_ms": 1}, False, None

    monkeypatch.setattr(services, "_post", post_while_removed)

    assert _send(delivery) == "skipped"
    assert not WebhookAttempt.objects.exists()
    connection.check_constraints()  # no attempt refers to a delivery that is gone


def test_the_sweep_finds_overdue_pending_deliveries(hooked_spirit, settings):
    from datetime import timedelta

    from django.utils import timezone

    _create_memory(hooked_spirit)
    delivery = WebhookDelivery.objects.get()
    assert webhooks_due() == []  # due now, not overdue: its own task is on the way
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(hours=1)
    )
    assert webhooks_due() == [(str(delivery.pk), 1, 1)]


# --- Admin ---------------------------------------------------------------------------------------


def test_admin_lists_deliveries_and_shows_attempts(admin_client, hooked_spirit, receiver):
    receiver.script(500)
    _create_memory(hooked_spirit)
    delivery = WebhookDelivery.objects.get()
    _send(delivery)
    changelist = reverse("admin:teams_webhookdelivery_changelist")
    assert admin_client.get(changelist, {"status": "delivered"}).status_code == 200
    page = admin_client.get(reverse("admin:teams_webhookdelivery_change", args=[delivery.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "HTTP 500" in html and "memory.created" in html


def test_admin_send_again_action(
    admin_client, hooked_spirit, receiver, django_capture_on_commit_callbacks
):
    receiver.script(400)
    _create_memory(hooked_spirit)
    delivery = WebhookDelivery.objects.get()
    assert _send(delivery) == "failed"
    changelist = reverse("admin:teams_webhookdelivery_changelist")
    with django_capture_on_commit_callbacks() as callbacks:
        response = run_action(admin_client, changelist, "send_again", [delivery])
    assert "Queued 1 delivery(ies) again." in message_texts(response)
    assert len(callbacks) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.cycle) == ("pending", 2)


def test_team_admin_never_shows_the_secret_and_blank_keeps_it(admin_client, hooked_spirit):
    team = hooked_spirit.team
    url = reverse("admin:teams_team_change", args=[team.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert SECRET not in page.content.decode()
    form = {
        "name": team.name,
        "slug": team.slug,
        "retention_days": "",
        "webhook_url": team.webhook_url,
        "webhook_secret": "",
        "settings": "{}",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.webhook_secret == SECRET
    response = admin_client.post(url, {**form, "webhook_secret": "a-new-one"})
    team.refresh_from_db()
    assert team.webhook_secret == "a-new-one"


def test_team_admin_generates_a_secret_shown_once(admin_client, team, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["example.com"]  # no DNS needed
    url = reverse("admin:teams_team_change", args=[team.pk])
    form = {
        "name": team.name,
        "slug": team.slug,
        "retention_days": "",
        "webhook_url": "https://example.com/hook",
        "webhook_secret": "",
        "settings": "{}",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url, form, follow=True)
    team.refresh_from_db()
    assert len(team.webhook_secret) >= 32
    assert any(team.webhook_secret in m for m in message_texts(response))
