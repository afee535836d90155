"""The Dreamer: decay rules, a dream session's passes, merging, and exact rollback."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from elephantasm.api.errors import Conflict
from memories.models import (
    AuditAction,
    AuditEntry,
    DreamActionKind,
    DreamSession,
    DreamStatus,
    DreamTrigger,
    Memory,
    MemoryStatus,
    MemoryTier,
)
from memories.services.memories import memory_update
from memories.tests.factories import MemoryFactory
from pipeline import flow
from pipeline.dreamer import consolidate, decay
from pipeline.dreamer.rollback import dream_rollback
from pipeline.dreamer.run import DREAMER, dream_request, dream_run, schedule_dreams, spirits_due
from teams.actors import Actor

CFG = {
    "decay_half_life_days": 30,
    "hot_above": 0.6,
    "warm_above": 0.25,
    "decaying_below": 0.25,
    "archive_below": 0.1,
}
USER = Actor(type="user", id="1", label="curator")


def aged(spirit, days: float, **fields) -> Memory:
    return MemoryFactory(spirit=spirit, created_at=timezone.now() - timedelta(days=days), **fields)


def unit(seed: int, noise_of: np.ndarray | None = None, scale: float = 0.02) -> list[float]:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=384)
    if noise_of is not None:
        v = noise_of + scale * v / np.linalg.norm(v)
    return list(v / np.linalg.norm(v))


def dream(spirit, **kw) -> DreamSession:
    session = dream_request(spirit=spirit, trigger=DreamTrigger.API, actor=USER)
    return dream_run(session_id=session.pk, **kw)


def state_of(spirit) -> dict:
    """Everything a dream may touch, per memory (all rows, deleted and superseded included)."""
    return {
        str(m.pk): (m.decay, m.tier, m.status, m.superseded_by_id, m.content, m.deleted_at)
        for m in Memory.all_objects.filter(spirit=spirit)
    }


# --- Rules ---------------------------------------------------------------------------------------


def test_retention_halves_at_the_half_life_and_use_and_importance_slow_it():
    assert decay.retention(age_days=0, access_count=0, importance=0.5, half_life_days=30) == 1
    assert decay.retention(
        age_days=30, access_count=0, importance=0.5, half_life_days=30
    ) == pytest.approx(0.5)
    used = decay.retention(age_days=30, access_count=10, importance=0.5, half_life_days=30)
    important = decay.retention(age_days=30, access_count=0, importance=1.0, half_life_days=30)
    trivial = decay.retention(age_days=30, access_count=0, importance=0.0, half_life_days=30)
    assert trivial < 0.5 < used and important > 0.5
    assert important == pytest.approx(0.5 ** (1 / 1.5))


def test_tiers_and_one_status_step_per_dream():
    assert decay.tier_for(0.7, CFG) == MemoryTier.HOT
    assert decay.tier_for(0.3, CFG) == MemoryTier.WARM
    assert decay.tier_for(0.2, CFG) == MemoryTier.COLD
    assert decay.status_for(0.05, MemoryStatus.ACTIVE, CFG) == MemoryStatus.DECAYING
    assert decay.status_for(0.05, MemoryStatus.DECAYING, CFG) == MemoryStatus.ARCHIVED
    assert decay.status_for(0.2, MemoryStatus.DECAYING, CFG) == MemoryStatus.DECAYING
    assert decay.status_for(0.5, MemoryStatus.DECAYING, CFG) == MemoryStatus.ACTIVE
    assert decay.status_for(0.5, MemoryStatus.ACTIVE, CFG) == MemoryStatus.ACTIVE


def test_reference_time_is_the_latest_use():
    now = timezone.now()
    used = decay.fade(
        now=now,
        created_at=now - timedelta(days=300),
        time_end=None,
        last_accessed_at=now - timedelta(days=1),
        access_count=3,
        importance=0.5,
        status=MemoryStatus.ACTIVE,
        cfg=CFG,
    )
    assert used.tier == MemoryTier.HOT and used.status == MemoryStatus.ACTIVE
    assert used.decay < 0.05


# --- Light sleep ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_dream_fades_by_age_and_records_each_change(spirit):
    fresh = aged(spirit, 0)
    month = aged(spirit, 45)
    old = aged(spirit, 90)

    session = dream(spirit)

    assert session.status == DreamStatus.COMPLETED
    for m in (fresh, month, old):
        m.refresh_from_db()
    assert (fresh.tier, fresh.status, fresh.decay) == (MemoryTier.HOT, MemoryStatus.ACTIVE, 0)
    assert (month.tier, month.status) == (MemoryTier.WARM, MemoryStatus.ACTIVE)
    assert month.decay == pytest.approx(1 - 0.5**1.5, abs=1e-3)
    assert (old.tier, old.status) == (MemoryTier.COLD, MemoryStatus.DECAYING)
    actions = {a.memory_id: a for a in session.actions.all()}
    assert set(actions) == {month.pk, old.pk}  # the fresh one did not change
    assert actions[old.pk].kind == DreamActionKind.FADE
    assert actions[old.pk].before == {
        "decay": 0.0,
        "tier": "hot",
        "status": "active",
        "superseded_by_id": None,
    }
    assert actions[old.pk].after["status"] == "decaying"
    assert "retention 0.12" in actions[old.pk].reasoning
    assert session.stats["considered"] == 3
    assert session.stats["decaying"] == 1 and session.stats["tier_moves"] == 2
    # Tier and status moves are audited by the dreamer; decay is derived and is not.
    entry = AuditEntry.objects.get(object_id=old.pk, action=AuditAction.UPDATE)
    assert entry.actor_id == "dreamer" and f"dream {session.pk}" in entry.reason


@pytest.mark.django_db
def test_a_decaying_memory_is_archived_by_a_later_dream_and_pinned_ones_never(spirit):
    old = aged(spirit, 400)
    pinned = aged(spirit, 400, pinned=True)

    dream(spirit)
    old.refresh_from_db()
    assert old.status == MemoryStatus.DECAYING
    second = dream(spirit)
    old.refresh_from_db()
    pinned.refresh_from_db()

    assert old.status == MemoryStatus.ARCHIVED
    assert second.stats["archived"] == 1
    assert (pinned.decay, pinned.tier, pinned.status) == (0, MemoryTier.HOT, MemoryStatus.ACTIVE)
    assert not second.actions.filter(memory_id=pinned.pk).exists()


@pytest.mark.django_db
def test_use_revives_a_decaying_memory(spirit):
    memory = aged(spirit, 120)
    dream(spirit)
    Memory.all_objects.filter(pk=memory.pk).update(last_accessed_at=timezone.now(), access_count=5)

    dream(spirit)

    memory.refresh_from_db()
    assert (memory.status, memory.tier) == (MemoryStatus.ACTIVE, MemoryTier.HOT)


@pytest.mark.django_db
def test_expired_memories_are_archived_but_not_pinned_ones(spirit):
    past = timezone.now() - timedelta(hours=1)
    expired = aged(spirit, 0, expires_at=past)
    pinned = aged(spirit, 0, expires_at=past, pinned=True)
    later = aged(spirit, 0, expires_at=timezone.now() + timedelta(days=1))

    session = dream(spirit)

    assert Memory.objects.get(pk=expired.pk).status == MemoryStatus.ARCHIVED
    assert Memory.objects.get(pk=pinned.pk).status == MemoryStatus.ACTIVE
    assert Memory.objects.get(pk=later.pk).status == MemoryStatus.ACTIVE
    [action] = session.actions.filter(kind=DreamActionKind.EXPIRE)
    assert action.memory_id == expired.pk and "expired at" in action.reasoning
    assert session.stats["expired"] == 1


@pytest.mark.django_db
def test_a_second_dream_right_after_changes_nothing(spirit):
    aged(spirit, 45)
    aged(spirit, 90)
    dream(spirit)

    again = dream(spirit)

    assert again.actions.count() == 0


@pytest.mark.django_db
def test_running_a_session_twice_does_nothing_the_second_time(spirit):
    aged(spirit, 45)
    session = dream(spirit)
    before = state_of(spirit)

    assert dream_run(session_id=session.pk).status == DreamStatus.COMPLETED
    assert state_of(spirit) == before
    assert session.actions.count() == 1


@pytest.mark.django_db
def test_one_queued_dream_per_spirit(spirit):
    queued = dream_request(spirit=spirit, trigger=DreamTrigger.API, actor=USER)

    with pytest.raises(Conflict) as exc:
        dream_request(spirit=spirit, trigger=DreamTrigger.ADMIN, actor=USER)

    assert exc.value.details == {"existing_id": str(queued.pk)}


# --- Merging -------------------------------------------------------------------------------------


def embedded(spirit, vector, content, **fields) -> Memory:
    return MemoryFactory(
        spirit=spirit, content=content, embedding=vector, embedding_stale=False, **fields
    )


@pytest.mark.django_db
def test_near_duplicates_merge_keeping_every_line_and_pinned_ones_stay(spirit, other_team):
    base = np.array(unit(1))
    a = embedded(spirit, unit(2, base), "user: I moved to Lisbon in 2021.\nassistant: Nice.")
    b = embedded(spirit, unit(3, base), "user: I moved to Lisbon in 2021.\nuser: I love it.")
    pinned = embedded(spirit, unit(4, base), "user: I moved to Lisbon.", pinned=True)
    other = embedded(spirit, unit(5), "user: The build failed on CI.")
    archived = embedded(spirit, unit(6, base), "user: Lisbon.", status=MemoryStatus.ARCHIVED)

    session = dream(spirit)

    [action] = session.actions.filter(kind=DreamActionKind.MERGE)
    merged = Memory.objects.get(pk=action.memory_id)
    assert merged.content.splitlines() == [
        "user: I moved to Lisbon in 2021.",
        "assistant: Nice.",
        "user: I love it.",
    ]
    assert sorted(action.related_ids) == sorted([str(a.pk), str(b.pk)])
    assert "cosine similarity ≥ 1.000" in action.reasoning and "offline" in action.reasoning
    for source in (a, b):
        source.refresh_from_db()
        assert source.status == MemoryStatus.SUPERSEDED and source.superseded_by_id == merged.pk
    for untouched in (pinned, other, archived):
        untouched.refresh_from_db()
        assert untouched.superseded_by_id is None
    assert pinned.status == MemoryStatus.ACTIVE
    entry = AuditEntry.objects.get(object_id=merged.pk, action=AuditAction.MERGE)
    assert entry.actor_id == "dreamer"
    assert session.stats["merges"] == 1 and session.stats["merged_memories"] == 2


@pytest.mark.django_db
def test_merging_respects_the_threshold_and_the_config(spirit):
    base = np.array(unit(1))
    embedded(spirit, unit(2, base, scale=0.9), "one")  # similarity well below 0.92
    embedded(spirit, unit(3, base, scale=0.9), "two")
    assert dream(spirit).stats["merges"] == 0

    spirit.config = {"dreamer": {"merge_similarity": 0.3}}
    spirit.save()
    assert dream(spirit).stats["merges"] == 1

    spirit.config = {"dreamer": {"merge_similarity": 0.3, "merge": False}}
    spirit.save()
    embedded(spirit, unit(7, base, scale=0.01), "three")
    embedded(spirit, unit(8, base, scale=0.01), "four")
    assert dream(spirit).stats["merges"] == 0


def test_clusters_join_pairs_and_cap_their_size():
    ids = [f"00000000-0000-0000-0000-{i:012d}" for i in range(12)]
    pairs = [(ids[i], ids[i + 1], 0.99 - i * 0.001) for i in range(11)]
    pairs.append((ids[0], ids[11], 0.5))  # never joins: the chain is full first

    found = consolidate.clusters(pairs)

    assert [len(members) for members, _ in found] == [8, 4]
    assert found[0][1] == pytest.approx(0.99 - 6 * 0.001)


def test_offline_text_keeps_each_line_once_in_time_order():
    now = timezone.now()
    older = Memory(content="a\nB  b\nc", summary="short", created_at=now - timedelta(days=1))
    newer = Memory(content="b b\nd", summary="the longest one", created_at=now)

    assert consolidate.offline_text([newer, older]) == {
        "content": "a\nB  b\nc\nd",
        "summary": "the longest one",
    }
    assert consolidate.keeps_numbers([Memory(content="paid 12.50 on 3 May")], "3 May, 12.50")
    assert not consolidate.keeps_numbers([Memory(content="paid 12.50")], "paid 12")


# --- Rollback ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rollback_restores_exactly_the_state_before_the_dream(spirit):
    base = np.array(unit(1))
    embedded(spirit, unit(2, base), "same thing")
    embedded(spirit, unit(3, base), "same thing, again")
    aged(spirit, 45)
    aged(spirit, 400)
    aged(spirit, 0, expires_at=timezone.now() - timedelta(minutes=1))
    before = state_of(spirit)
    session = dream(spirit)
    assert state_of(spirit) != before
    [merge] = session.actions.filter(kind=DreamActionKind.MERGE)

    rolled = dream_rollback(session=session, actor=USER, reason="too eager")

    assert rolled.status == DreamStatus.ROLLED_BACK and rolled.rolled_back_by == "curator"
    assert state_of(spirit) == before
    assert not Memory.all_objects.filter(pk=merge.memory_id).exists()
    purge = AuditEntry.objects.get(object_id=merge.memory_id, action=AuditAction.PURGE)
    assert purge.after is None and "too eager" in purge.reason
    assert AuditEntry.objects.filter(action=AuditAction.ROLLBACK, actor_id="1").count() >= 3


@pytest.mark.django_db
def test_rollback_is_refused_when_a_touched_memory_changed_since(spirit):
    memory = aged(spirit, 45)
    untouched_by_rollback = aged(spirit, 90)
    session = dream(spirit)
    memory.refresh_from_db()
    memory_update(memory=memory, data={"tier": MemoryTier.COLD}, actor=USER)
    after_edit = state_of(spirit)

    with pytest.raises(Conflict) as exc:
        dream_rollback(session=session, actor=USER)

    assert exc.value.details == {"memory_ids": [str(memory.pk)]}
    assert state_of(spirit) == after_edit  # nothing written, the other memory included
    assert untouched_by_rollback.pk != memory.pk
    session.refresh_from_db()
    assert session.status == DreamStatus.COMPLETED


@pytest.mark.django_db
def test_rollback_is_refused_when_a_merged_memory_was_edited(spirit):
    base = np.array(unit(1))
    embedded(spirit, unit(2, base), "x")
    embedded(spirit, unit(3, base), "y")
    session = dream(spirit)
    merged = Memory.objects.get(pk=session.actions.get(kind=DreamActionKind.MERGE).memory_id)
    memory_update(memory=merged, data={"content": "edited"}, actor=USER)

    with pytest.raises(Conflict) as exc:
        dream_rollback(session=session, actor=USER)

    assert exc.value.details == {"memory_ids": [str(merged.pk)]}


@pytest.mark.django_db
def test_a_later_dream_must_be_rolled_back_first_when_it_touched_the_same_memories(spirit):
    memory = aged(spirit, 100)
    first = dream(spirit)
    Memory.all_objects.filter(pk=memory.pk).update(created_at=timezone.now() - timedelta(days=400))
    second = dream(spirit)
    assert second.actions.filter(memory_id=memory.pk).exists()

    with pytest.raises(Conflict):
        dream_rollback(session=first, actor=USER)
    dream_rollback(session=second, actor=USER)
    dream_rollback(session=first, actor=USER)

    memory.refresh_from_db()
    assert (memory.decay, memory.tier, memory.status) == (0, MemoryTier.HOT, MemoryStatus.ACTIVE)


@pytest.mark.django_db
def test_only_a_completed_dream_can_be_rolled_back_once(spirit):
    aged(spirit, 45)
    queued = dream_request(spirit=spirit, trigger=DreamTrigger.API, actor=USER)
    with pytest.raises(Conflict):
        dream_rollback(session=queued, actor=USER)
    session = dream_run(session_id=queued.pk)
    dream_rollback(session=session, actor=USER)

    with pytest.raises(Conflict) as exc:
        dream_rollback(session=session, actor=USER)

    assert exc.value.details == {"status": "rolled_back"}


# --- Schedule ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_spirits_due_have_memories_are_idle_and_have_not_dreamed_lately(spirit, team):
    from events.tests.factories import EventFactory
    from spirits.tests.factories import SpiritFactory

    aged(spirit, 10)
    # (its longest interval between dreams far away: only idleness decides here)
    busy = SpiritFactory(team=team, config={"dreamer": {"max_interval_hours": 1000}})
    aged(busy, 10)
    EventFactory(spirit=busy)  # an event just now: not idle
    disabled = SpiritFactory(team=team, config={"dreamer": {"enabled": False}})
    aged(disabled, 10)
    SpiritFactory(team=team)  # no memories

    assert [s.pk for s in spirits_due()] == [spirit.pk]
    assert schedule_dreams() == 1
    session = DreamSession.objects.get(spirit=spirit)
    assert (session.trigger, session.actor_id) == (DreamTrigger.SCHEDULE, DREAMER.id)
    assert spirits_due() == []  # one is queued
    dream_run(session_id=session.pk)
    assert spirits_due() == []  # dreamed within schedule_hours
    # A day later the busy spirit is idle too; the one that dreamed is due again.
    later = {s.pk for s in spirits_due(timezone.now() + timedelta(hours=25))}
    assert later == {spirit.pk, busy.pk}


@pytest.mark.django_db
def test_a_spirit_that_is_never_idle_still_dreams_after_its_longest_interval(spirit):
    from events.tests.factories import EventFactory

    aged(spirit, 1)  # its first memory, a day ago; it never dreamed
    EventFactory(spirit=spirit)  # busy: an event just now, as always

    spirit.config = {"dreamer": {"max_interval_hours": 48}}
    spirit.save()
    assert spirits_due() == []
    spirit.config = {"dreamer": {"max_interval_hours": 12}}
    spirit.save()
    assert [s.pk for s in spirits_due()] == [spirit.pk]


@pytest.mark.django_db
def test_the_sweep_requeues_a_dream_whose_task_was_lost(
    spirit, django_capture_on_commit_callbacks, sent_tasks
):
    session = dream_request(spirit=spirit, trigger=DreamTrigger.API, actor=USER)
    sent = sent_tasks(flow.DREAM, lambda args, countdown: args[0])
    with django_capture_on_commit_callbacks(execute=True):
        schedule_dreams(timezone.now() + timedelta(hours=1))

    assert sent == [str(session.pk)]
