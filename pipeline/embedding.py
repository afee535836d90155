"""Embed memories, knowledge and lessons whose `embedding_stale` flag is set.

A curated write that changes the text sets the flag (memories.services.common); this service
embeds the row's text with the configured embedder, stores the vector and the model's name, and
clears the flag. The embedding fields are not part of the audited state: no audit entries here.
Rows are locked while they are embedded (skipping rows another worker holds), so a concurrent
text edit waits and then sets the flag again: an edit is never lost under a stale vector.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from uuid import UUID

from django.apps import apps
from django.db import models, transaction
from django.db.models import Q

from elephantasm.ai.embeddings import get_batch_embedder
from memories.models import Knowledge, Lesson, Memory

# The text embedded for each model, from these fields in this order (empty ones skipped).
TEXT_FIELDS: dict[type[models.Model], tuple[str, ...]] = {
    Memory: ("summary", "subject", "content"),
    Knowledge: ("topic", "summary", "content"),
    Lesson: ("statement", "rationale"),
}
# Short names (the `reembed` command's --model) to model labels (what tasks carry).
MODEL_LABELS = {
    "memories": Memory._meta.label_lower,
    "knowledge": Knowledge._meta.label_lower,
    "lessons": Lesson._meta.label_lower,
}


def embeddable_model(label: str) -> type[models.Model]:
    """The model of a label ("memories.memory"); ValueError for anything not embeddable here."""
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError) as exc:
        raise ValueError(f"Unknown model {label!r}.") from exc
    if model not in TEXT_FIELDS:
        raise ValueError(f"{label!r} is not embedded by this service.")
    return model


def embedding_text(obj: models.Model) -> str:
    parts = (getattr(obj, name) for name in TEXT_FIELDS[type(obj)])
    return "\n".join(part.strip() for part in parts if part and part.strip())


def embed_stale(
    *, model: type[models.Model], ids: Iterable[UUID | str] | None = None, batch_size: int = 64
) -> int:
    """Embed the stale rows of `model` (among `ids`, or all of them); returns how many."""
    embedder = get_batch_embedder()
    done = 0
    if ids is not None:
        wanted = list(dict.fromkeys(str(i) for i in ids))
        for start in range(0, len(wanted), batch_size):
            done += _embed_batch(model, wanted[start : start + batch_size], batch_size, embedder)
        return done
    while True:
        count = _embed_batch(model, None, batch_size, embedder)
        done += count
        if count == 0:
            return done


@transaction.atomic
def _embed_batch(model, ids: Sequence[str] | None, limit: int, embedder) -> int:
    qs = model._base_manager.filter(embedding_stale=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    rows = list(
        qs.order_by("pk")
        .select_for_update(skip_locked=True)
        .only("id", *TEXT_FIELDS[model])[:limit]
    )
    if not rows:
        return 0
    vectors = embedder.embed([embedding_text(row) for row in rows])
    for row, vector in zip(rows, vectors, strict=True):
        row.embedding = vector
        row.embedding_model = embedder.model_name
        row.embedding_stale = False
    model._base_manager.bulk_update(rows, ["embedding", "embedding_model", "embedding_stale"])
    return len(rows)


def stale_ids(*, model: type[models.Model], limit: int | None = None) -> list[UUID]:
    """Ids of the stale rows of `model` (the sweep's query), at most `limit`."""
    qs = (
        model._base_manager.filter(embedding_stale=True).order_by("pk").values_list("pk", flat=True)
    )
    return list(qs[:limit] if limit else qs)


def mark_for_reembedding(*, model: type[models.Model], everything: bool = False) -> int:
    """Flag rows of `model` whose embedding is missing or from another model than the configured
    one (every row with `everything`); returns how many are now stale. No audit entries."""
    qs = model._base_manager.all()
    if not everything:
        qs = qs.filter(
            Q(embedding_stale=True)
            | Q(embedding__isnull=True)
            | ~Q(embedding_model=get_batch_embedder().model_name)
        )
    return qs.update(embedding_stale=True)
