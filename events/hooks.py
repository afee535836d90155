"""What the events app announces to the apps above it (it imports none of them).

`events_recorded` is sent inside the transaction that stored new events, once per ingest call
that created at least one, with `spirit_id` and `event_ids` (in input order). Receivers connect
in their `AppConfig.ready()`; the pipeline enqueues enrichment and synthesis from it (after the
commit). A receiver that raises rolls the ingest back, so receivers only schedule work.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from django.dispatch import Signal

events_recorded = Signal()


def announce_events_recorded(*, spirit_id: UUID, event_ids: Sequence[UUID]) -> None:
    """Tell the receivers that these events of the spirit were stored (nothing when none)."""
    if event_ids:
        events_recorded.send(sender=None, spirit_id=spirit_id, event_ids=list(event_ids))
