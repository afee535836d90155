"""Beat's schedule (CELERY_BEAT_SCHEDULE in base.py): every sweep, its interval (seconds, from
the environment) and its expiry."""

from __future__ import annotations

import environ

env = environ.Env()


def beat_schedule(*, dream_sweep_seconds: int, retention_sweep_seconds: int) -> dict:
    return {
        "sessions-mark-idle": {
            "task": "events.tasks.mark_idle_sessions",
            "schedule": env.int("SESSION_IDLE_SWEEP_SECONDS", default=300),
            "options": {"expires": 240},
        },
        "events-enrich-pending": {
            "task": "events.tasks.enrich_pending",
            "schedule": env.int("ENRICH_SWEEP_SECONDS", default=300),
            "options": {"expires": 240},
        },
        "memories-embed-pending": {
            "task": "memories.tasks.embed_pending",
            "schedule": env.int("EMBED_SWEEP_SECONDS", default=300),
            "options": {"expires": 240},
        },
        "memories-dream-sweep": {
            "task": "memories.tasks.dream_sweep",
            "schedule": dream_sweep_seconds,
            "options": {"expires": 600},
        },
        "memories-synthesis-sweep": {
            "task": "memories.tasks.synthesis_sweep",
            "schedule": env.int("SYNTHESIS_SWEEP_SECONDS", default=300),
            "options": {"expires": 240},
        },
        "memories-extraction-sweep": {
            "task": "memories.tasks.extraction_sweep",
            "schedule": env.int("EXTRACTION_SWEEP_SECONDS", default=300),
            "options": {"expires": 240},
        },
        "memories-evolution-sweep": {
            "task": "memories.tasks.evolution_sweep",
            "schedule": env.int("EVOLUTION_SWEEP_SECONDS", default=600),
            "options": {"expires": 540},
        },
        "memories-retention": {
            "task": "memories.tasks.retention_sweep",
            "schedule": retention_sweep_seconds,
            "options": {"expires": 3600},
        },
        "webhooks-sweep": {
            "task": "teams.webhooks.sweep",
            "schedule": env.int("WEBHOOK_SWEEP_SECONDS", default=300),
            "options": {"expires": 240},
        },
    }
