"""Thin Celery tasks of the pipeline: each takes ids, calls one step, and hands what runs next to
`pipeline.flow`. Only Celery imports this module. Task names are wire names, kept stable whatever
module defines them; their queues are in settings.CELERY_TASK_ROUTES."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from elephantasm.ai.llm import TransientLanguageModelError
from elephantasm.tasks import SAFE_DELIVERY

from . import cortex, embedding, evolution, extraction, flow, sweeps, synthesis
from .dreamer import run as dreamer_run

# Steps that may ask a language model also retry when it stayed unavailable (retries ran out on
# 429/5xx/timeouts): their input stays pending until then.
MODEL_DELIVERY = SAFE_DELIVERY | {
    "autoretry_for": (*SAFE_DELIVERY["autoretry_for"], TransientLanguageModelError)
}


# --- The Cortex (events) --------------------------------------------------------------------------


@shared_task(bind=True, name=flow.ENRICH_EVENTS, **SAFE_DELIVERY)
def enrich_events(self, event_ids: list[str]) -> int:
    """The Cortex on these events (idempotent: enriched ones are skipped). Returns how many."""
    return cortex.enrich_events(event_ids=event_ids)


@shared_task(bind=True, name="events.tasks.enrich_pending", **SAFE_DELIVERY)
def enrich_pending(self) -> int:
    """Sweep: enqueue enrichment of live events not yet enriched (at most ENRICH_SWEEP_LIMIT,
    created over ENRICH_SWEEP_GRACE_SECONDS ago). Returns how many were enqueued."""
    ids = cortex.events_pending_enrichment(
        limit=settings.ENRICH_SWEEP_LIMIT, older_than_seconds=settings.ENRICH_SWEEP_GRACE_SECONDS
    )
    return flow.enqueue_enrichment(ids)


# --- Embedding ------------------------------------------------------------------------------------


@shared_task(bind=True, name=flow.EMBED_STALE, **SAFE_DELIVERY)
def embed_stale(self, model_label: str, ids: list[str] | None = None) -> int:
    """Embed the stale rows of `model_label` ("memories.memory", "memories.knowledge",
    "memories.lesson") among `ids` (all stale rows when None). Idempotent. Returns how many."""
    model = embedding.embeddable_model(model_label)
    return embedding.embed_stale(model=model, ids=ids, batch_size=settings.EMBED_BATCH_SIZE)


@shared_task(bind=True, name="memories.tasks.embed_pending", **SAFE_DELIVERY)
def embed_pending(self) -> int:
    """Sweep: enqueue embedding of stale memories, knowledge and lessons, EMBED_BATCH_SIZE ids
    per task, at most EMBED_SWEEP_LIMIT rows per model. Returns how many were enqueued."""
    total = 0
    for label in embedding.MODEL_LABELS.values():
        model = embedding.embeddable_model(label)
        total += flow.enqueue_embedding(
            label, embedding.stale_ids(model=model, limit=settings.EMBED_SWEEP_LIMIT)
        )
    return total


# --- Synthesis ------------------------------------------------------------------------------------


@shared_task(bind=True, name=flow.SYNTHESIZE_SPIRIT, **MODEL_DELIVERY)
def synthesize_spirit(self, spirit_id: str, force: bool = False) -> int:
    """Synthesis of the spirit's pending events if its gate says so (idempotent). Returns how
    many memories were written. A full batch enqueues the next one at once."""
    flow.clear_synthesis_trigger(spirit_id)
    limit = settings.SYNTHESIS_MAX_EVENTS_PER_RUN
    memories = synthesis.synthesize_spirit(spirit_id=spirit_id, force=force, limit=limit)
    flow.enqueue_embedding("memories.memory", [m.pk for m in memories])
    if memories and sum(m.metadata["synthesis"]["event_count"] for m in memories) >= limit:
        flow.enqueue_synthesis_now(spirit_id)
    elif not memories:
        due_at = synthesis.due_at(spirit_id=spirit_id)
        if due_at is not None:  # not yet: look again when time alone makes it due
            flow.enqueue_synthesis_check(spirit_id, due_at)
    return len(memories)


@shared_task(bind=True, name="memories.tasks.synthesis_sweep", **SAFE_DELIVERY)
def synthesis_sweep(self) -> int:
    """Sweep: enqueue synthesize_spirit for every spirit with pending events (its gate decides).
    Returns how many spirits were enqueued."""
    ids = synthesis.spirits_with_pending_events()
    for spirit_id in ids:
        flow.enqueue_synthesis_now(spirit_id)
    return len(ids)


# --- Extraction and identity ----------------------------------------------------------------------


@shared_task(bind=True, name=flow.EXTRACT_MEMORIES, **MODEL_DELIVERY)
def extract_memories(self, memory_ids: list[str]) -> dict[str, int]:
    """Knowledge and lessons from the memories not yet extracted among `memory_ids`
    (idempotent). Returns how many facts were created, strengthened, closed, and lessons."""
    result = extraction.extract_from_memories(memory_ids=memory_ids)
    flow.enqueue_embedding("memories.knowledge", [k.pk for k in result.created])
    flow.enqueue_embedding("memories.lesson", [lesson.pk for lesson in result.lessons])
    touched = [*result.created, *result.strengthened, *result.lessons]
    for spirit_id in sorted({str(item.spirit_id) for item in touched}):
        flow.enqueue_identity_evolution(spirit_id)
    return {
        "created": len(result.created),
        "strengthened": len(result.strengthened),
        "closed": len(result.closed),
        "lessons": len(result.lessons),
    }


@shared_task(bind=True, name="memories.tasks.extraction_sweep", **SAFE_DELIVERY)
def extraction_sweep(self) -> int:
    """Sweep: enqueue extraction of memories left unextracted (a lost message, a spirit that was
    paused), EXTRACTION_SWEEP_LIMIT at most, older than EXTRACTION_SWEEP_GRACE_SECONDS, in
    batches of EMBED_BATCH_SIZE. Returns how many."""
    ids = sweeps.memories_pending_extraction(
        limit=settings.EXTRACTION_SWEEP_LIMIT,
        older_than_seconds=settings.EXTRACTION_SWEEP_GRACE_SECONDS,
    )
    for start in range(0, len(ids), settings.EMBED_BATCH_SIZE):
        flow.enqueue_extraction(ids[start : start + settings.EMBED_BATCH_SIZE])
    return len(ids)


@shared_task(bind=True, name=flow.EVOLVE_IDENTITY, **SAFE_DELIVERY)
def evolve_identity(self, spirit_id: str) -> int | None:
    """Revise the spirit's identity by the evolution rules if its gate says so (idempotent).
    Returns the identity's version, or None when it was not due."""
    identity = evolution.evolve_identity(spirit_id=spirit_id)
    return None if identity is None else identity.version


@shared_task(bind=True, name="memories.tasks.evolution_sweep", **SAFE_DELIVERY)
def evolution_sweep(self) -> int:
    """Sweep: enqueue identity evolution of each spirit whose identity is due (a lost message, a
    spirit that was paused). Returns how many."""
    ids = sweeps.spirits_due_for_evolution()
    for spirit_id in ids:
        flow.enqueue_identity_evolution(spirit_id)
    return len(ids)


# --- The Dreamer ----------------------------------------------------------------------------------


@shared_task(bind=True, name=flow.DREAM, **SAFE_DELIVERY)
def dream(self, session_id: str) -> dict | None:
    """Run a queued dream session (idempotent: a session no longer queued is left as it is).
    Returns its status and stats."""
    session = dreamer_run.dream_run(session_id=session_id)
    if session is None:
        return None
    merged = session.actions.filter(kind="merge").values_list("memory_id", flat=True)
    flow.enqueue_embedding("memories.memory", merged)
    return {"status": session.status, "stats": session.stats}


@shared_task(bind=True, name="memories.tasks.dream_sweep", **SAFE_DELIVERY)
def dream_sweep(self) -> int:
    """Sweep: queue a dream for each spirit due; re-enqueue dreams whose task was lost."""
    return dreamer_run.schedule_dreams()
