"""What the spirits app announces to the apps above it (it imports none of them).

Both are sent inside the transaction that changes the spirit, after its row is locked, with
`spirit` and `deleted_at` (the spirit's own deletion time): receivers cascade in the same
transaction, so a failure leaves nothing half-done. The events app connects to both in its
`AppConfig.ready()` (a soft-deleted spirit's live events are soft-deleted with the same time, and
restored with it).
"""

from __future__ import annotations

from django.dispatch import Signal

spirit_soft_deleted = Signal()
spirit_restored = Signal()
