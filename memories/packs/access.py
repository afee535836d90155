"""After a pack: its memories were used (what the Dreamer's decay reads), and the spirit's pack
history is kept bounded. Run by a Celery task, off the request path; idempotence is not needed
for the counts to be useful (a redelivered task counts one use twice, at the same time)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Greatest

from ..models import ContextPack, Memory


def record_pack_use(*, spirit_id, memory_ids: list, at: datetime) -> int:
    """+1 use and last use `at` (never moved back) for these memories of the spirit; the packs
    beyond the newest PACK_HISTORY_PER_SPIRIT removed. Returns how many memories changed."""
    used = Memory.all_objects.filter(spirit_id=spirit_id, pk__in=memory_ids).update(
        access_count=F("access_count") + 1,
        last_accessed_at=Greatest(Coalesce("last_accessed_at", Value(at)), Value(at)),
    )
    old = ContextPack.objects.filter(spirit_id=spirit_id).order_by("-created_at", "-id")[
        settings.PACK_HISTORY_PER_SPIRIT :
    ]
    ContextPack.objects.filter(pk__in=list(old.values_list("pk", flat=True))).delete()
    return used
