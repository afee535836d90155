"""The latest dreams of a spirit with what they did: three queries whatever their size.

Each dream carries its action counts by kind and its first ACTIONS_SHOWN actions (a dream that
faded thousands of memories lists a few; its admin page lists them all), each naming its memory
by summary (a memory a rollback removed is named by id).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count, F, TextField, Value, Window
from django.db.models.functions import Coalesce, NullIf, RowNumber, Substr

from ..models import DreamAction, DreamActionKind, DreamSession, Memory

ACTIONS_SHOWN = 5


def latest_dreams(spirit_id, *, limit: int) -> list[dict[str, Any]]:
    sessions = list(
        DreamSession.objects.filter(spirit_id=spirit_id).order_by("-created_at")[:limit]
    )
    if not sessions:
        return []
    ids = [s.pk for s in sessions]
    counts: dict[Any, dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(DreamActionKind.values, 0)
    )
    for session_id, kind, n in (
        DreamAction.objects.filter(session_id__in=ids)
        .order_by()
        .values_list("session_id", "kind")
        .annotate(n=Count("id"))
    ):
        counts[session_id][kind] = n
    ranked = DreamAction.objects.filter(session_id__in=ids).annotate(
        rank=Window(RowNumber(), partition_by=[F("session_id")], order_by=F("id").asc())
    )
    shown = list(ranked.filter(rank__lte=ACTIONS_SHOWN).order_by("session_id", "id"))
    label = Coalesce(
        NullIf("summary", Value("")), Substr("content", 1, 120), output_field=TextField()
    )
    names = dict(
        Memory.all_objects.filter(pk__in={a.memory_id for a in shown})
        .annotate(label=label)
        .values_list("pk", "label")
    )
    actions: dict[Any, list[DreamAction]] = defaultdict(list)
    for action in shown:
        action.memory_label = names.get(action.memory_id) or ""
        action.memory_exists = action.memory_id in names
        actions[action.session_id].append(action)
    return [
        {
            "session": session,
            "counts": counts[session.pk],
            "action_count": sum(counts[session.pk].values()),
            "actions": actions[session.pk],
        }
        for session in sessions
    ]
