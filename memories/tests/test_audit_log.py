import pytest
from django.db import IntegrityError, connection, transaction
from django.db.utils import InternalError, ProgrammingError

from memories import audit
from memories.models import AuditEntry
from memories.services.memories import memory_create, memory_update
from teams.actors import Actor

ACTOR = Actor.system("test")
REFUSED = (IntegrityError, InternalError, ProgrammingError)


@pytest.fixture
def entry(spirit):
    memory = memory_create(spirit=spirit, data={"content": "The sky is blue."}, actor=ACTOR)
    return AuditEntry.objects.get(object_id=memory.pk)


def test_database_refuses_update_of_an_audit_entry(entry):
    with pytest.raises(REFUSED, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(reason="rewritten")
    entry.refresh_from_db()
    assert entry.reason == ""


def test_database_refuses_delete_of_an_audit_entry(entry):
    with pytest.raises(REFUSED, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_database_refuses_truncate_of_the_audit_log(entry):
    with (
        pytest.raises(REFUSED, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        # The test connection opts in to TRUNCATE (for Django's flush); opt out as production is.
        cursor.execute("SET LOCAL elephantasm.allow_truncate = 'off'")
        cursor.execute("TRUNCATE memories_auditentry")
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_entry_records_actor_reason_and_snapshots(spirit):
    memory = memory_create(spirit=spirit, data={"content": "v1"}, actor=ACTOR)
    memory_update(
        memory=memory, data={"content": "v2"}, actor=Actor("user", "42", "ann"), reason="typo"
    )
    entry = audit.history("memory", memory.pk).last()
    assert (entry.action, entry.actor_type, entry.actor_id, entry.reason) == (
        "update",
        "user",
        "42",
        "typo",
    )
    assert entry.before["content"] == "v1" and entry.after["content"] == "v2"
    assert entry.team_id == spirit.team_id
