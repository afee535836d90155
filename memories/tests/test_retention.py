"""Retention: a team's retention_days removes older events and what only they supported."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from events.models import Event, EventEmbedding, Session
from events.services.sessions import sessions_recompute
from events.tests.factories import EventFactory
from memories.models import AuditEntry, ContextPack, Knowledge, Lesson, Memory, MemoryEvent
from memories.services import retention
from memories.services.knowledge import knowledge_create
from memories.services.lessons import lesson_create
from memories.services.memories import memory_create, memory_mark_disputed, memory_update
from memories.services.retention import retention_apply
from memories.tasks import retention_sweep
from spirits.tests.factories import SpiritFactory
from teams.actors import Actor
from teams.webhooks.models import WebhookAttempt, WebhookDelivery

pytestmark = pytest.mark.django_db

ACTOR = Actor(type="user", id="u1", label="curator")
DAYS = 30
REASON = f"retention: older than {DAYS} days"


@pytest.fixture
def team(team):
    team.retention_days = DAYS
    team.save()
    return team


def _event(spirit, days_ago: float, session_id: str = "s-1", **kw) -> Event:
    return EventFactory(
        spirit=spirit,
        occurred_at=timezone.now() - timedelta(days=days_ago),
        session_id=session_id,
        **kw,
    )


def _memory(spirit, events=(), **data) -> Memory:
    return memory_create(
        spirit=spirit,
        data={"content": "remembered text", **data},
        actor=ACTOR,
        event_ids=[e.pk for e in events],
    )


def _exists(obj) -> bool:
    return type(obj).all_objects.filter(pk=obj.pk).exists()


def test_old_events_and_their_vectors_are_removed_recent_ones_kept(team, spirit):
    old, deleted_old, recent = _event(spirit, 40), _event(spirit, 31), _event(spirit, 1)
    deleted_old.deleted_at = timezone.now()
    deleted_old.save()
    EventEmbedding.objects.create(event=old, embedding=[0.1] * 384, model="m")
    counts = retention_apply(team=team)
    assert list(Event.all_objects.values_list("pk", flat=True)) == [recent.pk]
    assert not EventEmbedding.objects.exists()
    assert counts["events.Event"] == 2 and counts["events.EventEmbedding"] == 1


def test_memory_supported_only_by_old_events_is_removed_and_logged(team, spirit):
    memory = _memory(spirit, [_event(spirit, 40), _event(spirit, 35)])
    retention_apply(team=team)
    assert not _exists(memory)
    entries = list(AuditEntry.objects.filter(object_id=memory.pk).order_by("id"))
    assert [e.action for e in entries] == ["create", "purge"]
    assert entries[-1].reason == REASON
    assert entries[-1].actor_id == "retention"
    assert all(e.before is None and e.after is None for e in entries)  # no content left


def test_memory_with_one_recent_event_is_kept_without_the_old_link(team, spirit):
    old, recent = _event(spirit, 40), _event(spirit, 2)
    memory = _memory(spirit, [old, recent])
    retention_apply(team=team)
    assert _exists(memory)
    assert list(MemoryEvent.objects.filter(memory=memory).values_list("event_id", flat=True)) == [
        recent.pk
    ]


def test_pinned_memory_is_kept(team, spirit):
    memory = _memory(spirit, [_event(spirit, 40)], pinned=True)
    retention_apply(team=team)
    assert _exists(memory)
    assert not memory.event_links.exists()


def test_memory_without_events_is_kept_however_old(team, spirit):
    memory = _memory(spirit)
    Memory.all_objects.filter(pk=memory.pk).update(created_at=timezone.now() - timedelta(400))
    _event(spirit, 40)
    retention_apply(team=team)
    assert _exists(memory)


def test_knowledge_and_lessons_follow_their_source_memories(team, spirit):
    gone = _memory(spirit, [_event(spirit, 40)])
    kept = _memory(spirit, [_event(spirit, 3)])

    def fact(memory_ids):
        return knowledge_create(
            spirit=spirit,
            data={"knowledge_type": "FACT", "content": "fact"},
            actor=ACTOR,
            memory_ids=memory_ids,
        )

    only_gone, mixed, sourceless = fact([gone.pk]), fact([gone.pk, kept.pk]), fact([])
    lesson_gone = lesson_create(
        spirit=spirit, data={"statement": "s"}, actor=ACTOR, memory_ids=[gone.pk]
    )
    lesson_kept = lesson_create(
        spirit=spirit, data={"statement": "s"}, actor=ACTOR, memory_ids=[kept.pk]
    )
    counts = retention_apply(team=team)
    assert not _exists(only_gone) and not _exists(lesson_gone)
    assert _exists(mixed) and _exists(sourceless) and _exists(lesson_kept)
    assert list(mixed.memory_links.values_list("memory_id", flat=True)) == [kept.pk]
    assert counts["memories.Knowledge"] == 1 and counts["memories.Lesson"] == 1
    purge = AuditEntry.objects.get(object_id=only_gone.pk, action="purge")
    assert purge.object_type == "knowledge" and purge.reason == REASON


def test_sessions_are_recounted_and_emptied_ones_removed(team, spirit):
    _event(spirit, 40, session_id="old")
    _event(spirit, 40, session_id="mixed")
    _event(spirit, 1, session_id="mixed")
    sessions_recompute(spirit_id=spirit.pk)
    retention_apply(team=team)
    assert list(Session.objects.values_list("session_id", "event_count")) == [("mixed", 1)]


def test_old_context_packs_are_removed(team, spirit):
    old = ContextPack.objects.create(
        spirit=spirit,
        preset="chat",
        max_tokens=10,
        token_count=1,
        created_at=timezone.now() - timedelta(days=40),
    )
    new = ContextPack.objects.create(spirit=spirit, preset="chat", max_tokens=10, token_count=1)
    retention_apply(team=team)
    assert list(ContextPack.objects.values_list("pk", flat=True)) == [new.pk]
    assert old.pk != new.pk


def _pack(spirit, *quoted) -> ContextPack:
    """A new context pack quoting `quoted` (events, memories, knowledge, lessons) as the
    compiler stores them: one item per row, with the row's text."""
    kinds = {Event: "event", Memory: "memory", Knowledge: "knowledge", Lesson: "lesson"}
    items = [
        {"layer": "memories", "kind": kinds[type(o)], "id": str(o.pk), "text": "quoted text"}
        for o in quoted
    ]
    items.append({"layer": "identity", "kind": "identity", "id": "essence", "text": "Ada"})
    return ContextPack.objects.create(
        spirit=spirit, preset="chat", max_tokens=10, token_count=1, items=items, text="quoted"
    )


def test_new_context_packs_quoting_removed_rows_are_removed(team, spirit):
    old_event, recent_event = _event(spirit, 40), _event(spirit, 2)
    gone, kept = _memory(spirit, [_event(spirit, 35)]), _memory(spirit, [recent_event])
    lesson = lesson_create(
        spirit=spirit, data={"statement": "s"}, actor=ACTOR, memory_ids=[gone.pk]
    )
    quoting_event, quoting_memory = _pack(spirit, recent_event, old_event), _pack(spirit, gone)
    quoting_lesson = _pack(spirit, kept, lesson)
    clean = _pack(spirit, recent_event, kept)
    identity_only = _pack(spirit)

    counts = retention_apply(team=team)

    assert set(ContextPack.objects.values_list("pk", flat=True)) == {clean.pk, identity_only.pk}
    assert counts["memories.ContextPack"] == 3
    assert {quoting_event.pk, quoting_memory.pk, quoting_lesson.pk}.isdisjoint(
        ContextPack.objects.values_list("pk", flat=True)
    )


def test_webhook_deliveries_holding_removed_memories_are_removed(team, spirit):
    team.webhook_url, team.webhook_secret = "https://example.com/hook", "s"
    team.save()
    gone = _memory(spirit, [_event(spirit, 40)], content="a secret to forget")
    memory_update(memory=gone, data={"summary": "the secret, summed up"}, actor=ACTOR)
    kept = _memory(spirit, [_event(spirit, 2)], content="kept")
    memory_mark_disputed(memory=kept, conflicting=gone, actor=ACTOR)  # holds gone's state too
    other = _memory(spirit, [_event(spirit, 2)], content="unrelated")
    assert WebhookDelivery.objects.filter(payload__data__object_id=str(gone.pk)).count() == 2
    for delivery in WebhookDelivery.objects.all():
        WebhookAttempt.objects.create(delivery=delivery, number=1, http_status=200, succeeded=True)

    counts = retention_apply(team=team)

    left = WebhookDelivery.objects.exclude(event_type="purge.completed")
    assert sorted(left.values_list("payload__data__object_id", flat=True)) == sorted(
        [str(kept.pk), str(other.pk)]  # their memory.created
    )
    assert "secret" not in json.dumps(list(WebhookDelivery.objects.values_list("payload")))
    assert counts["teams.WebhookDelivery"] == 3 and counts["teams.WebhookAttempt"] == 3
    assert WebhookAttempt.objects.count() == 2
    purge = WebhookDelivery.objects.get(event_type="purge.completed")
    assert purge.payload["data"]["deleted"]["teams.WebhookDelivery"] == 3


def test_teams_without_retention_and_other_teams_are_untouched(team, other_team):
    foreign = SpiritFactory(team=other_team)
    event = _event(foreign, 400)
    memory = _memory(foreign, [event])
    assert retention_apply(team=other_team) == {}
    retention_apply(team=team)
    assert _exists(event) and _exists(memory)


def test_nothing_old_means_nothing_removed(team, spirit):
    _memory(spirit, [_event(spirit, 29)])
    assert retention_apply(team=team) == {}
    assert Memory.objects.count() == 1


def test_retention_sends_purge_completed(team, spirit):
    team.webhook_url, team.webhook_secret = "https://example.com/hook", "s"
    team.save()
    _memory(spirit, [_event(spirit, 40)])
    WebhookDelivery.objects.all().delete()  # the memory.created one
    retention_apply(team=team)
    delivery = WebhookDelivery.objects.get()
    assert delivery.event_type == "purge.completed"
    data = delivery.payload["data"]
    assert data["scope"] == "retention" and data["retention_days"] == DAYS
    assert data["deleted"]["memories.Memory"] == 1


def test_the_sweep_enqueues_one_task_per_team_with_retention(
    team, other_team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        assert retention_sweep.apply().get() == 1
    assert len(callbacks) == 1


def test_knowledge_is_not_removed_twice_across_spirits(team):
    a, b = SpiritFactory(team=team), SpiritFactory(team=team)
    _memory(a, [_event(a, 40)])
    _memory(b, [_event(b, 3)])
    counts = retention_apply(team=team)
    assert counts["memories.Memory"] == 1
    assert Memory.objects.filter(spirit=b).count() == 1
    assert not Knowledge.objects.exists() and not Lesson.objects.exists()


def _deletes(sqls: list[str]) -> dict[str, list[int]]:
    """{table: [rows deleted by each DELETE statement]} of (sql, rowcount) pairs."""
    found: dict[str, list[int]] = {}
    for sql, rows in sqls:
        match = re.match(r'DELETE FROM "(\w+)"', sql)
        if match:
            found.setdefault(match.group(1), []).append(rows)
    return found


def test_retention_deletes_in_batches_until_nothing_is_left(team, spirit, monkeypatch):
    """With batches of 2, five old events with a memory each (and knowledge resting on two
    of them) are all removed, no statement deleting more than 2 events, memories or packs."""
    monkeypatch.setattr(retention, "BATCH_SIZE", 2, raising=False)
    memories = [_memory(spirit, [_event(spirit, 40 + i)]) for i in range(5)]
    item = knowledge_create(
        spirit=spirit,
        data={"knowledge_type": "FACT", "content": "fact"},
        actor=ACTOR,
        memory_ids=[memories[0].pk, memories[4].pk],
    )
    for _ in range(3):
        ContextPack.objects.create(
            spirit=spirit,
            preset="chat",
            max_tokens=10,
            token_count=1,
            created_at=timezone.now() - timedelta(days=40),
        )
    kept = _memory(spirit, [_event(spirit, 1)])
    statements: list[tuple[str, int]] = []

    def record(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        statements.append((sql, context["cursor"].rowcount))
        return result

    with connection.execute_wrapper(record):
        counts = retention_apply(team=team)

    assert counts["events.Event"] == 5 and counts["memories.Memory"] == 5
    assert counts["memories.Knowledge"] == 1 and counts["memories.ContextPack"] == 3
    assert list(Memory.all_objects.values_list("pk", flat=True)) == [kept.pk]
    assert Event.all_objects.count() == 1 and not ContextPack.objects.exists()
    assert not _exists(item)
    assert AuditEntry.objects.filter(action="purge", object_type="memory").count() == 5
    deletes = _deletes(statements)
    for model in (Event, Memory, ContextPack):
        rows = deletes[model._meta.db_table]
        assert len(rows) >= 2 and max(rows) <= 2, (model, rows)
