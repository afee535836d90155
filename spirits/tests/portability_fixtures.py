"""A spirit with every kind of row an export holds, built with the factories and the services;
its counts and its relations written by content (ids differ between a spirit and its copy)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from events.models import ARRIVAL_ORDER, Event, EventEmbedding, Session
from events.tests.factories import EventFactory, SessionFactory
from memories.models import (
    AuditEntry,
    DreamAction,
    DreamSession,
    Identity,
    Knowledge,
    KnowledgeMemory,
    Lesson,
    LessonMemory,
    Memory,
    MemoryEvent,
    MemoryTag,
)
from memories.services.identity import identity_revise
from memories.services.knowledge import knowledge_close, knowledge_create
from memories.services.lessons import lesson_create, lesson_soft_delete
from memories.services.memories import (
    memory_create,
    memory_mark_disputed,
    memory_pin,
    memory_soft_delete,
    memory_supersede,
)
from spirits.models import Spirit
from spirits.services import spirit_update
from teams.actors import Actor

ACTOR = Actor(type="user", id="u1", label="curator@example.com")
VECTOR = [0.25] * 384


def fill_spirit(spirit, *, events: int = 6) -> dict:
    """Sessions, events (one soft-deleted, one with a dedupe key, vectors), memories (tags,
    provenance with strengths, related, contradicts, superseded, pinned, soft-deleted), knowledge
    (validity, sources, closed and superseded), lessons, an identity with revisions, a dream with
    actions. Returns some of the rows by name."""
    spirit_update(spirit=spirit, config={"synthesis": {"enabled": False}}, metadata={"k": "v"})
    start = timezone.now() - timedelta(days=3)
    first = SessionFactory(spirit=spirit, session_id="chat-1", title="First", event_count=4)
    SessionFactory(spirit=spirit, session_id="chat-2", status="closed")
    made = []
    for n in range(events):
        event = EventFactory(
            spirit=spirit,
            session_id=first.session_id if n < 4 else "chat-2",
            content=f"Event number {n}: the user likes tea {n} times.",
            occurred_at=start + timedelta(minutes=n // 2),  # ties, broken by arrival
            dedupe_key=f"key-{n}" if n % 3 == 0 else None,
            importance_score=0.5 if n % 2 else None,
            metadata={"n": n},
            enriched_at=start,
            synthesized_at=start if n < 3 else None,
        )
        EventEmbedding.objects.create(event=event, embedding=VECTOR, model="test-model")
        made.append(event)
    Event.all_objects.filter(pk=made[-1].pk).update(deleted_at=timezone.now())

    tea = memory_create(
        spirit=spirit,
        data={"content": "The user likes tea.", "importance": 0.7, "memory_type": "semantic"},
        actor=ACTOR,
        tags=["drinks", "taste"],
        event_ids={made[0].pk: 0.9, made[1].pk: 0.35},
        reason="seen in chat",
    )
    coffee = memory_create(
        spirit=spirit,
        data={"content": "The user hates coffee."},
        actor=ACTOR,
        event_ids=[made[2].pk],
        related_ids=[tea.pk],
    )
    doubt = memory_create(spirit=spirit, data={"content": "The user drinks coffee."}, actor=ACTOR)
    memory_mark_disputed(memory=doubt, conflicting=coffee, actor=ACTOR)
    memory_pin(memory=tea, actor=ACTOR)
    newer = memory_supersede(
        memory=coffee, data={"content": "The user avoids coffee after noon."}, actor=ACTOR
    )
    gone = memory_create(spirit=spirit, data={"content": "A forgotten detail."}, actor=ACTOR)
    memory_soft_delete(memory=gone, actor=ACTOR)
    Memory.all_objects.filter(pk=tea.pk).update(embedding=VECTOR, embedding_model="test-model")

    old_fact = knowledge_create(
        spirit=spirit,
        data={
            "knowledge_type": "FACT",
            "content": "The user lives in Lyon.",
            "valid_from": start,
        },
        actor=ACTOR,
        memory_ids=[tea.pk, coffee.pk],
    )
    new_fact = knowledge_create(
        spirit=spirit,
        data={"knowledge_type": "FACT", "content": "The user lives in Paris."},
        actor=ACTOR,
        memory_ids=[newer.pk],
    )
    knowledge_close(knowledge=old_fact, actor=ACTOR, superseded_by=new_fact)
    lesson_create(
        spirit=spirit,
        data={"statement": "Offer tea, not coffee.", "rationale": "taste"},
        actor=ACTOR,
        memory_ids=[tea.pk, newer.pk],
    )
    dropped = lesson_create(spirit=spirit, data={"statement": "Talk less."}, actor=ACTOR)
    lesson_soft_delete(lesson=dropped, actor=ACTOR)

    identity_revise(spirit=spirit, document={"essence": "A helper"}, actor=ACTOR, partial=True)
    identity_revise(
        spirit=spirit,
        document={"essence": "A tea-loving helper"},
        actor=ACTOR,
        partial=True,
        reason="learned",
        related_ids=[new_fact.pk],
    )

    dream = DreamSession.objects.create(
        spirit=spirit,
        trigger="api",
        status="completed",
        actor_type="user",
        actor_label="curator",
        stats={"faded": 1},
    )
    DreamAction.objects.create(
        session=dream,
        memory_id=tea.pk,
        kind="fade",
        before={"id": str(tea.pk), "decay": 0.0},
        after={"id": str(tea.pk), "decay": 0.1},
        reasoning="old",
        related_ids=[str(coffee.pk)],
    )
    return {"events": made, "tea": tea, "coffee": coffee, "newer": newer, "dream": dream}


def counts(spirit_id) -> dict[str, int]:
    """Rows of the spirit in every table an export covers."""
    identity = Identity.objects.filter(spirit_id=spirit_id).first()
    return {
        "sessions": Session.objects.filter(spirit_id=spirit_id).count(),
        "events": Event.all_objects.filter(spirit_id=spirit_id).count(),
        "deleted_events": Event.all_objects.filter(spirit_id=spirit_id).deleted().count(),
        "memories": Memory.all_objects.filter(spirit_id=spirit_id).count(),
        "deleted_memories": Memory.all_objects.filter(spirit_id=spirit_id).deleted().count(),
        "memory_tags": MemoryTag.objects.filter(memory__spirit_id=spirit_id).count(),
        "memory_events": MemoryEvent.objects.filter(memory__spirit_id=spirit_id).count(),
        "related": Memory.related_to.through.objects.filter(
            from_memory__spirit_id=spirit_id
        ).count(),
        "contradicts": Memory.contradicts.through.objects.filter(
            from_memory__spirit_id=spirit_id
        ).count(),
        "knowledge": Knowledge.all_objects.filter(spirit_id=spirit_id).count(),
        "knowledge_sources": KnowledgeMemory.objects.filter(knowledge__spirit_id=spirit_id).count(),
        "lessons": Lesson.all_objects.filter(spirit_id=spirit_id).count(),
        "lesson_sources": LessonMemory.objects.filter(lesson__spirit_id=spirit_id).count(),
        "identity": Identity.objects.filter(spirit_id=spirit_id).count(),
        "identity_versions": AuditEntry.objects.filter(
            object_type="identity", object_id=identity.pk if identity else None
        ).count(),
        "dreams": DreamSession.objects.filter(spirit_id=spirit_id).count(),
        "dream_actions": DreamAction.objects.filter(session__spirit_id=spirit_id).count(),
    }


def all_rows() -> dict[str, int]:
    """Every row of the tables an import writes, whatever the spirit (nothing-written checks)."""
    return {
        "spirits": Spirit.all_objects.count(),
        "sessions": Session.objects.count(),
        "events": Event.all_objects.count(),
        "event_vectors": EventEmbedding.objects.count(),
        "memories": Memory.all_objects.count(),
        "memory_tags": MemoryTag.objects.count(),
        "memory_events": MemoryEvent.objects.count(),
        "knowledge": Knowledge.all_objects.count(),
        "lessons": Lesson.all_objects.count(),
        "identities": Identity.objects.count(),
        "dreams": DreamSession.objects.count(),
        "dream_actions": DreamAction.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def relations(spirit_id) -> dict:
    """Everything of the spirit that a copy must keep, named by content instead of ids."""
    events = {e.pk: e for e in Event.all_objects.filter(spirit_id=spirit_id)}
    memories = {m.pk: m for m in Memory.all_objects.filter(spirit_id=spirit_id)}
    knowledge = {k.pk: k for k in Knowledge.all_objects.filter(spirit_id=spirit_id)}
    text = {
        **{k: e.content for k, e in events.items()},
        **{k: m.content for k, m in memories.items()},
    }
    text.update({k: i.content for k, i in knowledge.items()})

    def named(ids) -> list:
        return sorted(text.get(i, text.get(_uuid(i), "?")) for i in ids)

    result = {
        "events": sorted(
            (
                e.content,
                e.event_type,
                e.occurred_at,
                e.session_id,
                e.dedupe_key,
                e.importance_score,
                e.deleted_at is not None,
                e.synthesized_at,
                json.dumps(e.metadata),
            )
            for e in events.values()
        ),
        "event_order": list(
            Event.all_objects.filter(spirit_id=spirit_id)
            .order_by(*ARRIVAL_ORDER)
            .values_list("content", flat=True)
        ),
        "sessions": sorted(
            Session.objects.filter(spirit_id=spirit_id).values_list(
                "session_id", "title", "status", "event_count", "created_at"
            )
        ),
        "memories": {},
        "knowledge": {
            k.content: (
                k.knowledge_type,
                k.valid_from,
                k.valid_to,
                text.get(k.superseded_by_id),
                named(k.memory_links.values_list("memory_id", flat=True)),
                k.deleted_at is not None,
            )
            for k in knowledge.values()
        },
        "lessons": {
            lesson.statement: (
                lesson.status,
                lesson.rationale,
                lesson.deleted_at is not None,
                named(lesson.memory_links.values_list("memory_id", flat=True)),
            )
            for lesson in Lesson.all_objects.filter(spirit_id=spirit_id)
        },
    }
    for m in memories.values():
        result["memories"][m.content] = {
            "fields": (
                m.memory_type,
                m.status,
                m.tier,
                m.pinned,
                m.version,
                m.importance,
                m.time_start,
                m.time_end,
                m.created_at,
                m.deleted_at,
                m.extracted_at,
            ),
            "tags": sorted(m.tags.values_list("name", flat=True)),
            "provenance": sorted(
                (events[link.event_id].content, link.link_strength) for link in m.event_links.all()
            ),
            "related": named(m.related_to.values_list("id", flat=True)),
            "contradicts": named(m.contradicts.values_list("id", flat=True)),
            "superseded_by": text.get(m.superseded_by_id),
        }
    identity = Identity.objects.filter(spirit_id=spirit_id).first()
    entries = AuditEntry.objects.filter(object_type="identity", object_id=identity.pk)
    result["identity"] = (
        identity.document,
        identity.version,
        [
            (
                e.action,
                (e.after or {}).get("document"),
                (e.after or {}).get("version"),
                (e.after or {}).get("spirit_id") == str(spirit_id),
                e.actor_label,
                e.reason,
                e.created_at,
                named(e.related_ids),
            )
            for e in entries.order_by("created_at", "id")
        ],
    )
    result["dreams"] = [
        (
            d.trigger,
            d.status,
            d.actor_label,
            d.stats,
            [
                (
                    a.kind,
                    text.get(a.memory_id),
                    a.reasoning,
                    a.before["decay"],
                    a.before["id"] == str(a.memory_id),
                    named(a.related_ids),
                )
                for a in d.actions.all()
            ],
        )
        for d in DreamSession.objects.filter(spirit_id=spirit_id)
    ]
    result["no_foreign_links"] = not MemoryEvent.objects.filter(
        Q(memory__spirit_id=spirit_id) & ~Q(event__spirit_id=spirit_id)
    ).exists()
    return result


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
