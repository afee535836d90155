"""Dreams in the admin: queued from the spirits list, shown with their actions, rolled back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from memories import tasks
from memories.dreamer.run import dream_run
from memories.models import DreamSession, DreamStatus, DreamTrigger, Memory, MemoryTier
from memories.tests.test_admin_memories import make_staff, post_action, result_ids
from spirits.tests.factories import SpiritFactory

from .factories import MemoryFactory

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:memories_dreamsession_changelist"


@pytest.fixture(autouse=True)
def sent(monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(tasks.dream, "delay", lambda sid: calls.append(sid))
    return calls


def dreamed(admin_client, spirit) -> DreamSession:
    post_action(admin_client, "dream_now", [spirit], url_name="admin:spirits_spirit_changelist")
    session = DreamSession.objects.get(spirit=spirit, status=DreamStatus.QUEUED)
    return dream_run(session_id=session.pk)


def test_dream_now_queues_one_dream_per_selected_spirit(admin_client, spirit, team):
    other = SpiritFactory(team=team)

    response = post_action(
        admin_client,
        "dream_now",
        [spirit, other],
        url_name="admin:spirits_spirit_changelist",
        follow=True,
    )

    assert "Queued 2 dream(s)." in response.content.decode()
    sessions = DreamSession.objects.filter(spirit__in=[spirit, other])
    assert {s.trigger for s in sessions} == {DreamTrigger.ADMIN}
    assert {s.actor_type for s in sessions} == {"user"}
    # Soft delete and restore are still offered next to it.
    actions = admin_client.get(reverse("admin:spirits_spirit_changelist")).context["action_form"]
    names = {name for name, _ in actions.fields["action"].choices}
    assert {"dream_now", "soft_delete_selected", "restore_selected"} <= names


def test_a_session_page_shows_its_actions_before_and_after(admin_client, spirit):
    memory = MemoryFactory(spirit=spirit, created_at=timezone.now() - timedelta(days=40))
    session = dreamed(admin_client, spirit)

    listed = admin_client.get(reverse(CHANGELIST) + "?status__exact=completed")
    page = admin_client.get(reverse("admin:memories_dreamsession_change", args=[session.pk]))

    assert session in listed.context["cl"].result_list
    body = page.content.decode()
    assert page.status_code == 200
    assert str(memory.pk) in body and "retention" in body and "warm" in body


def test_roll_back_action_restores_and_reports_conflicts(admin_client, spirit):
    memory = MemoryFactory(spirit=spirit, created_at=timezone.now() - timedelta(days=40))
    session = dreamed(admin_client, spirit)

    response = post_action(admin_client, "roll_back", [session], url_name=CHANGELIST, follow=True)

    assert "Rolled back 1 dream(s)." in response.content.decode()
    assert Memory.objects.get(pk=memory.pk).tier == MemoryTier.HOT
    again = post_action(admin_client, "roll_back", [session], url_name=CHANGELIST, follow=True)
    assert "can be rolled back" in again.content.decode()


def test_staff_see_only_their_teams_dreams_and_need_memory_rights_to_roll_back(
    client, admin_client, spirit, foreign_spirit, team
):
    MemoryFactory(spirit=spirit)
    MemoryFactory(spirit=foreign_spirit)
    mine, theirs = dreamed(admin_client, spirit), dreamed(admin_client, foreign_spirit)
    viewer = make_staff(team, "view_dreamsession")
    client.force_login(viewer)

    response = client.get(reverse(CHANGELIST))

    assert result_ids(response) == {mine.pk}
    assert theirs.pk not in result_ids(response)
    form = response.context["action_form"]  # None when no action is left
    assert form is None or "roll_back" not in dict(form.fields["action"].choices)
