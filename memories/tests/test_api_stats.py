"""GET /api/v1/spirits/{spirit_id}/stats/: the event stats plus memories, knowledge, lessons and
the pipeline's figures, from the dashboard's selector (memories.stats)."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone

from events.tests.factories import EventFactory
from memories.models import (
    DreamActionKind,
    MemoryStatus,
    MemoryTier,
    MemoryType,
    PipelineFailure,
)
from memories.tests.test_stats import dream
from spirits.tests.factories import SpiritFactory
from teams.tests.factories import ApiKeyFactory

from .factories import KnowledgeFactory, LessonFactory, MemoryFactory

pytestmark = pytest.mark.django_db
PATH = "/api/v1/spirits/{spirit_id}/stats/"
SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.content_type_conformance,
]


@pytest.fixture
def wsgi_in_test_transaction(db):
    """Django's WSGI handler closes the connection after each request; inside the test's
    transaction that would end it (as in elephantasm/tests/test_schemathesis.py)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def stats_url(spirit) -> str:
    return PATH.format(spirit_id=spirit.pk)


def populate(spirit) -> None:
    EventFactory(spirit=spirit, session_id="a", token_count=12)
    EventFactory(spirit=spirit, session_id="b", enriched_at=timezone.now())
    memory = MemoryFactory(spirit=spirit, memory_type=MemoryType.SEMANTIC, tier=MemoryTier.WARM)
    MemoryFactory(spirit=spirit, status=MemoryStatus.ARCHIVED, pinned=True)
    KnowledgeFactory(spirit=spirit, knowledge_type="FACT")
    KnowledgeFactory(spirit=spirit, knowledge_type="METHOD", valid_to=timezone.now())
    LessonFactory(spirit=spirit)
    dream(spirit, kinds=[(DreamActionKind.FADE, memory)])
    PipelineFailure.objects.create(
        spirit=spirit, step="synthesis", task_name="t", task_id="1", error="boom"
    )


def test_stats_keep_the_event_figures_and_add_memories_knowledge_and_lessons(api, spirit):
    populate(spirit)

    body = api.get(stats_url(spirit)).json()

    assert (body["event_count"], body["session_count"]) == (2, 2)
    assert body["events_by_type"]["message.in"] == 2
    assert body["memories"]["total"] == 2 and body["memories"]["pinned"] == 1
    assert body["memories"]["by_type"]["semantic"] == 1
    assert body["memories"]["by_tier"] == {"hot": 1, "warm": 1, "cold": 0}
    assert body["memories"]["by_status"]["archived"] == 1
    assert body["knowledge"]["by_status"] == {"current": 1, "closed": 1}
    assert body["knowledge"]["by_type"]["METHOD"] == 1
    assert body["lessons"]["by_status"]["active"] == 1


def test_stats_carry_the_pipeline_figures(api, spirit):
    populate(spirit)

    pipeline = api.get(stats_url(spirit)).json()["pipeline"]

    assert pipeline["pending"]["enrichment"] == 1
    assert pipeline["pending"]["synthesis"] == 2
    assert pipeline["pending"]["synthesis_tokens"] == 17
    assert pipeline["synthesis_gate"]["score"] > 0
    assert pipeline["health"] == "failing"
    assert pipeline["final_failures_24h"] == 1
    assert pipeline["failures"][0]["error"] == "boom"
    assert pipeline["last_failure_at"]["synthesis"] is not None
    assert pipeline["dreamer"]["last_status"] == "completed"
    assert set(pipeline["last_run_at"]) == {
        "enrichment",
        "embedding",
        "synthesis",
        "extraction",
        "identity",
        "dreamer",
    }


def test_the_api_and_the_dashboard_say_the_same(api, admin_client, spirit):
    populate(spirit)

    body = api.get(stats_url(spirit)).json()
    page = admin_client.get(f"/admin/spirits/spirit/{spirit.pk}/dashboard/")

    overview = page.context["overview"]
    assert body["memories"] == overview["memories"]
    assert body["knowledge"] == overview["knowledge"]
    assert body["pipeline"]["pending"] == overview["pipeline"]["pending"]


def test_a_bad_include_deleted_is_a_400(api, spirit):
    response = api.get(stats_url(spirit), {"include_deleted": "perhaps"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_a_populated_response_matches_the_declared_schema(wsgi_in_test_transaction, team):
    spirit = SpiritFactory(team=team)
    populate(spirit)
    key = ApiKeyFactory(team=team).raw
    operation = SCHEMA[PATH]["GET"]
    case = operation.Case(path_parameters={"spirit_id": str(spirit.pk)})

    response = case.call(headers={"Authorization": f"Bearer {key}"})

    assert response.status_code == 200
    assert response.json()["memories"]["total"] == 2
    case.validate_response(response, checks=CHECKS)
