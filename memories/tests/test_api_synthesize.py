"""POST /api/v1/spirits/{id}/synthesize/: a synthesis now, whatever the gate says."""

from __future__ import annotations

import pytest

from events.tests.factories import EventFactory
from pipeline import flow
from teams.models import Role

pytestmark = pytest.mark.django_db


def url(spirit) -> str:
    return f"/api/v1/spirits/{spirit.pk}/synthesize/"


@pytest.fixture
def forced(sent_tasks):
    """(spirit id, force) of each synthesis sent."""
    return sent_tasks(flow.SYNTHESIZE_SPIRIT, lambda args, countdown: args)


def test_post_queues_a_forced_synthesis_after_commit_and_answers_202(
    api, spirit, forced, django_capture_on_commit_callbacks
):
    EventFactory.create_batch(3, spirit=spirit)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url(spirit), format="json")

    assert response.status_code == 202, response.content
    assert response.json() == {"spirit_id": str(spirit.pk), "pending_events": 3}
    assert forced == [(str(spirit.pk), True)]


def test_a_member_may_ask_for_a_synthesis_and_a_viewer_may_not(role_api, spirit, forced):
    assert role_api(Role.MEMBER).post(url(spirit), format="json").status_code == 202
    response = role_api(Role.VIEWER).post(url(spirit), format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_another_teams_spirit_is_a_404_and_nothing_is_queued(api, foreign_spirit, forced):
    response = api.post(url(foreign_spirit), format="json")
    assert response.status_code == 404
    assert forced == []
