"""GET /spirits/{id}/pipeline/ and the failure records behind it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from events.tests.factories import EventFactory
from memories.models import DreamStatus, DreamTrigger, PipelineFailure
from memories.tests.factories import MemoryFactory
from pipeline import status as pipeline
from pipeline import tasks
from pipeline.dreamer.run import dream_request
from spirits.models import Spirit
from teams.actors import Actor

pytestmark = pytest.mark.django_db
USER = Actor(type="user", id="1", label="curator")


def url(spirit) -> str:
    return f"/api/v1/spirits/{spirit.pk}/pipeline/"


def test_pending_work_and_last_runs_per_step(api, spirit):
    now = timezone.now()
    EventFactory(spirit=spirit, token_count=7)
    EventFactory(spirit=spirit, token_count=5, enriched_at=now, synthesized_at=now)
    MemoryFactory(spirit=spirit)
    MemoryFactory(spirit=spirit, extracted_at=now)

    response = api.get(url(spirit))

    assert response.status_code == 200, response.content
    body = response.json()
    steps = body["steps"]
    assert body["spirit_id"] == str(spirit.pk)
    assert steps["enrichment"]["pending"] == 1
    assert steps["enrichment"]["last_run_at"] is not None
    assert steps["embedding"]["pending"]["events"] == 2
    assert steps["embedding"]["pending"]["memories"] == 2
    assert steps["synthesis"]["pending"] == 1 and steps["synthesis"]["pending_tokens"] == 7
    assert steps["synthesis"]["gate"]["due"] is False
    assert set(steps["synthesis"]["gate"]["reasons"]) == {"time", "events", "tokens"}
    assert steps["extraction"]["pending"] == 1
    assert steps["identity"]["version"] == 0
    assert steps["dreamer"]["last"] is None and steps["dreamer"]["queued"] is None
    assert all(step["last_failure_at"] is None for step in steps.values())
    assert body["failures"] == []
    assert body["language_model"]["calls_24h"] == 0


def test_a_failed_dream_is_shown_as_a_failure_of_its_step(api, spirit):
    MemoryFactory(spirit=spirit, created_at=timezone.now() - timedelta(days=3))
    # A config no API would accept (validated on write) makes the decay rule divide by zero:
    # a bug, so the task gives up at once.
    Spirit.objects.filter(pk=spirit.pk).update(config={"dreamer": {"decay_half_life_days": 0}})
    session = dream_request(spirit=spirit, trigger=DreamTrigger.API, actor=USER)

    result = tasks.dream.apply(args=[str(session.pk)])

    assert result.failed()
    session.refresh_from_db()
    assert session.status == DreamStatus.FAILED and "ZeroDivisionError" in session.error
    body = api.get(url(spirit)).json()
    [failure] = body["failures"]
    assert failure["step"] == "dreamer" and failure["final"] is True
    assert failure["task"] == "memories.tasks.dream"
    assert "ZeroDivisionError" in failure["error"]
    assert body["steps"]["dreamer"]["last_failure_at"] is not None
    assert body["steps"]["dreamer"]["last"]["status"] == "failed"


def test_failures_name_every_spirit_a_task_concerned_and_are_bounded(spirit, team):
    from spirits.tests.factories import SpiritFactory

    other = SpiritFactory(team=team)
    events = [EventFactory(spirit=spirit), EventFactory(spirit=other)]
    for attempt in range(pipeline.KEEP_PER_STEP + 3):
        written = pipeline.record_failure(
            task_name="events.tasks.enrich_events",
            task_id=f"t{attempt}",
            args=[[str(e.pk) for e in events]],
            kwargs={},
            error="OperationalError: the database went away",
            final=False,
        )
        assert written == 2
    for s in (spirit, other):
        rows = PipelineFailure.objects.filter(spirit=s, step="enrichment")
        assert rows.count() == pipeline.KEEP_PER_STEP
        assert rows.first().task_id == f"t{pipeline.KEEP_PER_STEP + 2}"  # the newest kept
    assert (
        pipeline.record_failure(
            task_name="events.tasks.mark_idle_sessions",
            task_id="x",
            args=[],
            kwargs={},
            error="e",
            final=True,
        )
        == 0
    )


def test_another_teams_pipeline_is_a_404(other_api, spirit):
    assert other_api.get(url(spirit)).status_code == 404
