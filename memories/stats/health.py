"""One word for a spirit's pipeline, the same on the admin index, the dashboard and the API.

- "paused": the pipeline does not curate the spirit now (paused or archived, or deleted);
- "failing": a step gave up (a final failure) in the last FAILING_WINDOW;
- "pending": work is waiting (events to enrich or synthesize, memories to extract);
- "ok": nothing waits and nothing failed.
"""

from __future__ import annotations

from datetime import timedelta

from spirits.models import CURATED_STATUSES

FAILING_WINDOW = timedelta(hours=24)
HEALTHS = ("ok", "pending", "failing", "paused")


def health_of(*, status: str, deleted: bool, final_failures: int, pending: int) -> str:
    if deleted or status not in CURATED_STATUSES:
        return "paused"
    if final_failures:
        return "failing"
    return "pending" if pending else "ok"
