"""memories.stats: a spirit's figures in a fixed number of queries (dashboard and stats API)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from events.tests.factories import EventFactory
from memories.models import (
    DreamAction,
    DreamActionKind,
    DreamSession,
    DreamStatus,
    DreamTrigger,
    LessonStatus,
    MemoryStatus,
    MemoryTier,
    MemoryType,
    PipelineFailure,
)
from memories.services.memories import memory_archive, memory_update
from memories.stats import spirit_overview, teams_overview
from spirits.models import SpiritStatus
from spirits.tests.factories import SpiritFactory
from teams.actors import Actor

from .factories import KnowledgeFactory, LessonFactory, MemoryFactory

pytestmark = pytest.mark.django_db
CURATOR = Actor.system("test")


def dream(spirit, *, kinds=(), status=DreamStatus.COMPLETED, created_at=None):
    session = DreamSession.objects.create(
        spirit=spirit,
        trigger=DreamTrigger.API,
        status=status,
        actor_type="system",
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )
    if created_at is not None:
        DreamSession.objects.filter(pk=session.pk).update(created_at=created_at)
    for kind, memory in kinds:
        DreamAction.objects.create(session=session, memory_id=memory.pk, kind=kind)
    return session


def populate(spirit, scale: int) -> None:
    for _ in range(scale):
        EventFactory(spirit=spirit, token_count=7)
        MemoryFactory(spirit=spirit, memory_type=MemoryType.SEMANTIC, tier=MemoryTier.WARM)
        KnowledgeFactory(spirit=spirit)
        LessonFactory(spirit=spirit)
    memory = MemoryFactory(spirit=spirit)
    for _ in range(scale):
        dream(spirit, kinds=[(DreamActionKind.FADE, memory)] * 3)


def test_counts_memories_by_type_tier_and_status_live_only(spirit):
    MemoryFactory(spirit=spirit, memory_type=MemoryType.SEMANTIC, tier=MemoryTier.WARM)
    MemoryFactory(spirit=spirit, status=MemoryStatus.ARCHIVED, tier=MemoryTier.COLD, pinned=True)
    MemoryFactory(spirit=spirit, deleted_at=timezone.now())  # soft-deleted: not counted
    MemoryFactory()  # another spirit's

    memories = spirit_overview(spirit)["memories"]

    assert memories["total"] == 2
    assert memories["pinned"] == 1
    assert memories["by_type"] == {
        **dict.fromkeys(MemoryType.values, 0),
        "semantic": 1,
        "episodic": 1,
    }
    assert memories["by_tier"] == {"hot": 0, "warm": 1, "cold": 1}
    assert memories["by_status"]["archived"] == 1
    assert memories["by_status"]["active"] == 1
    assert sum(memories["by_status"].values()) == 2


def test_counts_knowledge_current_and_closed_and_lessons_by_status(spirit):
    KnowledgeFactory(spirit=spirit, knowledge_type="FACT")
    KnowledgeFactory(spirit=spirit, knowledge_type="METHOD", valid_to=timezone.now())
    LessonFactory(spirit=spirit, status=LessonStatus.RETIRED)
    LessonFactory(spirit=spirit)

    overview = spirit_overview(spirit)

    assert overview["knowledge"]["total"] == 2
    assert overview["knowledge"]["by_status"] == {"current": 1, "closed": 1}
    assert overview["knowledge"]["by_type"]["FACT"] == 1
    assert overview["knowledge"]["by_type"]["METHOD"] == 1
    assert overview["lessons"] == {
        "total": 2,
        "by_status": {"proposed": 0, "active": 1, "retired": 1},
    }


def test_keeps_the_event_stats_and_adds_pipeline_figures(spirit):
    EventFactory(spirit=spirit, session_id="a", token_count=10)
    EventFactory(spirit=spirit, session_id="b", token_count=5, enriched_at=timezone.now())

    overview = spirit_overview(spirit)

    assert overview["event_count"] == 2 and overview["session_count"] == 2
    pipeline = overview["pipeline"]
    assert pipeline["pending"]["enrichment"] == 1
    assert pipeline["pending"]["synthesis"] == 2
    assert pipeline["pending"]["synthesis_tokens"] == 15
    assert 0 < pipeline["synthesis_gate"]["score"] < 1
    assert pipeline["health"] == "pending"
    assert pipeline["dreamer"]["queued"] is False


def test_health_says_failing_after_a_final_failure_and_paused_when_paused(spirit):
    PipelineFailure.objects.create(
        spirit=spirit, step="synthesis", task_name="t", error="boom", final=True
    )
    assert spirit_overview(spirit)["pipeline"]["health"] == "failing"
    assert spirit_overview(spirit)["pipeline"]["failures"][0]["error"] == "boom"

    spirit.status = SpiritStatus.PAUSED
    assert spirit_overview(spirit)["pipeline"]["health"] == "paused"


def test_an_empty_spirit_has_zero_everywhere(spirit):
    overview = spirit_overview(spirit, days=7, dreams=5)

    assert overview["event_count"] == 0 and overview["memories"]["total"] == 0
    assert overview["pipeline"]["health"] == "ok"
    assert len(overview["series"]) == 7
    assert all(row["events"] == 0 and row["dreams"] == 0 for row in overview["series"])
    assert overview["dreams"] == []


def test_series_count_events_tokens_memories_archives_and_dreams_per_day(spirit):
    now = timezone.now()
    EventFactory(spirit=spirit, occurred_at=now - timedelta(days=2), token_count=10)
    EventFactory(spirit=spirit, occurred_at=now - timedelta(days=2), token_count=4)
    EventFactory(spirit=spirit, occurred_at=now, token_count=1)
    EventFactory(spirit=spirit, occurred_at=now - timedelta(days=30))  # outside the window
    archived = MemoryFactory(spirit=spirit)
    memory_archive(memory=archived, actor=CURATOR)
    edited = MemoryFactory(spirit=spirit)
    memory_update(memory=edited, data={"tier": MemoryTier.COLD}, actor=CURATOR)  # not archived
    dream(spirit, kinds=[(DreamActionKind.FADE, archived)] * 2)

    series = spirit_overview(spirit, days=3, now=now)["series"]

    assert [row["day"] for row in series] == [(now - timedelta(days=d)).date() for d in (2, 1, 0)]
    assert [row["events"] for row in series] == [2, 0, 1]
    assert [row["tokens"] for row in series] == [14, 0, 1]
    assert series[-1]["memories_created"] == 2
    assert series[-1]["memories_archived"] == 1
    assert (series[-1]["dreams"], series[-1]["dream_actions"]) == (1, 2)


def test_latest_dreams_name_their_memories_and_count_their_actions(spirit):
    memory = MemoryFactory(spirit=spirit, summary="Ada lives in Lisbon.")
    old = dream(spirit, created_at=timezone.now() - timedelta(days=1))
    new = dream(spirit, kinds=[(DreamActionKind.FADE, memory)] * 7)

    dreams = spirit_overview(spirit, dreams=5)["dreams"]

    assert [d["session"].pk for d in dreams] == [new.pk, old.pk]
    assert dreams[0]["counts"] == {"fade": 7, "expire": 0, "merge": 0}
    assert len(dreams[0]["actions"]) == 5  # the first few; the dream's page lists them all
    assert dreams[0]["actions"][0].memory_label == "Ada lives in Lisbon."


def test_the_overview_runs_a_fixed_number_of_queries(spirit, django_assert_max_num_queries):
    populate(spirit, 1)
    with django_assert_max_num_queries(40) as small:
        spirit_overview(spirit, days=30, dreams=5)
    populate(spirit, 12)

    with django_assert_max_num_queries(len(small.captured_queries)):
        spirit_overview(spirit, days=30, dreams=5)


def test_teams_overview_lists_each_teams_spirits_with_counts_and_health(team, other_team):
    busy = SpiritFactory(team=team, last_activity_at=timezone.now())
    quiet = SpiritFactory(team=team)
    EventFactory(spirit=busy)
    MemoryFactory(spirit=busy)
    SpiritFactory(team=other_team)

    rows = teams_overview([team.pk])

    assert [row["team"] for row in rows] == [team]
    assert rows[0]["spirit_count"] == 2
    spirits = rows[0]["spirits"]
    assert [s["spirit"] for s in spirits] == [busy, quiet]
    assert (spirits[0]["events"], spirits[0]["memories"]) == (1, 1)
    assert spirits[0]["health"] == "pending" and spirits[1]["health"] == "ok"


def test_teams_overview_runs_two_queries(team, other_team, django_assert_num_queries):
    for owner in (team, other_team):
        for _ in range(3):
            populate(SpiritFactory(team=owner), 1)

    with django_assert_num_queries(2):
        rows = teams_overview(None)

    assert sum(len(row["spirits"]) for row in rows) >= 6
