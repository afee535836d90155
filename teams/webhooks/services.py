"""Every write to webhook deliveries: emit, attempt (one signed POST, recorded), send again.

A delivery is created in the transaction of the change it reports and its task is enqueued
after that transaction commits, so a rolled-back change sends nothing. Each attempt first
claims its number with one conditional UPDATE (`attempt_count = number - 1` → `number`), so two
copies of the task (a redelivery, the sweep) never send the same attempt twice. The URL and the
secret are read from the team at send time.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from elephantasm.queueing import send_after_commit
from teams.models import Team

from . import signing, urls_policy
from .models import WebhookAttempt, WebhookDelivery, WebhookStatus

logger = logging.getLogger(__name__)

DELIVER_TASK = "teams.webhooks.deliver"  # its queue: settings.CELERY_TASK_ROUTES
RETRYABLE_STATUSES = frozenset({408, 429})
EXCERPT_BYTES = 500
PRUNE_BATCH = 1000  # deliveries deleted per transaction by webhooks_prune


def body_of(delivery: WebhookDelivery) -> bytes:
    """The exact bytes sent (and signed)."""
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()


def webhook_emit(
    *,
    team_id: UUID,
    event_type: str,
    data: dict[str, Any],
    spirit_id: UUID | None = None,
) -> WebhookDelivery | None:
    """Queue `event_type` for the team's webhook; nothing when it has no URL and secret."""
    team = Team.objects.filter(pk=team_id).values("webhook_url", "webhook_secret").first()
    if not team or not team["webhook_url"] or not team["webhook_secret"]:
        return None
    now = timezone.now()
    delivery_id = uuid4()
    payload = {
        "id": str(delivery_id),
        "type": event_type,
        "created_at": now.isoformat(),
        "team_id": str(team_id),
        "spirit_id": str(spirit_id) if spirit_id else None,
        "data": data,
    }
    delivery = WebhookDelivery.objects.create(
        id=delivery_id,
        created_at=now,
        team_id=team_id,
        spirit_id=spirit_id,
        event_type=event_type,
        payload=json.loads(json.dumps(payload, cls=DjangoJSONEncoder)),
        next_attempt_at=now,
    )
    _enqueue(delivery)
    return delivery


def _enqueue(delivery: WebhookDelivery, number: int = 1) -> None:
    """Attempt `number` of the delivery once this transaction commits (sent by name: teams sits
    below the pipeline wing, so it sends its one task itself)."""
    send_after_commit(DELIVER_TASK, str(delivery.pk), delivery.cycle, number)


@transaction.atomic
def webhook_send_again(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Start a new cycle of attempts (the earlier attempts stay recorded)."""
    locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    locked.cycle += 1
    locked.attempt_count = 0
    locked.status = WebhookStatus.PENDING
    locked.next_attempt_at = timezone.now()
    locked.delivered_at = None
    locked.last_error = ""
    locked.save()
    _enqueue(locked)
    return locked


@dataclass(frozen=True)
class Outcome:
    state: str  # "skipped", "delivered", "retry" or "failed"
    wait: float | None = None  # seconds until the next attempt ("retry")


def _backoff(number: int, retry_after: float | None) -> float:
    cap = settings.WEBHOOK_BACKOFF_MAX_SECONDS
    if retry_after is not None:
        return min(retry_after, cap)
    delay = min(settings.WEBHOOK_BACKOFF_SECONDS * 2 ** (number - 1), cap)
    return delay * random.uniform(0.5, 1.0)


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _claim(delivery_id, cycle: int, number: int, now: datetime) -> bool:
    lease = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT + 60)
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery_id, status=WebhookStatus.PENDING, cycle=cycle, attempt_count=number - 1
        ).update(attempt_count=number, next_attempt_at=lease, updated_at=now)
    )


def _post(team: Team, delivery: WebhookDelivery) -> tuple[dict[str, Any], bool, float | None]:
    """One POST. Returns the attempt's fields, whether it may pass, and a Retry-After.

    The URL is checked again first (urls_policy): a refused one fails the delivery at once, a
    name that does not resolve is retried like a connection error."""
    body = body_of(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "elephantasm-webhooks",
        signing.EVENT_HEADER: delivery.event_type,
        signing.DELIVERY_HEADER: str(delivery.pk),
        signing.SIGNATURE_HEADER: signing.signature_header(team.webhook_secret, body),
    }
    started = time.monotonic()
    try:
        destination = urls_policy.check_url(team.webhook_url)
        status, excerpt, retry_after = _request(destination, body, headers)
    except urls_policy.UrlRefused as exc:
        error = f"URL refused: {exc.message}"
        return {"error": error[:EXCERPT_BYTES], "latency_ms": _ms(started)}, exc.transient, None
    except httpx.TimeoutException:
        error = f"no answer in {settings.WEBHOOK_TIMEOUT}s"
        return {"error": error, "latency_ms": _ms(started)}, True, None
    except (httpx.TransportError, httpx.InvalidURL) as exc:
        error = f"connection failed: {type(exc).__name__}"
        return {"error": error, "latency_ms": _ms(started)}, True, None
    fields = {
        "latency_ms": _ms(started),
        "http_status": status,
        "response_excerpt": excerpt[:EXCERPT_BYTES].decode("utf-8", "replace"),
        "succeeded": 200 <= status < 300,
    }
    if 300 <= status < 400:
        fields["error"] = f"HTTP {status} (redirects are not followed)"
    elif not fields["succeeded"]:
        fields["error"] = f"HTTP {status}"
    return fields, status in RETRYABLE_STATUSES or status >= 500, retry_after


def _request(
    destination: urls_policy.Destination, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes, float | None]:
    """POST to an address the policy checked, never to a fresh resolution of the name (which
    could point elsewhere by now: DNS rebinding). The URL's host is replaced by the address;
    the Host header and TLS (SNI and the certificate's name, httpx's `sni_hostname`) keep the
    name. The addresses are tried in order while a connection is refused. Redirects are not
    followed, and proxies from the environment are not used (they would resolve the name)."""
    headers = {**headers, "Host": destination.host_header}
    extensions = {"sni_hostname": destination.host}
    *others, last = destination.addresses
    with httpx.Client(
        timeout=settings.WEBHOOK_TIMEOUT, follow_redirects=False, trust_env=False
    ) as client:
        for address in others:
            try:
                return _post_to(client, destination.pinned(address), body, headers, extensions)
            except httpx.ConnectError:
                continue
        return _post_to(client, destination.pinned(last), body, headers, extensions)


def _post_to(client: httpx.Client, url, body, headers, extensions):
    """(status, the first EXCERPT_BYTES of the answer, its Retry-After in seconds)."""
    with client.stream("POST", url, content=body, headers=headers, extensions=extensions) as r:
        excerpt = b""
        for chunk in r.iter_bytes():
            excerpt += chunk
            if len(excerpt) >= EXCERPT_BYTES:
                break
        return r.status_code, excerpt, _retry_after(r.headers.get("Retry-After"))


def webhook_attempt(*, delivery_id, cycle: int, number: int) -> Outcome:
    """Attempt `number` of `cycle`: claim it, POST, record it, and say what comes next.
    A copy of the task whose attempt was already claimed (or a delivery gone) is "skipped"."""
    if not _claim(delivery_id, cycle, number, timezone.now()):
        return Outcome("skipped")
    delivery = WebhookDelivery.objects.select_related("team").filter(pk=delivery_id).first()
    if delivery is None:  # purged meanwhile
        return Outcome("skipped")
    team = delivery.team
    if team.webhook_url and team.webhook_secret:
        fields, retryable, retry_after = _post(team, delivery)
    else:
        fields, retryable, retry_after = {"error": "the team has no webhook any more"}, False, None
    now = timezone.now()
    with transaction.atomic():
        current = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if current is None:  # removed meanwhile (a purge, or retention): nothing to record
            return Outcome("skipped")
        attempt = WebhookAttempt.objects.create(
            delivery=delivery, cycle=cycle, number=number, created_at=now, **fields
        )
        if current.cycle != cycle:  # sent again meanwhile
            return Outcome("skipped")
        if attempt.succeeded:
            current.status, current.delivered_at = WebhookStatus.DELIVERED, now
            current.next_attempt_at, current.last_error = None, ""
            outcome = Outcome("delivered")
        elif retryable and number < settings.WEBHOOK_MAX_ATTEMPTS:
            wait = _backoff(number, retry_after)
            current.next_attempt_at = now + timedelta(seconds=wait)
            current.last_error = attempt.error
            outcome = Outcome("retry", wait)
        else:
            current.status, current.next_attempt_at = WebhookStatus.FAILED, None
            current.last_error = attempt.error
            outcome = Outcome("failed")
        current.save()
    log = logger.info if outcome.state == "delivered" else logger.warning
    log(
        "webhook %s %s attempt %d.%d: %s",
        delivery.event_type,
        delivery.pk,
        cycle,
        number,
        outcome.state if attempt.succeeded else f"{outcome.state} ({attempt.error})",
    )
    return outcome


def webhooks_due(*, now: datetime | None = None, limit: int = 1000) -> list[tuple[str, int, int]]:
    """Pending deliveries whose next attempt is overdue by WEBHOOK_SWEEP_GRACE_SECONDS (their
    task was lost): (id, cycle, next attempt number) for the sweep to enqueue."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.WEBHOOK_SWEEP_GRACE_SECONDS)
    rows = (
        WebhookDelivery.objects.filter(status=WebhookStatus.PENDING, next_attempt_at__lte=cutoff)
        .order_by("next_attempt_at")
        .values_list("pk", "cycle", "attempt_count")[:limit]
    )
    return [(str(pk), cycle, count + 1) for pk, cycle, count in rows]


def webhooks_prune(*, now: datetime | None = None) -> int:
    """Delete delivered and failed deliveries (with their attempts) created more than
    WEBHOOK_DELIVERY_RETENTION_DAYS ago, PRUNE_BATCH per transaction; a pending one stays until
    it is settled. Returns how many deliveries."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.WEBHOOK_DELIVERY_RETENTION_DAYS)
    old = WebhookDelivery.objects.filter(created_at__lt=cutoff).exclude(
        status=WebhookStatus.PENDING
    )
    total = 0
    while True:
        with transaction.atomic():
            # locked, so a "send again" meanwhile either waits or is skipped (and stays)
            batch = list(
                old.select_for_update(skip_locked=True)
                .order_by()
                .values_list("pk", flat=True)[:PRUNE_BATCH]
            )
            if not batch:
                break
            # only the ids are loaded; the attempts go by the cascade, in one statement
            WebhookDelivery.objects.filter(pk__in=batch).only("pk").delete()
        total += len(batch)
    if total:
        logger.info("webhooks: pruned %d deliveries created before %s", total, cutoff.isoformat())
    return total


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
