"""Light sleep: how far a memory has faded, and where that puts it.

With the spirit's `dreamer` config (spirits.config)::

    reference  = the latest of last_accessed_at, time_end and created_at
    age_days   = (now - reference) in days
    half_life  = decay_half_life_days * (1 + ACCESS_FACTOR * ln(1 + access_count))
                                      * (0.5 + importance)
    retention  = 0.5 ** (age_days / half_life)
    decay      = 1 - retention

So a memory fades with age since it was last used, and fades slower the more often it is used
(each doubling of its access count stretches its half-life by about ACCESS_FACTOR * 0.69) and the
more important it is (importance 1 lasts three times as long as importance 0).

Tier: hot when retention >= hot_above, warm when >= warm_above, else cold.
Status (only active and decaying memories move, one step per dream): active becomes decaying
below `decaying_below`; decaying becomes archived below `archive_below`, or active again at or
above `decaying_below` (it was used again). So a memory is decaying for at least one dream
before it is archived. Pinned memories are never touched (the caller skips them).
A decay change smaller than DECAY_STEP is not written (nor recorded), so a dream over an
unchanged spirit changes nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from memories.models import MemoryStatus, MemoryTier

ACCESS_FACTOR = 0.5
DECAY_STEP = 0.005
SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class Fade:
    decay: float
    tier: str
    status: str


def retention(
    *, age_days: float, access_count: int, importance: float, half_life_days: float
) -> float:
    half_life = (
        half_life_days
        * (1.0 + ACCESS_FACTOR * math.log1p(max(0, access_count)))
        * (0.5 + importance)
    )
    return 0.5 ** (max(0.0, age_days) / half_life)


def reference_time(
    *, created_at: datetime, time_end: datetime | None, last_accessed_at: datetime | None
) -> datetime:
    return max(t for t in (created_at, time_end, last_accessed_at) if t is not None)


def tier_for(kept: float, cfg: dict[str, Any]) -> str:
    if kept >= cfg["hot_above"]:
        return MemoryTier.HOT
    if kept >= cfg["warm_above"]:
        return MemoryTier.WARM
    return MemoryTier.COLD


def status_for(kept: float, status: str, cfg: dict[str, Any]) -> str:
    """One step per dream: active → decaying, then (a later dream) decaying → archived."""
    if status == MemoryStatus.ACTIVE and kept < cfg["decaying_below"]:
        return MemoryStatus.DECAYING
    if status == MemoryStatus.DECAYING:
        if kept < cfg["archive_below"]:
            return MemoryStatus.ARCHIVED
        if kept >= cfg["decaying_below"]:
            return MemoryStatus.ACTIVE
    return status


def fade(
    *,
    now: datetime,
    created_at: datetime,
    time_end: datetime | None,
    last_accessed_at: datetime | None,
    access_count: int,
    importance: float,
    status: str,
    cfg: dict[str, Any],
) -> Fade:
    """Where a memory stands now (its decay rounded to 4 places, tier and status)."""
    reference = reference_time(
        created_at=created_at, time_end=time_end, last_accessed_at=last_accessed_at
    )
    kept = retention(
        age_days=(now - reference).total_seconds() / SECONDS_PER_DAY,
        access_count=access_count,
        importance=importance,
        half_life_days=cfg["decay_half_life_days"],
    )
    return Fade(round(1.0 - kept, 4), tier_for(kept, cfg), status_for(kept, status, cfg))
