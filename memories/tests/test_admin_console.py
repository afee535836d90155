"""The spirit dashboard (memories.admin.console): figures, charts, dreams, scoping, queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from events.tests.factories import EventFactory
from memories.models import (
    DreamActionKind,
    DreamStatus,
    DreamTrigger,
    Memory,
    MemoryStatus,
    MemoryTier,
    MemoryType,
    PipelineFailure,
)
from memories.tests.test_stats import dream, populate
from pipeline import flow
from pipeline.dreamer.run import dream_request, dream_run
from spirits.services import spirit_soft_delete
from teams.actors import Actor
from teams.models import Role
from teams.tests.factories import TeamMembershipFactory, UserFactory

from .factories import KnowledgeFactory, LessonFactory, MemoryFactory

pytestmark = pytest.mark.django_db


def dashboard(spirit) -> str:
    return reverse("admin:spirits_spirit_dashboard", args=[spirit.pk])


def curator(team, *, role=Role.MEMBER, perms=("view_spirit", "change_memory")) -> Client:
    """A logged-in staff member (not a superuser) of `team`."""
    user = UserFactory(is_staff=True)
    TeamMembershipFactory(user=user, team=team, role=role)
    user.user_permissions.set(Permission.objects.filter(codename__in=perms))
    client = Client()
    client.force_login(user)
    return client


def marks(html: str, key: str) -> int:
    return len(re.findall(rf'class="mark mark-{key}"', html))


def test_the_dashboard_shows_counts_by_type_tier_and_status(admin_client, spirit):
    EventFactory(spirit=spirit, session_id="a")
    EventFactory(spirit=spirit, session_id="b")
    MemoryFactory(spirit=spirit, memory_type=MemoryType.SEMANTIC, tier=MemoryTier.WARM)
    MemoryFactory(spirit=spirit, status=MemoryStatus.ARCHIVED, tier=MemoryTier.COLD)
    KnowledgeFactory(spirit=spirit, knowledge_type="FACT")
    LessonFactory(spirit=spirit)

    response = admin_client.get(dashboard(spirit))

    assert response.status_code == 200
    overview = response.context["overview"]
    assert (overview["event_count"], overview["session_count"]) == (2, 2)
    assert overview["memories"]["by_tier"] == {"hot": 0, "warm": 1, "cold": 1}
    assert ("Semantic", 1) in [(label, n) for label, n, _ in response.context["memory_types"]]
    body = response.content.decode()
    assert spirit.name in body and "What it holds" in body
    memory_list = reverse("admin:memories_memory_changelist")
    assert f"{memory_list}?spirit={spirit.pk}&amp;tier__exact=cold" in body


def test_the_dashboard_charts_have_a_mark_per_day_with_data(admin_client, spirit):
    now = timezone.now()
    for days_ago in (0, 0, 3):
        EventFactory(spirit=spirit, occurred_at=now - timedelta(days=days_ago), token_count=9)
    MemoryFactory(spirit=spirit)
    dream(spirit, kinds=[(DreamActionKind.FADE, MemoryFactory(spirit=spirit))])

    body = admin_client.get(dashboard(spirit)).content.decode()

    assert marks(body, "events") == 2  # two days with events
    assert marks(body, "tokens") == 2
    assert marks(body, "created") == 1
    assert marks(body, "dreams") == 1 and marks(body, "actions") == 1
    assert "<title>" in body and "18 tokens" in body  # today's bar says what it counts
    assert "<script" not in body.split('id="charts"')[1].split("</section>")[0]


def test_an_empty_spirit_renders_with_no_marks(admin_client, spirit):
    response = admin_client.get(dashboard(spirit))

    body = response.content.decode()
    assert response.status_code == 200
    assert 'class="mark' not in body
    assert "Nothing in these 30 days." in body and "No dreams yet." in body


def test_days_picks_the_window_and_a_bad_value_is_a_400(admin_client, spirit):
    response = admin_client.get(dashboard(spirit) + "?days=7")
    assert len(response.context["overview"]["series"]) == 7

    for bad in ("0", "abc", "1000", "-3"):
        refused = admin_client.get(dashboard(spirit) + f"?days={bad}")
        assert refused.status_code == 400
        assert b"days must be a whole number" in refused.content


def test_the_pipeline_shows_the_gate_failures_and_the_next_dream(admin_client, spirit):
    EventFactory(spirit=spirit, token_count=100)
    PipelineFailure.objects.create(
        spirit=spirit, step="extraction", task_name="extract", error="ValueError: no luck"
    )

    response = admin_client.get(dashboard(spirit))

    body = response.content.decode()
    assert 'id="gate-score"' in body
    assert "ValueError: no luck" in body
    assert "health-failing" in body
    assert "Next dream" in body
    row = next(r for r in response.context["pipeline_rows"] if r["step"] == "synthesis")
    assert row["pending"] == 1


def test_latest_dreams_list_their_actions_and_offer_a_rollback(admin_client, spirit):
    memory = MemoryFactory(spirit=spirit, summary="Ada drinks green tea.")
    completed = dream(spirit, kinds=[(DreamActionKind.FADE, memory)])
    dream(spirit, status=DreamStatus.ROLLED_BACK)

    body = admin_client.get(dashboard(spirit)).content.decode()

    assert "Ada drinks green tea." in body
    assert reverse("admin:memories_memory_change", args=[memory.pk]) in body
    forms = re.findall(r'<form method="post"[^>]*class="console-rollback">.*?</form>', body, re.S)
    assert len(forms) == 1  # only the completed dream can be rolled back
    assert str(completed.pk) in forms[0] and "csrfmiddlewaretoken" in forms[0]


def test_the_rollback_button_rolls_the_dream_back(spirit, sent_tasks):
    sent_tasks(flow.DREAM)
    client = Client(enforce_csrf_checks=True)
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    memory = MemoryFactory(spirit=spirit, created_at=timezone.now() - timedelta(days=40))
    queued = dream_request(spirit=spirit, trigger=DreamTrigger.ADMIN, actor=Actor.for_user(user))
    session = dream_run(session_id=queued.pk)
    assert Memory.objects.get(pk=memory.pk).tier != MemoryTier.HOT

    page = client.get(dashboard(spirit)).content.decode()
    form = re.search(
        r'<form method="post" action="([^"]+)" class="console-rollback">(.*?)</form>', page, re.S
    )
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]+)"', form.group(2)))
    response = client.post(form.group(1).replace("&amp;", "&"), fields, follow=True)

    assert "Rolled back 1 dream(s)." in response.content.decode()
    session.refresh_from_db()
    assert session.status == DreamStatus.ROLLED_BACK
    assert Memory.objects.get(pk=memory.pk).tier == MemoryTier.HOT


def test_the_dashboard_runs_a_fixed_number_of_queries(
    admin_client, spirit, django_assert_max_num_queries
):
    populate(spirit, 1)
    with django_assert_max_num_queries(60) as small:
        admin_client.get(dashboard(spirit))
    populate(spirit, 15)

    with django_assert_max_num_queries(len(small.captured_queries)):
        admin_client.get(dashboard(spirit))


# --- who sees it ----------------------------------------------------------------------------------


def test_staff_see_the_dashboard_of_their_teams_spirits_only(team, spirit, foreign_spirit):
    client = curator(team)

    assert client.get(dashboard(spirit)).status_code == 200
    assert client.get(dashboard(foreign_spirit)).status_code == 404


def test_staff_without_view_permission_are_refused(team, spirit):
    client = curator(team, perms=())

    assert client.get(dashboard(spirit)).status_code == 403


def test_an_unknown_id_is_a_404_and_anonymous_users_go_to_the_login(admin_client, spirit):
    assert admin_client.get("/admin/spirits/spirit/not-a-uuid/dashboard/").status_code == 404
    response = Client().get(dashboard(spirit))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_viewer_sees_no_rollback_button(team, spirit):
    dream(spirit, kinds=[(DreamActionKind.FADE, MemoryFactory(spirit=spirit))])
    client = curator(team, role=Role.VIEWER)

    body = client.get(dashboard(spirit)).content.decode()

    assert "console-rollback" not in body and "Latest dreams" in body


def test_the_spirit_list_and_page_link_to_the_dashboard(admin_client, spirit):
    listed = admin_client.get(reverse("admin:spirits_spirit_changelist")).content.decode()
    page = admin_client.get(reverse("admin:spirits_spirit_change", args=[spirit.pk]))

    assert dashboard(spirit) in listed
    assert dashboard(spirit) in page.content.decode()


def test_a_soft_deleted_spirit_still_has_its_dashboard(admin_client, spirit):
    MemoryFactory(spirit=spirit)
    spirit_soft_delete(spirit=spirit)

    response = admin_client.get(dashboard(spirit))

    assert response.status_code == 200
    assert "soft-deleted" in response.content.decode()
    assert response.context["overview"]["pipeline"]["health"] == "paused"
