"""The append-only trigger after migration 0008: only a scrub (clearing content, nothing else,
with elephantasm.audit_scrub on in the transaction) may update an entry; DELETE never."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.utils import InternalError, ProgrammingError

from memories import audit
from memories.models import AuditEntry
from memories.services.memories import memory_create
from teams.actors import Actor

REFUSED = (IntegrityError, InternalError, ProgrammingError)
ACTOR = Actor(type="user", id="u1", label="curator")

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(spirit):
    memory = memory_create(
        spirit=spirit, data={"content": "The sky is blue."}, actor=ACTOR, reason="why"
    )
    return AuditEntry.objects.get(object_id=memory.pk)


def _scrub_on(cursor) -> None:
    cursor.execute("SET LOCAL elephantasm.audit_scrub = 'on'")


def test_scrub_clears_content_and_keeps_ids_actions_and_times(entry):
    with transaction.atomic():
        assert audit.scrub(AuditEntry.objects.filter(pk=entry.pk)) == 1
    fresh = AuditEntry.objects.get(pk=entry.pk)
    assert fresh.after is None and fresh.reason == "" and fresh.actor_label == ""
    assert (fresh.object_id, fresh.action, fresh.created_at) == (
        entry.object_id,
        entry.action,
        entry.created_at,
    )


def test_scrub_turns_itself_off_after_its_statement(entry):
    with transaction.atomic():
        audit.scrub(AuditEntry.objects.filter(pk=entry.pk))
        with pytest.raises(REFUSED, match="append-only"), transaction.atomic():
            AuditEntry.objects.filter(pk=entry.pk).update(after=None)


def test_update_without_the_setting_is_still_refused(entry):
    with pytest.raises(REFUSED, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(after=None, before=None, reason="")


def test_delete_is_refused_even_with_the_setting(entry):
    with pytest.raises(REFUSED, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            _scrub_on(cursor)
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize(
    "change",
    [
        {"action": "delete"},
        {"object_id": "00000000-0000-0000-0000-000000000001"},
        {"actor_id": "someone-else"},
        {"related_ids": ["x"]},
        {"reason": "rewritten"},
        {"after": {"content": "forged"}},
    ],
    ids=lambda c: next(iter(c)),
)
def test_with_the_setting_only_clearing_content_is_allowed(entry, change):
    cleared = {
        "before": None,
        "after": None,
        "related_after": None,
        "reason": "",
        "actor_label": "",
    }
    with pytest.raises(REFUSED, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            _scrub_on(cursor)
        AuditEntry.objects.filter(pk=entry.pk).update(**{**cleared, **change})
    assert AuditEntry.objects.get(pk=entry.pk).after == entry.after


def test_a_time_change_is_refused_with_the_setting(entry):
    from datetime import timedelta

    with pytest.raises(REFUSED, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            _scrub_on(cursor)
        AuditEntry.objects.filter(pk=entry.pk).update(
            after=None, reason="", actor_label="", created_at=entry.created_at + timedelta(1)
        )
