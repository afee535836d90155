"""Thin Celery tasks of the memories app: each calls one service."""

from __future__ import annotations

import contextlib
import functools
from datetime import datetime
from uuid import UUID

import redis
from celery import shared_task
from django.conf import settings
from django.db import transaction

from elephantasm.ai.llm import TransientLanguageModelError
from elephantasm.tasks import SAFE_DELIVERY
from memories import embedding, evolution, extraction, synthesis
from memories.dreamer import run as dreamer_run
from memories.packs import access as pack_access

# Steps that may ask a language model also retry when it stayed unavailable (retries ran out on
# 429/5xx/timeouts): their input stays pending until then.
MODEL_DELIVERY = SAFE_DELIVERY | {
    "autoretry_for": (*SAFE_DELIVERY["autoretry_for"], TransientLanguageModelError)
}


@shared_task(bind=True, name="memories.tasks.embed_stale", queue="embed", **SAFE_DELIVERY)
def embed_stale(self, model_label: str, ids: list[str] | None = None) -> int:
    """Embed the stale rows of `model_label` ("memories.memory", "memories.knowledge",
    "memories.lesson") among `ids` (all stale rows when None). Idempotent. Returns how many."""
    model = embedding.embeddable_model(model_label)
    return embedding.embed_stale(model=model, ids=ids, batch_size=settings.EMBED_BATCH_SIZE)


def enqueue_embedding(model_label: str, ids) -> int:
    """After the current transaction commits, embed these rows of `model_label` (the stale
    ones among them), EMBED_BATCH_SIZE ids per task. A broker failure is logged, not raised
    (`robust`): the sweep finds them. Returns how many ids."""
    ids = [str(i) for i in ids]
    size = settings.EMBED_BATCH_SIZE
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        transaction.on_commit(
            lambda chunk=chunk: embed_stale.delay(model_label, chunk), robust=True
        )
    return len(ids)


@shared_task(bind=True, name="memories.tasks.embed_pending", queue="maintenance", **SAFE_DELIVERY)
def embed_pending(self) -> int:
    """Sweep: enqueue embedding of stale memories, knowledge and lessons, EMBED_BATCH_SIZE ids
    per task, at most EMBED_SWEEP_LIMIT rows per model. Returns how many were enqueued."""
    total = 0
    for label in embedding.MODEL_LABELS.values():
        model = embedding.embeddable_model(label)
        total += enqueue_embedding(
            label, embedding.stale_ids(model=model, limit=settings.EMBED_SWEEP_LIMIT)
        )
    return total


# --- Synthesis -----------------------------------------------------------------------------------


def _debounce_key(spirit_id: str) -> str:
    return f"elephantasm:synthesis:trigger:{spirit_id}"


@functools.cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5)


def _debounce_client() -> redis.Redis:
    return _redis(settings.CELERY_BROKER_URL)


def _trigger_synthesis(spirit_id: str) -> bool:
    """Enqueue synthesize_spirit in SYNTHESIS_DEBOUNCE_SECONDS unless a trigger is already
    pending for the spirit (Redis SET NX EX). Returns whether one was enqueued."""
    delay = settings.SYNTHESIS_DEBOUNCE_SECONDS
    # The key outlives the countdown a little so a busy worker's backlog does not let a burst
    # through; synthesize_spirit deletes it when it starts.
    if not _debounce_client().set(_debounce_key(spirit_id), "1", nx=True, ex=delay + 60):
        return False
    synthesize_spirit.apply_async((spirit_id,), countdown=delay)
    return True


def enqueue_synthesis(spirit_id: UUID | str) -> None:
    """After the current transaction commits, trigger a (debounced) synthesis of the spirit.
    A Redis failure is logged, not raised (`robust`): the sweep enqueues the spirit later."""
    sid = str(spirit_id)
    transaction.on_commit(lambda: _trigger_synthesis(sid), robust=True)


@shared_task(
    bind=True, name="memories.tasks.synthesize_spirit", queue="synthesis", **MODEL_DELIVERY
)
def synthesize_spirit(self, spirit_id: str, force: bool = False) -> int:
    """Synthesis of the spirit's pending events if its gate says so (idempotent). Returns how
    many memories were written. A full batch enqueues the next one at once."""
    with contextlib.suppress(redis.RedisError):  # the key only debounces; it expires anyway
        _debounce_client().delete(_debounce_key(spirit_id))
    limit = settings.SYNTHESIS_MAX_EVENTS_PER_RUN
    memories = synthesis.synthesize_spirit(spirit_id=spirit_id, force=force, limit=limit)
    enqueue_embedding("memories.memory", [m.pk for m in memories])
    if memories and sum(m.metadata["synthesis"]["event_count"] for m in memories) >= limit:
        transaction.on_commit(lambda: synthesize_spirit.delay(spirit_id), robust=True)
    return len(memories)


@shared_task(bind=True, name="memories.tasks.synthesis_sweep", queue="maintenance", **SAFE_DELIVERY)
def synthesis_sweep(self) -> int:
    """Sweep: enqueue synthesize_spirit for every spirit with pending events (its gate decides).
    Returns how many spirits were enqueued."""
    ids = [str(i) for i in synthesis.spirits_with_pending_events()]
    for spirit_id in ids:
        transaction.on_commit(lambda sid=spirit_id: synthesize_spirit.delay(sid), robust=True)
    return len(ids)


# --- The Dreamer ---------------------------------------------------------------------------------


@shared_task(bind=True, name="memories.tasks.dream", queue="dream", **SAFE_DELIVERY)
def dream(self, session_id: str) -> dict | None:
    """Run a queued dream session (idempotent: a session no longer queued is left as it is).
    Returns its status and stats."""
    session = dreamer_run.dream_run(session_id=session_id)
    if session is None:
        return None
    merged = session.actions.filter(kind="merge").values_list("memory_id", flat=True)
    enqueue_embedding("memories.memory", merged)
    return {"status": session.status, "stats": session.stats}


@shared_task(bind=True, name="memories.tasks.dream_sweep", queue="maintenance", **SAFE_DELIVERY)
def dream_sweep(self) -> int:
    """Sweep: queue a dream for each spirit due; re-enqueue dreams whose task was lost."""
    return dreamer_run.schedule_dreams()


# --- Extraction ----------------------------------------------------------------------------------


def enqueue_extraction(memory_ids) -> None:
    """After the current transaction commits, extract knowledge and lessons from these memories.
    A broker failure is logged, not raised (`robust`)."""
    ids = [str(i) for i in memory_ids]
    if ids:
        transaction.on_commit(lambda: extract_memories.delay(ids), robust=True)


@shared_task(bind=True, name="memories.tasks.extract_memories", queue="synthesis", **MODEL_DELIVERY)
def extract_memories(self, memory_ids: list[str]) -> dict[str, int]:
    """Knowledge and lessons from the memories not yet extracted among `memory_ids`
    (idempotent). Returns how many facts were created, strengthened, closed, and lessons."""
    result = extraction.extract_from_memories(memory_ids=memory_ids)
    enqueue_embedding("memories.knowledge", [k.pk for k in result.created])
    enqueue_embedding("memories.lesson", [lesson.pk for lesson in result.lessons])
    touched = [*result.created, *result.strengthened, *result.lessons]
    for spirit_id in sorted({str(item.spirit_id) for item in touched}):
        enqueue_identity_evolution(spirit_id)
    return {
        "created": len(result.created),
        "strengthened": len(result.strengthened),
        "closed": len(result.closed),
        "lessons": len(result.lessons),
    }


# --- Identity evolution --------------------------------------------------------------------------


def enqueue_identity_evolution(spirit_id: UUID | str) -> None:
    """After the current transaction commits, evolve the spirit's identity if its gate says so.
    A broker failure is logged, not raised (`robust`): the next extraction enqueues it again."""
    sid = str(spirit_id)
    transaction.on_commit(lambda: evolve_identity.delay(sid), robust=True)


@shared_task(bind=True, name="memories.tasks.evolve_identity", queue="synthesis", **SAFE_DELIVERY)
def evolve_identity(self, spirit_id: str) -> int | None:
    """Revise the spirit's identity by the evolution rules if its gate says so (idempotent).
    Returns the identity's version, or None when it was not due."""
    identity = evolution.evolve_identity(spirit_id=spirit_id)
    return None if identity is None else identity.version


# --- Context packs -------------------------------------------------------------------------------


@shared_task(bind=True, name="memories.tasks.record_pack_use", queue="maintenance", **SAFE_DELIVERY)
def record_pack_use(self, spirit_id: str, memory_ids: list[str], at: str) -> int:
    """A pack used these memories at `at` (ISO time): count it, and bound the pack history."""
    return pack_access.record_pack_use(
        spirit_id=spirit_id, memory_ids=memory_ids, at=datetime.fromisoformat(at)
    )


# --- Retention -----------------------------------------------------------------------------------


@shared_task(bind=True, name="memories.tasks.retention_sweep", queue="maintenance", **SAFE_DELIVERY)
def retention_sweep(self) -> int:
    """Beat (RETENTION_SWEEP_SECONDS): one retention task per team with retention_days."""
    from memories.services.retention import teams_with_retention

    ids = [str(i) for i in teams_with_retention()]
    for team_id in ids:
        transaction.on_commit(lambda tid=team_id: apply_retention.delay(tid), robust=True)
    return len(ids)


@shared_task(bind=True, name="memories.tasks.apply_retention", queue="maintenance", **SAFE_DELIVERY)
def apply_retention(self, team_id: str) -> dict[str, int]:
    """Remove the team's events older than its retention_days, and what only they supported."""
    from memories.services.retention import retention_apply
    from teams.models import Team

    team = Team.objects.filter(pk=team_id).first()
    return {} if team is None else retention_apply(team=team)
