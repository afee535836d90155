"""A spirit with a row in every table that belongs to a spirit, and a count of them all."""

from __future__ import annotations

from django.utils import timezone

from events.models import Event, EventEmbedding, Session
from events.tests.factories import EventFactory, SessionFactory
from memories.models import (
    ContextPack,
    DreamAction,
    DreamSession,
    Identity,
    Knowledge,
    KnowledgeMemory,
    Lesson,
    LessonMemory,
    LlmCall,
    Memory,
    MemoryEvent,
    MemoryTag,
    PipelineFailure,
)
from memories.services.identity import identity_revise
from memories.services.knowledge import knowledge_create
from memories.services.lessons import lesson_create
from memories.services.memories import memory_create, memory_update
from teams.actors import Actor
from teams.webhooks.models import WebhookAttempt, WebhookDelivery

ACTOR = Actor(type="user", id="u1", label="curator@example.com")
VECTOR = [0.1] * 384


def fill_spirit(spirit, *, content: str = "The user's secret is 42.") -> None:
    session = SessionFactory(spirit=spirit, session_id="s-1")
    events = [EventFactory(spirit=spirit, session_id=session.session_id) for _ in range(3)]
    for event in events:
        EventEmbedding.objects.create(event=event, embedding=VECTOR, model="test")
    first = memory_create(
        spirit=spirit,
        data={"content": content},
        actor=ACTOR,
        tags=["private"],
        event_ids=[e.pk for e in events],
        reason="seen in chat",
    )
    second = memory_create(
        spirit=spirit, data={"content": "Another memory."}, actor=ACTOR, related_ids=[first.pk]
    )
    first.contradicts.add(second)  # a raw link, for the count
    Memory.all_objects.filter(pk=first.pk).update(embedding=VECTOR)
    memory_update(memory=second, data={"summary": "another"}, actor=ACTOR)
    knowledge_create(
        spirit=spirit,
        data={"knowledge_type": "FACT", "content": content},
        actor=ACTOR,
        memory_ids=[first.pk],
    )
    lesson_create(spirit=spirit, data={"statement": content}, actor=ACTOR, memory_ids=[first.pk])
    identity_revise(spirit=spirit, document={"essence": "Ada"}, actor=ACTOR, partial=True)
    dream = DreamSession.objects.create(spirit=spirit, trigger="api", actor_type="user")
    DreamAction.objects.create(session=dream, memory_id=first.pk, kind="fade")
    PipelineFailure.objects.create(spirit=spirit, step="embed", task_name="t", error="boom")
    ContextPack.objects.create(spirit=spirit, preset="chat", max_tokens=100, token_count=10)
    LlmCall.objects.create(model="m", purpose="synthesis", spirit_id=spirit.pk, status="ok")
    delivery = WebhookDelivery.objects.create(
        team=spirit.team,
        spirit_id=spirit.pk,
        event_type="memory.created",
        payload={"content": content},
    )
    WebhookAttempt.objects.create(delivery=delivery, number=1, http_status=200, succeeded=True)


def rows_of(spirit_id) -> dict[str, int]:
    """Every row of the spirit, per table."""
    through = {
        "contradicts": Memory.contradicts.through,
        "related_to": Memory.related_to.through,
    }
    counts = {
        "events": Event.all_objects.filter(spirit_id=spirit_id).count(),
        "event_vectors": EventEmbedding.objects.filter(event__spirit_id=spirit_id).count(),
        "sessions": Session.objects.filter(spirit_id=spirit_id).count(),
        "memories": Memory.all_objects.filter(spirit_id=spirit_id).count(),
        "memory_tags": MemoryTag.objects.filter(memory__spirit_id=spirit_id).count(),
        "memory_events": MemoryEvent.objects.filter(memory__spirit_id=spirit_id).count(),
        "knowledge": Knowledge.all_objects.filter(spirit_id=spirit_id).count(),
        "knowledge_links": KnowledgeMemory.objects.filter(knowledge__spirit_id=spirit_id).count(),
        "lessons": Lesson.all_objects.filter(spirit_id=spirit_id).count(),
        "lesson_links": LessonMemory.objects.filter(lesson__spirit_id=spirit_id).count(),
        "identity": Identity.objects.filter(spirit_id=spirit_id).count(),
        "dreams": DreamSession.objects.filter(spirit_id=spirit_id).count(),
        "dream_actions": DreamAction.objects.filter(session__spirit_id=spirit_id).count(),
        "pipeline_failures": PipelineFailure.objects.filter(spirit_id=spirit_id).count(),
        "packs": ContextPack.objects.filter(spirit_id=spirit_id).count(),
        "llm_calls": LlmCall.objects.filter(spirit_id=spirit_id).count(),
        "webhook_deliveries": WebhookDelivery.objects.filter(spirit_id=spirit_id)
        .exclude(event_type="purge.completed")
        .count(),
        "webhook_attempts": WebhookAttempt.objects.filter(delivery__spirit_id=spirit_id).count(),
    }
    for name, model in through.items():
        counts[name] = model.objects.filter(from_memory__spirit_id=spirit_id).count()
    return counts


def now():
    return timezone.now()
