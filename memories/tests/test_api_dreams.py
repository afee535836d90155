"""The Dreamer's API: queue a dream, list and read sessions and actions, roll back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from memories.models import DreamSession, DreamStatus, Memory, MemoryTier
from pipeline import flow
from pipeline.dreamer.run import dream_run

from .factories import MemoryFactory

pytestmark = pytest.mark.django_db


def dreams_url(spirit) -> str:
    return f"/api/v1/spirits/{spirit.pk}/dreams/"


@pytest.fixture
def sent(sent_tasks):
    """Session ids given to the dream task, instead of publishing them."""
    return sent_tasks(flow.DREAM, lambda args, countdown: args[0])


@pytest.fixture
def old_memory(spirit):
    return MemoryFactory(spirit=spirit, created_at=timezone.now() - timedelta(days=40))


def completed(api, spirit, sent) -> dict:
    response = api.post(dreams_url(spirit), format="json")
    assert response.status_code == 202, response.content
    dream_run(session_id=response.json()["id"])
    return api.get(f"/api/v1/dreams/{response.json()['id']}/").json()


def test_post_queues_a_dream_after_commit_and_answers_202(
    api, spirit, api_key, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(dreams_url(spirit), format="json")

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["trigger"] == "api"
    assert body["spirit_id"] == str(spirit.pk)
    assert body["requested_by"]["type"] == "api_key"
    assert body["requested_by"]["id"] == str(api_key.pk)
    assert sent == [body["id"]]


def test_a_second_post_while_one_is_queued_is_a_409_naming_it(api, spirit, sent):
    first = api.post(dreams_url(spirit), format="json").json()

    response = api.post(dreams_url(spirit), format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert response.json()["error"]["details"] == {"existing_id": first["id"]}
    assert DreamSession.objects.filter(spirit=spirit).count() == 1


def test_post_refuses_unknown_body_keys_and_foreign_spirits(api, spirit, foreign_spirit, sent):
    response = api.post(dreams_url(spirit), {"force": True}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"force": ["Unknown or read-only field."]}

    assert api.post(dreams_url(foreign_spirit), format="json").status_code == 404
    assert api.get(dreams_url(foreign_spirit)).status_code == 404
    assert not DreamSession.objects.exists()


def test_sessions_and_actions_are_listed_and_read(api, spirit, old_memory, sent):
    session = completed(api, spirit, sent)

    assert session["status"] == "completed" and session["action_count"] == 1
    assert session["stats"]["considered"] == 1 and session["stats"]["tier_moves"] == 1
    listed = api.get(dreams_url(spirit)).json()
    assert [s["id"] for s in listed["results"]] == [session["id"]]
    actions = api.get(f"/api/v1/dreams/{session['id']}/actions/").json()["results"]
    assert actions[0]["memory_id"] == str(old_memory.pk)
    assert actions[0]["kind"] == "fade"
    assert actions[0]["before"]["tier"] == "hot" and actions[0]["after"]["tier"] == "warm"
    assert actions[0]["reasoning"]
    memory = api.get(f"/api/v1/memories/{old_memory.pk}/").json()
    assert memory["tier"] == "warm" and memory["decay"] > 0.5


def test_rollback_restores_and_a_second_one_is_a_409(api, spirit, old_memory, sent):
    session = completed(api, spirit, sent)
    url = f"/api/v1/dreams/{session['id']}/rollback/"

    response = api.post(url, {"reason": "not yet"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "rolled_back"
    assert response.json()["rolled_back_at"] is not None
    old_memory.refresh_from_db()
    assert (old_memory.tier, old_memory.decay) == (MemoryTier.HOT, 0)
    again = api.post(url, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["details"] == {"status": "rolled_back"}


def test_rollback_conflict_names_the_changed_memories(api, spirit, old_memory, sent):
    session = completed(api, spirit, sent)
    api.patch(f"/api/v1/memories/{old_memory.pk}/", {"tier": "cold"}, format="json")

    response = api.post(f"/api/v1/dreams/{session['id']}/rollback/", format="json")

    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"memory_ids": [str(old_memory.pk)]}
    assert Memory.objects.get(pk=old_memory.pk).tier == MemoryTier.COLD
    assert DreamSession.objects.get(pk=session["id"]).status == DreamStatus.COMPLETED


def test_another_teams_dreams_are_404(api, other_api, spirit, old_memory, sent):
    session = completed(api, spirit, sent)

    for method, path in [
        ("get", f"/api/v1/dreams/{session['id']}/"),
        ("get", f"/api/v1/dreams/{session['id']}/actions/"),
        ("post", f"/api/v1/dreams/{session['id']}/rollback/"),
    ]:
        assert getattr(other_api, method)(path, format="json").status_code == 404
    assert DreamSession.objects.get(pk=session["id"]).status == DreamStatus.COMPLETED


def test_dreams_need_authentication(client, spirit):
    assert client.post(dreams_url(spirit)).status_code == 401
