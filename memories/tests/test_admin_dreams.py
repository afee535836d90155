"""Dreams in the admin: queued from the spirits list, shown with their actions, rolled back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from memories.models import DreamSession, DreamStatus, DreamTrigger, Memory, MemoryTier
from memories.tests.test_admin_memories import make_staff, post_action, result_ids
from pipeline import flow
from pipeline.dreamer.run import dream_run
from spirits.tests.factories import SpiritFactory
from teams.models import Role
from teams.tests.admin_utils import action_names
from teams.tests.factories import TeamMembershipFactory, UserFactory

from .factories import MemoryFactory

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:memories_dreamsession_changelist"


@pytest.fixture(autouse=True)
def sent(sent_tasks):
    return sent_tasks(flow.DREAM, lambda args, countdown: args[0])


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


def _staff_with_roles(roles: dict) -> object:
    """A staff member with the Django rights to see dreams and change memories, holding the
    given {team: role} memberships."""
    user = UserFactory(is_staff=True)
    for team, role in roles.items():
        TeamMembershipFactory(user=user, team=team, role=role)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="memories",
            codename__in=["view_dreamsession", "change_memory"],
        )
    )
    return user


def test_a_viewer_is_not_offered_roll_back_even_with_the_right_to_change_memories(
    client, admin_client, spirit, team
):
    memory = MemoryFactory(spirit=spirit, created_at=timezone.now() - timedelta(days=40))
    session = dreamed(admin_client, spirit)
    client.force_login(_staff_with_roles({team: Role.VIEWER}))

    listed = client.get(reverse(CHANGELIST))
    post_action(client, "roll_back", [session], url_name=CHANGELIST, follow=True)

    assert result_ids(listed) == {session.pk}  # a viewer sees the dream
    assert "roll_back" not in action_names(listed)
    session.refresh_from_db()
    assert session.status == DreamStatus.COMPLETED and session.rolled_back_at is None
    assert Memory.objects.get(pk=memory.pk).tier != MemoryTier.HOT  # still as the dream left it


def test_roll_back_acts_only_on_dreams_of_teams_where_the_staff_member_is_a_member(
    client, admin_client, spirit, foreign_spirit, team, other_team
):
    old = timezone.now() - timedelta(days=40)
    watched, mine = (
        MemoryFactory(spirit=spirit, created_at=old),
        MemoryFactory(spirit=foreign_spirit, created_at=old),
    )
    viewed, member_of = dreamed(admin_client, spirit), dreamed(admin_client, foreign_spirit)
    client.force_login(_staff_with_roles({team: Role.VIEWER, other_team: Role.MEMBER}))

    assert "roll_back" in action_names(client.get(reverse(CHANGELIST)))
    response = post_action(
        client, "roll_back", [viewed, member_of], url_name=CHANGELIST, follow=True
    )

    assert "Rolled back 1 dream(s)." in response.content.decode()
    viewed.refresh_from_db()
    member_of.refresh_from_db()
    assert viewed.rolled_back_at is None and member_of.rolled_back_at is not None
    assert Memory.objects.get(pk=watched.pk).tier != MemoryTier.HOT
    assert Memory.objects.get(pk=mine.pk).tier == MemoryTier.HOT


def test_synthesize_now_queues_a_forced_synthesis_per_selected_spirit(
    admin_client, spirit, team, sent_tasks, django_capture_on_commit_callbacks
):
    forced = sent_tasks(flow.SYNTHESIZE_SPIRIT)
    other = SpiritFactory(team=team)

    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(
            admin_client,
            "synthesize_now",
            [spirit, other],
            url_name="admin:spirits_spirit_changelist",
            follow=True,
        )

    assert "Queued a synthesis of 2 spirit(s)" in response.content.decode()
    assert sorted(forced) == sorted([(str(spirit.pk), True), (str(other.pk), True)])
