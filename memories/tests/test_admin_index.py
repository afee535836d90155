"""The admin index starts with the curator's teams and spirits (templates/admin/index.html)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from events.tests.factories import EventFactory
from memories.models import PipelineFailure
from memories.tests.test_admin_console import curator
from memories.tests.test_stats import populate
from spirits.tests.factories import SpiritFactory

from .factories import MemoryFactory

pytestmark = pytest.mark.django_db
INDEX = "/admin/"


def test_the_index_shows_teams_and_spirits_before_the_models(admin_client, team, spirit):
    EventFactory(spirit=spirit)
    MemoryFactory(spirit=spirit)

    body = admin_client.get(INDEX).content.decode()

    assert f'id="team-{team.slug}"' in body
    assert body.index(f'id="team-{team.slug}"') < body.index('class="app-memories module')
    dashboard = reverse("admin:spirits_spirit_dashboard", args=[spirit.pk])
    assert dashboard in body
    assert "health-pending" in body  # an event waits for enrichment and synthesis


def test_a_failing_spirit_says_so(admin_client, spirit):
    PipelineFailure.objects.create(spirit=spirit, step="synthesis", task_name="t", error="x")

    body = admin_client.get(INDEX).content.decode()

    assert "health-failing" in body and "1 failure" in body


def test_staff_see_only_their_teams(team, other_team, spirit, foreign_spirit):
    body = curator(team).get(INDEX).content.decode()

    assert spirit.name in body
    assert foreign_spirit.name not in body
    assert f'id="team-{other_team.slug}"' not in body


def test_staff_without_spirit_permission_see_no_teams(team, spirit):
    body = curator(team, perms=()).get(INDEX).content.decode()

    assert f'id="team-{team.slug}"' not in body


def test_a_team_with_many_spirits_shows_the_most_recent_and_links_to_the_rest(admin_client, team):
    recent = SpiritFactory(team=team, name="most-recent", last_activity_at=timezone.now())
    for _ in range(21):
        SpiritFactory(team=team)

    response = admin_client.get(INDEX)

    body = response.content.decode()
    assert recent.name in body
    assert "2 more spirits of" in body
    assert f"?team__id__exact={team.pk}" in body


def test_the_index_runs_a_fixed_number_of_queries(
    admin_client, team, other_team, django_assert_max_num_queries
):
    populate(SpiritFactory(team=team), 1)
    with django_assert_max_num_queries(30) as few:
        admin_client.get(INDEX)
    for owner in (team, other_team):
        for _ in range(5):
            populate(SpiritFactory(team=owner), 2)

    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(INDEX)
