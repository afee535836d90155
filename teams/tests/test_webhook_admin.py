"""Webhook deliveries in the admin name what they were about and the spirit, linked."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import reverse

from spirits.tests.factories import SpiritFactory
from teams.tests.admin_utils import staff_client
from teams.webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:teams_webhookdelivery_changelist"


def delivery(spirit, event_type: str, data: dict, *, spirit_id=None) -> WebhookDelivery:
    spirit_id = spirit_id or spirit.pk
    return WebhookDelivery.objects.create(
        team=spirit.team,
        spirit_id=spirit_id,
        event_type=event_type,
        payload={"type": event_type, "spirit_id": str(spirit_id), "data": data},
    )


def cells(html: str, name: str) -> list[str]:
    return re.findall(rf'<t[dh] class="field-{name}"[^>]*>(.*?)</t[dh]>', html, re.S)


def test_deliveries_name_their_memory_and_spirit(admin_client, spirit):
    memory_id = uuid.uuid4()
    delivery(
        spirit,
        "memory.updated",
        {"object_type": "memory", "object_id": str(memory_id), "state": {"summary": "Ada's tea"}},
    )

    body = admin_client.get(reverse(CHANGELIST)).content.decode()

    subject = cells(body, "subject")[0]
    assert "Ada&#x27;s tea" in subject
    assert reverse("admin:memories_memory_change", args=[memory_id]) in subject
    spirit_cell = cells(body, "spirit")[0]
    assert spirit.name in spirit_cell
    assert reverse("admin:spirits_spirit_change", args=[spirit.pk]) in spirit_cell


def test_dream_and_purge_deliveries_say_what_happened(admin_client, spirit):
    dream_id = uuid.uuid4()
    delivery(spirit, "dream.completed", {"dream_id": str(dream_id), "trigger": "schedule",
                                         "status": "completed"})  # fmt: skip
    delivery(
        spirit, "purge.completed", {"scope": "spirit", "deleted": {"memories": 3, "events": 0}}
    )

    body = admin_client.get(reverse(CHANGELIST)).content.decode()

    subjects = " ".join(cells(body, "subject"))
    assert "dream (schedule, completed)" in subjects
    assert reverse("admin:memories_dreamsession_change", args=[dream_id]) in subjects
    assert "purge of the spirit: 3 memories" in subjects


def test_a_delivery_of_a_purged_spirit_says_so(admin_client, spirit):
    delivery(spirit, "purge.completed", {"scope": "spirit", "deleted": {}}, spirit_id=uuid.uuid4())

    body = admin_client.get(reverse(CHANGELIST)).content.decode()

    assert "a purged spirit" in cells(body, "spirit")[0]


def test_the_delivery_page_names_its_subject(admin_client, spirit):
    sent = delivery(
        spirit,
        "knowledge.created",
        {"object_type": "knowledge", "object_id": str(uuid.uuid4()), "state": {"topic": "Tea"}},
    )

    page = admin_client.get(reverse("admin:teams_webhookdelivery_change", args=[sent.pk]))

    assert page.status_code == 200
    assert "knowledge" in page.content.decode() and ">Tea</a>" in page.content.decode()


def test_staff_see_only_their_teams_deliveries(team, spirit, other_team):
    delivery(spirit, "memory.created", {"object_type": "memory", "state": {"summary": "ours"}})
    theirs = SpiritFactory(team=other_team)
    delivery(theirs, "memory.created", {"object_type": "memory", "state": {"summary": "theirs"}})
    client = staff_client(team=team, models=["teams.webhookdelivery"])

    body = client.get(reverse(CHANGELIST)).content.decode()

    assert "ours" in body and "theirs" not in body
