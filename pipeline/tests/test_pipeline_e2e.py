"""The whole pipeline in a real Celery worker on real Redis: a multi-session conversation is
ingested; enrichment, embeddings, memories with provenance, knowledge, lessons and the identity
follow; a dream runs and is rolled back."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from elephantasm.tests.waiting import real_worker, wait_until
from events.models import Event
from memories.models import (
    DreamSession,
    DreamStatus,
    Identity,
    Knowledge,
    Lesson,
    Memory,
    MemoryEvent,
    MemoryTier,
)
from pipeline import tasks

PIPELINE_TASKS = [
    tasks.enrich_events,
    tasks.synthesize_spirit,
    tasks.extract_memories,
    tasks.embed_stale,
    tasks.evolve_identity,
    tasks.dream,
]
CONVERSATION = {
    "monday": [
        ("user", "Hi! My name is Ada Lovelace."),
        ("assistant", "Nice to meet you, Ada."),
        ("user", "I live in Lisbon. Always answer briefly."),
        ("assistant", "Noted."),
    ],
    "friday": [
        ("user", "I work at Analytical Engines Ltd."),
        ("assistant", "Good to know."),
        ("user", "My favourite language is Python. Never use emojis."),
        ("assistant", "Understood."),
    ],
}


@pytest.fixture
def private_queue(route_to_private_queue):
    """Every pipeline task on a queue of this test only (a `make run` worker consumes the real
    ones on its own Redis database, but never this one)."""
    return route_to_private_queue(*(task.name for task in PIPELINE_TASKS))


@pytest.mark.django_db(transaction=True)
@override_settings(SYNTHESIS_DEBOUNCE_SECONDS=0)
def test_a_conversation_goes_through_the_whole_pipeline_and_a_dream_rolls_back(
    spirit, api, private_queue
):
    spirit.config = {"synthesis": {"threshold": 0.01}, "identity": {"revise_after": 3}}
    spirit.save()
    start = timezone.now() - timedelta(days=2)
    events = [
        {
            "event_type": "message.in" if role == "user" else "message.out",
            "role": role,
            "content": text,
            "session_id": session,
            "occurred_at": (start + timedelta(days=day, minutes=i)).isoformat(),
        }
        for day, (session, turns) in enumerate(CONVERSATION.items())
        for i, (role, text) in enumerate(turns)
    ]
    response = api.post(
        "/api/v1/events/bulk/", {"spirit_id": str(spirit.pk), "events": events}, format="json"
    )
    assert response.status_code == 200, response.content
    ids = {uuid.UUID(r["id"]) for r in response.json()["results"]}
    assert len(ids) == 8

    with real_worker(private_queue):
        live = Event.objects.filter(pk__in=ids)
        wait_until(
            lambda: (
                not live.filter(enriched_at__isnull=True).exists()
                and not live.filter(vector__isnull=True).exists()
            ),
            "events enriched and embedded",
        )
        wait_until(
            lambda: MemoryEvent.objects.filter(event_id__in=ids).count() == len(ids),
            "every event in a memory",
        )
        memories = Memory.objects.filter(spirit=spirit)
        wait_until(lambda: not memories.filter(embedding_stale=True).exists(), "memories embedded")
        facts = Knowledge.objects.filter(spirit=spirit, valid_to__isnull=True)
        wait_until(lambda: facts.count() == 4 and Lesson.objects.count() == 2, "extraction")
        wait_until(
            lambda: (
                not facts.filter(embedding_stale=True).exists()
                and not Lesson.objects.filter(embedding_stale=True).exists()
            ),
            "knowledge and lessons embedded",
        )
        wait_until(lambda: Identity.objects.filter(spirit=spirit).exists(), "identity evolved")

        # Age the memories, then dream through the API.
        long_ago = timezone.now() - timedelta(days=50)
        Memory.all_objects.filter(spirit=spirit).update(
            created_at=long_ago, time_start=long_ago, time_end=long_ago
        )
        before = {m.pk: (m.tier, m.status, m.decay) for m in memories}
        response = api.post(f"/api/v1/spirits/{spirit.pk}/dreams/", format="json")
        assert response.status_code == 202, response.content
        session_id = response.json()["id"]
        wait_until(
            lambda: DreamSession.objects.get(pk=session_id).status == DreamStatus.COMPLETED,
            "the dream",
        )

    # Memories: of both sessions, each about one subject, with provenance, time spans, embeddings.
    assert {m.metadata["synthesis"]["session_id"] for m in memories} == {"friday", "monday"}
    assert {"who they are", "home", "work and studies"} <= {m.subject for m in memories}
    for memory in memories:
        assert memory.time_start <= memory.time_end
        assert len(memory.embedding) == 384
    assert {f.topic for f in facts} == {"name", "location", "employer", "preference:language"}
    assert {lesson.statement for lesson in Lesson.objects.all()} == {
        "Always answer briefly.",
        "Never use emojis.",
    }
    identity = Identity.objects.get(spirit=spirit)
    assert identity.document["relationships"][0]["name"] == "Ada Lovelace"
    assert "Always answer briefly." in identity.document["principles"]

    # The dream moved them; the rollback puts them back exactly.
    assert {m.pk: m.tier for m in memories.all()} == dict.fromkeys(before, MemoryTier.WARM)
    pipeline = api.get(f"/api/v1/spirits/{spirit.pk}/pipeline/").json()
    assert pipeline["steps"]["dreamer"]["last"]["id"] == session_id
    assert all(step["last_failure_at"] is None for step in pipeline["steps"].values())
    assert pipeline["steps"]["synthesis"]["pending"] == 0
    response = api.post(f"/api/v1/dreams/{session_id}/rollback/", format="json")
    assert response.status_code == 200, response.content
    assert {m.pk: (m.tier, m.status, m.decay) for m in memories.all()} == before


@pytest.mark.django_db(transaction=True)
@override_settings(SYNTHESIS_DEBOUNCE_SECONDS=1)
def test_with_default_settings_a_twenty_turn_conversation_becomes_memories_and_facts(
    spirit, api, private_queue
):
    assert spirit.config == {}  # the defaults: no gate tuned
    said = [
        "hey, I'm Maya Okafor, just moved to Amsterdam last month",
        "I work as a data engineer at Adyen, mostly Spark pipelines",
        "my partner Sam is vegetarian so I'm learning to cook without meat",
        "we're flying to Lisbon in October for a wedding",
    ]
    events = []
    for k in range(10):  # ten exchanges, no times given: they keep their order
        events.append({"event_type": "message.in", "role": "user", "content": said[k % 4]})
        answer = f"Noted ({k}), thanks for telling me."
        events.append({"event_type": "message.out", "role": "assistant", "content": answer})
    for event in events:
        event["session_id"] = "chat"
    response = api.post(
        "/api/v1/events/bulk/", {"spirit_id": str(spirit.pk), "events": events}, format="json"
    )
    assert response.json()["created"] == 20

    with real_worker(private_queue):
        facts = Knowledge.objects.filter(spirit=spirit, valid_to__isnull=True)
        wait_until(lambda: facts.filter(topic="employer").exists(), "memories and facts")

    memories = Memory.objects.filter(spirit=spirit)
    assert {"who they are", "work and studies"} <= {m.subject for m in memories}
    assert facts.get(topic="employer").content == "The user works at Adyen."
    assert facts.get(topic="location").content == "The user lives in Amsterdam."
