"""What runs next: every enqueue of the project's background work, in one place.

Each function sends a task by name (`elephantasm.queueing`; the queue of each name is in
settings.CELERY_TASK_ROUTES) once the current transaction commits, so nothing here imports a
tasks module and any service may call it. A broker failure is logged, not raised: a beat sweep
finds the work later (see docs/pipeline.md).

    events recorded (events.hooks)  -> enrich_events (enrich)     + synthesize_spirit (synthesis,
                                                                     debounced per spirit)
    synthesize_spirit               -> embed_stale (embed) of the memories, extract_memories
                                       (synthesis) of them, itself again after a full batch
    extract_memories                -> embed_stale of the knowledge and lessons, evolve_identity
                                       (synthesis) of each spirit touched
    a person wrote a memory, knowledge or a lesson (memories.hooks)
                                    -> embed_stale of it, extract_memories of a memory
    dream requested or due          -> dream (dream)              -> embed_stale of merged memories
    a pack compiled                 -> record_pack_use (maintenance)
    retention sweep                 -> apply_retention (maintenance) per team
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

import redis
from celery.result import AsyncResult
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from elephantasm import queueing

# The task names (wire names: stable across releases, whatever module defines the task).
ENRICH_EVENTS = "events.tasks.enrich_events"
EMBED_STALE = "memories.tasks.embed_stale"
SYNTHESIZE_SPIRIT = "memories.tasks.synthesize_spirit"
EXTRACT_MEMORIES = "memories.tasks.extract_memories"
EVOLVE_IDENTITY = "memories.tasks.evolve_identity"
DREAM = "memories.tasks.dream"
RECORD_PACK_USE = "memories.tasks.record_pack_use"
APPLY_RETENTION = "memories.tasks.apply_retention"


def _chunks(ids: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


# --- Events ---------------------------------------------------------------------------------------


def on_events_recorded(sender, *, spirit_id: UUID, event_ids: list[UUID], **kwargs) -> None:
    """Receiver of events.hooks.events_recorded: the Cortex runs on the new events and a
    (debounced) synthesis of the spirit follows."""
    enqueue_enrichment(event_ids)
    enqueue_synthesis(spirit_id)


def enqueue_enrichment(event_ids: Iterable[UUID | str]) -> int:
    """Enrich these events after commit, in tasks of ENRICH_TASK_CHUNK ids. Returns how many."""
    ids = [str(i) for i in event_ids]
    for chunk in _chunks(ids, settings.ENRICH_TASK_CHUNK):
        queueing.send_after_commit(ENRICH_EVENTS, chunk)
    return len(ids)


def send_enrichment(event_ids: list[str]) -> AsyncResult:
    """Enrich these events now, outside any transaction (a command that waits for the result)."""
    return queueing.send(ENRICH_EVENTS, event_ids)


# --- People's writes -----------------------------------------------------------------------------


def on_curated_written(sender, *, ids: list[str], **kwargs) -> None:
    """Receiver of memories.hooks.curated_written (a person wrote these rows of `sender`): after
    commit they are embedded (the stale ones) and, memories, extracted (those not yet)."""
    enqueue_embedding(sender._meta.label_lower, ids)
    if sender._meta.label_lower == "memories.memory":
        enqueue_extraction(ids)


# --- Embedding ------------------------------------------------------------------------------------


def enqueue_embedding(model_label: str, ids: Iterable) -> int:
    """Embed these rows of `model_label` ("memories.memory", "memories.knowledge",
    "memories.lesson"; the stale ones among them) after commit, EMBED_BATCH_SIZE ids per task.
    Returns how many ids."""
    ids = [str(i) for i in ids]
    for chunk in _chunks(ids, settings.EMBED_BATCH_SIZE):
        queueing.send_after_commit(EMBED_STALE, model_label, chunk)
    return len(ids)


def send_embedding(model_label: str, ids: list[str]) -> AsyncResult:
    """Embed these rows now, outside any transaction (a command that waits for the result)."""
    return queueing.send(EMBED_STALE, model_label, ids)


# --- Synthesis ------------------------------------------------------------------------------------


def _debounce_key(spirit_id: str) -> str:
    return f"elephantasm:synthesis:trigger:{spirit_id}"


@functools.cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=0.5)


def _debounce_client() -> redis.Redis:
    return _redis(settings.CELERY_BROKER_URL)


def _trigger_synthesis(spirit_id: str) -> bool:
    """Send synthesize_spirit in SYNTHESIS_DEBOUNCE_SECONDS unless a trigger is already pending
    for the spirit (Redis SET NX EX). Returns whether one was sent."""
    if not queueing.broker_answers():
        return False  # not sent: the synthesis sweep finds the spirit's pending events
    delay = settings.SYNTHESIS_DEBOUNCE_SECONDS
    # The key outlives the countdown a little so a busy worker's backlog does not let a burst
    # through; synthesize_spirit clears it when it starts.
    if not _debounce_client().set(_debounce_key(spirit_id), "1", nx=True, ex=delay + 60):
        return False
    queueing.send(SYNTHESIZE_SPIRIT, spirit_id, countdown=delay, ignore_result=True)
    return True


def enqueue_synthesis(spirit_id: UUID | str) -> None:
    """After commit, trigger a debounced synthesis of the spirit. A Redis failure is logged, not
    raised: the sweep enqueues the spirit later."""
    sid = str(spirit_id)
    transaction.on_commit(lambda: _trigger_synthesis(sid), robust=True)


def enqueue_synthesis_check(spirit_id: UUID | str, at: datetime) -> bool:
    """A synthesis of the spirit at `at` (when its gate will be due by time alone), unless a
    check is already scheduled no later than that (Redis holds the time of the next check, apart
    from ingest's debounce, so new events still trigger their quick run). Sent at once, not after
    commit: call it outside a transaction. Returns whether one was sent."""
    sid = str(spirit_id)
    now = timezone.now()
    delay = max(1, math.ceil((at - now).total_seconds()))
    if not queueing.broker_answers():
        return False  # the sweep checks every spirit with pending events anyway
    try:
        client = _debounce_client()
        scheduled = client.get(_recheck_key(sid))
        if scheduled is not None and now.timestamp() < float(scheduled) <= at.timestamp() + 1:
            return False
        client.set(_recheck_key(sid), str(now.timestamp() + delay), ex=delay + 60)
    except redis.RedisError:
        return False  # the sweep checks every spirit with pending events anyway
    queueing.send(SYNTHESIZE_SPIRIT, sid, countdown=delay, ignore_result=True)
    return True


def _recheck_key(spirit_id: str) -> str:
    return f"elephantasm:synthesis:recheck:{spirit_id}"


def clear_synthesis_trigger(spirit_id: str) -> None:
    """A synthesis run started: the next event may trigger another."""
    with contextlib.suppress(redis.RedisError):  # the key only debounces; it expires anyway
        _debounce_client().delete(_debounce_key(spirit_id))


def enqueue_synthesis_now(spirit_id: UUID | str, *, force: bool = False) -> None:
    """After commit, a synthesis of the spirit without debounce (a full batch's next run, the
    sweep; `force`: whatever its gate says, as a person asked)."""
    if force:
        queueing.send_after_commit(SYNTHESIZE_SPIRIT, str(spirit_id), True)
    else:
        queueing.send_after_commit(SYNTHESIZE_SPIRIT, str(spirit_id))


# --- Extraction and identity ----------------------------------------------------------------------


def enqueue_extraction(memory_ids: Iterable) -> None:
    """After commit, extract knowledge and lessons from these memories."""
    ids = [str(i) for i in memory_ids]
    if ids:
        queueing.send_after_commit(EXTRACT_MEMORIES, ids)


def enqueue_identity_evolution(spirit_id: UUID | str) -> None:
    """After commit, evolve the spirit's identity if its gate says so (the next extraction
    enqueues it again if this one is lost)."""
    queueing.send_after_commit(EVOLVE_IDENTITY, str(spirit_id))


# --- The Dreamer, packs, retention ----------------------------------------------------------------


def enqueue_dream(session_id: UUID | str) -> None:
    """After commit, run this queued dream session."""
    queueing.send_after_commit(DREAM, str(session_id))


def enqueue_pack_use(spirit_id: UUID | str, memory_ids: list[str], at: datetime) -> None:
    """After commit, count that a pack used these memories at `at` (and bound pack history)."""
    queueing.send_after_commit(RECORD_PACK_USE, str(spirit_id), memory_ids, at.isoformat())


def enqueue_retention(team_id: UUID | str) -> None:
    """After commit, apply the team's retention_days."""
    queueing.send_after_commit(APPLY_RETENTION, str(team_id))
