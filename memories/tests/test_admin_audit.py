"""The audit log in the admin: browsable and searchable, never writable."""

from __future__ import annotations

import pytest
from django.urls import reverse

from memories.models import AuditEntry
from memories.services import memories as svc
from memories.tests.test_admin_memories import SYSTEM, make_staff, result_ids

CHANGELIST = "admin:memories_auditentry_changelist"


@pytest.fixture
def entry(spirit) -> AuditEntry:
    memory = svc.memory_create(spirit=spirit, data={"content": "c"}, actor=SYSTEM)
    svc.memory_update(
        memory=memory, data={"content": "d"}, actor=SYSTEM, reason="typo in the content"
    )
    return AuditEntry.objects.get(object_id=memory.pk, action="update")


@pytest.mark.parametrize(
    "query",
    [
        "",
        "object_type=memory",
        "action__exact=update",
        "actor_type=system",
        "team={team}",
        "q=typo",
        "_facets=True",
    ],
)
def test_audit_changelist_renders_with_filters(admin_client, entry, query):
    url = reverse(CHANGELIST) + "?" + query.format(team=entry.team_id)
    response = admin_client.get(url)
    assert response.status_code == 200
    assert entry in response.context["cl"].result_list


def test_filters_exclude_other_entries(admin_client, entry):
    assert result_ids(admin_client.get(reverse(CHANGELIST), {"object_type": "lesson"})) == set()
    assert result_ids(admin_client.get(reverse(CHANGELIST), {"actor_type": "user"})) == set()


def test_search_by_object_id_and_by_reason(admin_client, entry):
    by_id = result_ids(admin_client.get(reverse(CHANGELIST), {"q": str(entry.object_id)}))
    assert by_id == set(
        AuditEntry.objects.filter(object_id=entry.object_id).values_list("id", flat=True)
    )
    assert result_ids(admin_client.get(reverse(CHANGELIST), {"q": "typo"})) == {entry.pk}


def test_entry_page_shows_the_diff_read_only(admin_client, entry):
    url = reverse("admin:memories_auditentry_change", args=[entry.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert ">c</del>" in page and ">d</ins>" in page
    assert 'name="_save"' not in page


def test_entries_cannot_be_added_changed_or_deleted(admin_client, entry):
    change = reverse("admin:memories_auditentry_change", args=[entry.pk])
    assert admin_client.get(reverse("admin:memories_auditentry_add")).status_code == 403
    assert admin_client.post(change, {"reason": "rewritten"}).status_code == 403
    delete = reverse("admin:memories_auditentry_delete", args=[entry.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    response = admin_client.get(reverse(CHANGELIST))
    assert response.context["action_form"] is None  # no actions at all, no bulk delete
    entry.refresh_from_db()
    assert entry.reason == "typo in the content"


def test_staff_see_only_their_teams_entries(client, team, entry, foreign_spirit):
    svc.memory_create(spirit=foreign_spirit, data={"content": "x"}, actor=SYSTEM)
    client.force_login(make_staff(team, "view_auditentry"))
    response = client.get(reverse(CHANGELIST))
    assert {e.team_id for e in response.context["cl"].result_list} == {team.pk}
