"""What the memories app announces to the pipeline wing above it (it imports none of it).

`curated_written` is sent, inside the transaction, when a person (a user or an API key, never the
pipeline itself, which enqueues its own follow-ups in batches) writes a memory, knowledge or a
lesson, or asks for rows to be re-embedded: `sender` is the model, `ids` the rows. The pipeline
connects in its `AppConfig.ready()` and, once the transaction commits, embeds the rows whose
embedding is stale and extracts the memories not yet extracted.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.dispatch import Signal

from teams.actors import Actor

curated_written = Signal()


def announce_written(model: type[models.Model], ids: Iterable, actor: Actor) -> None:
    """Tell the pipeline that `actor` wrote these rows of `model` (nothing for system actors)."""
    ids = [str(i) for i in ids]
    if ids and actor.type != "system":
        curated_written.send(sender=model, ids=ids)
