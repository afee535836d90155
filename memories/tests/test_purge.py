"""Purge: a spirit and everything of it hard-deleted; the audit log keeps ids, actions, times."""

from __future__ import annotations

import ast
import inspect
import re
from collections import Counter

import pytest
from django.db import connection
from django.urls import reverse

from elephantasm.api.errors import ValidationFailed
from events.models import Event, EventEmbedding
from events.tests.factories import EventFactory
from memories.models import AuditEntry, DreamSession, Knowledge, Lesson, Memory
from memories.services import purge, retention
from memories.services.purge import spirit_purge
from spirits.models import Spirit
from spirits.services import spirit_soft_delete
from spirits.tests.factories import SpiritFactory
from teams.tests.admin_utils import message_texts, run_action
from teams.webhooks.models import WebhookDelivery

from .purge_fixtures import ACTOR, fill_spirit, rows_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def full_spirit(spirit):
    fill_spirit(spirit)
    return spirit


@pytest.fixture
def bystander(team):
    """Another spirit of the same team, with the same kinds of rows: must stay untouched."""
    other = SpiritFactory(team=team)
    fill_spirit(other, content="Bystander content.")
    return other


def test_the_fixture_fills_every_table(full_spirit):
    assert all(rows_of(full_spirit.pk).values()), rows_of(full_spirit.pk)


def test_purge_deletes_every_row_of_the_spirit(full_spirit, bystander):
    before_other = rows_of(bystander.pk)
    result = spirit_purge(spirit=full_spirit, actor=ACTOR, confirm=full_spirit.name)
    assert not Spirit.all_objects.filter(pk=full_spirit.pk).exists()
    assert set(rows_of(full_spirit.pk).values()) == {0}
    assert rows_of(bystander.pk) == before_other
    deleted = result["deleted"]
    assert deleted["spirits.Spirit"] == 1
    assert deleted["events.Event"] == 3
    assert deleted["events.EventEmbedding"] == 3
    assert deleted["memories.Memory"] == 2
    assert deleted["memories.Knowledge"] == 1
    assert deleted["memories.LlmCall"] == 1


def test_purge_scrubs_the_audit_log_to_ids_actions_and_times(full_spirit, bystander):
    entries = list(AuditEntry.objects.filter(spirit_id=full_spirit.pk).order_by("id"))
    assert any(e.after for e in entries)
    result = spirit_purge(spirit=full_spirit, actor=ACTOR, confirm=str(full_spirit.pk))
    assert result["audit_scrubbed"] == len(entries)
    kept = {e.pk: e for e in AuditEntry.objects.filter(spirit_id=full_spirit.pk)}
    for old in entries:
        new = kept[old.pk]
        assert (new.object_type, new.object_id, new.action, new.created_at) == (
            old.object_type,
            old.object_id,
            old.action,
            old.created_at,
        )
        assert (new.actor_type, new.actor_id, new.related_ids) == (
            old.actor_type,
            old.actor_id,
            old.related_ids,
        )
        assert new.before is None and new.after is None and new.related_after is None
        assert new.reason == "" and new.actor_label == ""
    final = AuditEntry.objects.get(spirit_id=full_spirit.pk, object_type="spirit")
    assert final.action == "purge" and final.object_id == full_spirit.pk
    assert final.before is None and final.after is None
    assert "secret is 42" not in str(list(AuditEntry.objects.values()))
    # The bystander's entries keep their content.
    assert AuditEntry.objects.filter(spirit_id=bystander.pk, after__isnull=False).exists()


def test_purge_needs_the_name_or_id_as_confirmation(full_spirit):
    with pytest.raises(ValidationFailed) as caught:
        spirit_purge(spirit=full_spirit, actor=ACTOR, confirm="not it")
    assert "confirm" in caught.value.details
    assert Spirit.all_objects.filter(pk=full_spirit.pk).exists()


def test_purge_of_a_soft_deleted_spirit(full_spirit):
    spirit_soft_delete(spirit=full_spirit)
    spirit_purge(spirit=full_spirit, actor=ACTOR, confirm=full_spirit.name)
    assert set(rows_of(full_spirit.pk).values()) == {0}


def test_purge_sends_purge_completed(full_spirit):
    team = full_spirit.team
    team.webhook_url, team.webhook_secret = "https://example.com/hook", "s"
    team.save()
    spirit_purge(spirit=full_spirit, actor=ACTOR, confirm=full_spirit.name)
    (delivery,) = WebhookDelivery.objects.filter(spirit_id=full_spirit.pk)
    assert delivery.event_type == "purge.completed"
    assert delivery.payload["data"]["scope"] == "spirit"
    assert delivery.payload["data"]["deleted"]["memories.Memory"] == 2
    assert "secret is 42" not in str(delivery.payload)


def test_purge_and_retention_use_public_django_apis_only():
    """No private Django API (QuerySet._raw_delete, the deletion Collector, ...): `_meta` is
    the documented Options API; anything else starting with "_" on an object is private."""
    private = set()
    for module in (purge, retention):
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            attr = getattr(node, "attr", "")
            if attr.startswith("_") and not attr.startswith("__") and attr != "_meta":
                private.add(f"{module.__name__}: .{attr}")
            if isinstance(node, ast.ImportFrom) and node.module == "django.db.models.deletion":
                private.add(f"{module.__name__}: django.db.models.deletion")
    assert not private, sorted(private)


def _deletes_per_table(sqls: list[str]) -> Counter:
    return Counter(m.group(1) for sql in sqls if (m := re.match(r'DELETE FROM "(\w+)"', sql)))


def test_purge_deletes_each_large_table_in_one_statement_without_loading_it(spirit):
    """Events and their vectors, memories, knowledge and lessons go in one DELETE each, however
    many (more than the 100 ids per DELETE of Django's collector here); no event row is read."""
    fill_spirit(spirit)
    EventFactory.create_batch(150, spirit=spirit)
    sqls: list[str] = []

    def record(execute, sql, params, many, context):
        sqls.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        result = spirit_purge(spirit=spirit, actor=ACTOR, confirm=spirit.name)
    assert result["deleted"]["events.Event"] == 153
    deletes = _deletes_per_table(sqls)
    for model in (Event, EventEmbedding, Memory, Knowledge, Lesson, DreamSession):
        assert deletes[model._meta.db_table] == 1, (model, deletes)
    assert not [sql for sql in sqls if '"events_event"."content"' in sql]


# --- API -----------------------------------------------------------------------------------------


def _purge_url(spirit) -> str:
    return f"/api/v1/spirits/{spirit.pk}/purge/"


def test_api_purge_answers_with_counts(api, full_spirit):
    response = api.post(_purge_url(full_spirit), {"confirm": full_spirit.name}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["spirit_id"] == str(full_spirit.pk)
    assert body["deleted"]["spirits.Spirit"] == 1
    assert not Spirit.all_objects.filter(pk=full_spirit.pk).exists()


def test_api_purge_refuses_a_wrong_confirmation(api, full_spirit):
    response = api.post(_purge_url(full_spirit), {"confirm": "nope"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "confirm" in error["details"]
    assert Spirit.all_objects.filter(pk=full_spirit.pk).exists()


def test_api_purge_needs_a_confirmation(api, full_spirit):
    response = api.post(_purge_url(full_spirit), {}, format="json")
    assert response.status_code == 400
    assert "confirm" in response.json()["error"]["details"]


def test_api_purge_of_a_soft_deleted_spirit(api, full_spirit):
    spirit_soft_delete(spirit=full_spirit)
    response = api.post(_purge_url(full_spirit), {"confirm": full_spirit.name}, format="json")
    assert response.status_code == 200


def test_api_purge_of_a_foreign_spirit_is_a_404(other_api, full_spirit):
    response = other_api.post(_purge_url(full_spirit), {"confirm": full_spirit.name}, format="json")
    assert response.status_code == 404
    assert Spirit.all_objects.filter(pk=full_spirit.pk).exists()


# --- Admin ---------------------------------------------------------------------------------------

CHANGELIST = "admin:spirits_spirit_changelist"


def test_admin_purge_shows_a_confirmation_page_first(admin_client, full_spirit):
    response = admin_client.post(
        reverse(CHANGELIST),
        {"action": "purge_selected", "_selected_action": [str(full_spirit.pk)]},
    )
    assert response.status_code == 200
    assert "Purge spirits permanently?" in response.content.decode()
    assert Spirit.all_objects.filter(pk=full_spirit.pk).exists()


def test_admin_purge_after_confirmation(admin_client, full_spirit, bystander):
    response = admin_client.post(
        reverse(CHANGELIST),
        {"action": "purge_selected", "_selected_action": [str(full_spirit.pk)], "post": "yes"},
        follow=True,
    )
    assert "Purged 1 spirit(s) permanently." in message_texts(response)
    assert set(rows_of(full_spirit.pk).values()) == {0}
    assert Spirit.all_objects.filter(pk=bystander.pk).exists()


def test_admin_purge_is_for_superusers_and_team_owners_only(full_spirit):
    from teams.tests.admin_utils import action_names, staff_client

    client = staff_client(team=full_spirit.team, models=["spirits.spirit"], role="admin")
    response = client.get(reverse(CHANGELIST))
    assert "purge_selected" not in action_names(response)
    response = run_action(client, reverse(CHANGELIST), "purge_selected", [full_spirit])
    assert Spirit.all_objects.filter(pk=full_spirit.pk).exists()
