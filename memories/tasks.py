"""Thin Celery tasks of the memories app: each calls one service."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction

from memories import embedding

# Transient: the database went away or is restarting. Anything else is a bug and is not retried.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
SAFE_DELIVERY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(bind=True, name="memories.tasks.embed_stale", queue="embed", **SAFE_DELIVERY)
def embed_stale(self, model_label: str, ids: list[str] | None = None) -> int:
    """Embed the stale rows of `model_label` ("memories.memory", "memories.knowledge",
    "memories.lesson") among `ids` (all stale rows when None). Idempotent. Returns how many."""
    model = embedding.embeddable_model(model_label)
    return embedding.embed_stale(model=model, ids=ids, batch_size=settings.EMBED_BATCH_SIZE)


@shared_task(bind=True, name="memories.tasks.embed_pending", queue="maintenance", **SAFE_DELIVERY)
def embed_pending(self) -> int:
    """Sweep: enqueue embedding of stale memories, knowledge and lessons, EMBED_BATCH_SIZE ids
    per task, at most EMBED_SWEEP_LIMIT rows per model. Returns how many were enqueued."""
    total = 0
    size = settings.EMBED_BATCH_SIZE
    for label in embedding.MODEL_LABELS.values():
        ids = [
            str(i)
            for i in embedding.stale_ids(
                model=embedding.embeddable_model(label), limit=settings.EMBED_SWEEP_LIMIT
            )
        ]
        for start in range(0, len(ids), size):
            chunk = ids[start : start + size]
            transaction.on_commit(
                lambda label=label, chunk=chunk: embed_stale.delay(label, chunk), robust=True
            )
        total += len(ids)
    return total
