"""`spirit_overview`: everything the dashboard and the stats endpoint say about one spirit.

The counts and the pipeline's figures always; with `days`, the series per day (series); with
`dreams`, the latest dreams with their actions (dreams). A fixed number of queries in all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from events.selectors import spirit_stats
from pipeline.status import STEPS, pipeline_status
from spirits.models import Spirit

from .counts import curated_counts
from .dreams import latest_dreams
from .health import FAILING_WINDOW, health_of
from .series import daily_series

FAILURES_LISTED = 5


def pipeline_figures(status: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """The compact, typed part of `pipeline.status.pipeline_status` (its full detail stays at
    GET /spirits/{id}/pipeline/)."""
    steps = status["steps"]
    synthesis, dreamer = steps["synthesis"], steps["dreamer"]
    gate = synthesis["gate"]
    final_failures = sum(
        1 for f in status["failures"] if f["final"] and f["at"] >= now - FAILING_WINDOW
    )
    return {
        "pending": {
            "enrichment": steps["enrichment"]["pending"],
            "embedding": sum(steps["embedding"]["pending"].values()),
            "synthesis": synthesis["pending"],
            "synthesis_tokens": synthesis["pending_tokens"],
            "extraction": steps["extraction"]["pending"],
            "identity": steps["identity"]["pending"],
        },
        "synthesis_gate": {
            "enabled": synthesis["enabled"],
            "due": gate["due"],
            "score": gate["score"],
            "triggers": gate["triggers"],
            "due_at": gate["due_at"],
        },
        "last_run_at": {name: steps[name]["last_run_at"] for name in STEPS},
        "last_failure_at": {name: steps[name]["last_failure_at"] for name in STEPS},
        "final_failures_24h": final_failures,
        "failures": status["failures"][:FAILURES_LISTED],
        "dreamer": {
            "enabled": dreamer["enabled"],
            "queued": dreamer["queued"] is not None,
            "last_status": dreamer["last"]["status"] if dreamer["last"] else None,
            "last_run_at": dreamer["last_run_at"],
            "next_due_at": dreamer["next_due_at"],
        },
        "language_model": {
            key: status["language_model"][key] for key in ("calls_24h", "failed_24h", "tokens_24h")
        },
    }


def spirit_overview(
    spirit: Spirit, *, days: int = 0, dreams: int = 0, now: datetime | None = None
) -> dict[str, Any]:
    """The spirit's figures. Keys: the event stats of `events.selectors.spirit_stats`
    (events_by_type, event_count, session_count, first/last_activity_at); memories, knowledge,
    lessons (counts); pipeline (figures, with `health`); pipeline_status (the full status); and,
    when asked, `series` (one row per day of the last `days`) and `dreams` (the latest `dreams`
    sessions, each with its first actions)."""
    now = now or timezone.now()
    status = pipeline_status(spirit)
    figures = pipeline_figures(status, now=now)
    pending = figures["pending"]
    figures["health"] = health_of(
        status=spirit.status,
        deleted=spirit.deleted_at is not None,
        final_failures=figures["final_failures_24h"],
        pending=pending["enrichment"] + pending["synthesis"] + pending["extraction"],
    )
    overview: dict[str, Any] = {
        **spirit_stats(spirit=spirit),
        **curated_counts(spirit.pk),
        "pipeline": figures,
        "pipeline_status": status,
    }
    if days:
        overview["series"] = daily_series(spirit.pk, days=days, now=now)
    if dreams:
        overview["dreams"] = latest_dreams(spirit.pk, limit=dreams)
    return overview
