"""A spirit's pipeline at a glance: what is pending, what ran last, what failed.

`pipeline_status(spirit)` answers GET /api/v1/spirits/{id}/pipeline/. "Last run" of a step is the
newest trace it leaves on the data (enriched_at, a vector's updated_at, synthesized_at,
extracted_at, the identity's revision, the dream session), so no step needs extra bookkeeping
to be observable. Failures are recorded from Celery's signals: a pipeline task that raises is
a PipelineFailure of each spirit it concerned — `final` false when it will be retried, true when
it gave up (or raised a non-retryable error). The newest KEEP_PER_STEP per spirit and step are
kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from celery.signals import task_failure, task_retry
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from events.models import Event, EventEmbedding
from memories.models import (
    DreamSession,
    DreamStatus,
    Identity,
    Knowledge,
    Lesson,
    LlmCall,
    LlmCallStatus,
    Memory,
    PipelineFailure,
)
from spirits.models import Spirit

from . import evolution, flow, synthesis
from .embedding import embeddable_model

logger = logging.getLogger(__name__)
KEEP_PER_STEP = 20
FAILURES_SHOWN = 20
LLM_WINDOW = timedelta(hours=24)


# --- Which spirits a task concerns ---------------------------------------------------------------


def _spirit_arg(spirit_id, *args, **kwargs) -> list:
    return [spirit_id]


def _of_events(event_ids, *args, **kwargs) -> Iterable:
    return Event.all_objects.filter(pk__in=event_ids).values_list("spirit_id", flat=True)


def _of_memories(memory_ids, *args, **kwargs) -> Iterable:
    return Memory.all_objects.filter(pk__in=memory_ids).values_list("spirit_id", flat=True)


def _of_stale(model_label, ids=None, *args, **kwargs) -> Iterable:
    if not ids:
        return []
    model = embeddable_model(model_label)
    return model._base_manager.filter(pk__in=ids).values_list("spirit_id", flat=True)


def _of_dream(session_id, *args, **kwargs) -> Iterable:
    return DreamSession.objects.filter(pk=session_id).values_list("spirit_id", flat=True)


# task name -> (step, the spirits its arguments concern)
TASKS: dict[str, tuple[str, Callable[..., Iterable]]] = {
    flow.ENRICH_EVENTS: ("enrichment", _of_events),
    flow.EMBED_STALE: ("embedding", _of_stale),
    flow.SYNTHESIZE_SPIRIT: ("synthesis", _spirit_arg),
    flow.EXTRACT_MEMORIES: ("extraction", _of_memories),
    flow.EVOLVE_IDENTITY: ("identity", _spirit_arg),
    flow.DREAM: ("dreamer", _of_dream),
}
STEPS = ("enrichment", "embedding", "synthesis", "extraction", "identity", "dreamer")


def record_failure(*, task_name: str, task_id: str, args, kwargs, error: str, final: bool) -> int:
    """Record a failed run of a pipeline task for each spirit it concerned. Returns how many
    rows were written (0 for tasks outside the pipeline)."""
    if task_name not in TASKS:
        return 0
    step, spirits_of = TASKS[task_name]
    spirit_ids = set(spirits_of(*(args or ()), **(kwargs or {})))
    live = Spirit.all_objects.filter(pk__in=spirit_ids).values_list("pk", flat=True)
    rows = [
        PipelineFailure(
            spirit_id=spirit_id,
            step=step,
            task_name=task_name,
            task_id=task_id or "",
            error=error[:1000],
            final=final,
        )
        for spirit_id in live
    ]
    PipelineFailure.objects.bulk_create(rows)
    for row in rows:
        stale = PipelineFailure.objects.filter(spirit_id=row.spirit_id, step=step).order_by(
            "-created_at", "-id"
        )[KEEP_PER_STEP:]
        PipelineFailure.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).delete()
    return len(rows)


def _describe(exception) -> str:
    return f"{type(exception).__name__}: {exception}"


def connect_failure_signals() -> None:
    """Record pipeline task failures and retries (called once by PipelineConfig.ready())."""
    task_failure.connect(_on_failure, dispatch_uid="pipeline.status.failure")
    task_retry.connect(_on_retry, dispatch_uid="pipeline.status.retry")


def _on_failure(sender=None, task_id=None, exception=None, args=None, kwargs=None, **_):
    _safely(sender, task_id, args, kwargs, _describe(exception), final=True)


def _on_retry(sender=None, request=None, reason=None, **_):
    if request is None:
        return
    _safely(sender, request.id, request.args, request.kwargs, str(reason), final=False)


def _safely(task, task_id, args, kwargs, error: str, *, final: bool) -> None:
    """Recording must never hide the task's own error (the database may be what failed)."""
    try:
        record_failure(
            task_name=getattr(task, "name", ""),
            task_id=task_id,
            args=args,
            kwargs=kwargs,
            error=error,
            final=final,
        )
    except Exception:
        logger.exception("could not record the failure of task %s", task_id)


# --- The status ----------------------------------------------------------------------------------


def _dream(session: DreamSession | None) -> dict[str, Any] | None:
    if session is None:
        return None
    return {
        "id": str(session.pk),
        "status": session.status,
        "trigger": session.trigger,
        "created_at": session.created_at,
        "finished_at": session.finished_at,
        "stats": session.stats,
        "error": session.error,
    }


def pipeline_status(spirit: Spirit) -> dict[str, Any]:
    now = timezone.now()
    cfg = spirit.effective_config
    events = Event.objects.filter(spirit=spirit).aggregate(
        unenriched=Count("id", filter=Q(enriched_at__isnull=True)),
        unembedded=Count("id", filter=Q(vector__isnull=True)),
        unsynthesized=Count("id", filter=Q(synthesized_at__isnull=True)),
        pending_tokens=Sum("token_count", filter=Q(synthesized_at__isnull=True)),
        last_enriched=Max("enriched_at"),
        last_synthesized=Max("synthesized_at"),
    )
    memories = Memory.objects.filter(spirit=spirit).aggregate(
        unextracted=Count("id", filter=Q(extracted_at__isnull=True)),
        stale=Count("id", filter=Q(embedding_stale=True)),
        last_extracted=Max("extracted_at"),
    )
    gate = synthesis.synthesis_due(spirit, now)
    identity = Identity.objects.filter(spirit=spirit).first()
    identity_due, new_knowledge, new_lessons = evolution.identity_due(spirit)
    dreams = DreamSession.objects.filter(spirit=spirit)
    last_dream = dreams.exclude(status=DreamStatus.QUEUED).order_by("-created_at").first()
    queued = dreams.filter(status=DreamStatus.QUEUED).first()
    last_completed = (
        dreams.filter(status__in=[DreamStatus.COMPLETED, DreamStatus.ROLLED_BACK])
        .order_by("-finished_at")
        .first()
    )
    failures = list(PipelineFailure.objects.filter(spirit=spirit)[:FAILURES_SHOWN])
    failed_at = dict(
        PipelineFailure.objects.filter(spirit=spirit)
        .values("step")
        .annotate(at=Max("created_at"))
        .values_list("step", "at")
    )
    llm = LlmCall.objects.filter(spirit_id=spirit.pk, created_at__gte=now - LLM_WINDOW)
    llm_stats = llm.aggregate(
        calls=Count("id"),
        failed=Count("id", filter=~Q(status=LlmCallStatus.OK)),
        tokens=Sum("total_tokens"),
    )
    last_llm_error = llm.exclude(status=LlmCallStatus.OK).order_by("-created_at").first()
    dreamer_cfg = cfg["dreamer"]
    steps = {
        "enrichment": {
            "pending": events["unenriched"],
            "last_run_at": events["last_enriched"],
        },
        "embedding": {
            "pending": {
                "events": events["unembedded"],
                "memories": memories["stale"],
                "knowledge": Knowledge.objects.filter(spirit=spirit, embedding_stale=True).count(),
                "lessons": Lesson.objects.filter(spirit=spirit, embedding_stale=True).count(),
            },
            "last_run_at": EventEmbedding.objects.filter(event__spirit=spirit).aggregate(
                at=Max("updated_at")
            )["at"],
        },
        "synthesis": {
            "enabled": cfg["synthesis"]["enabled"],
            "pending": events["unsynthesized"],
            "pending_tokens": events["pending_tokens"] or 0,
            "gate": {
                "due": gate.due,
                "triggers": list(gate.triggers),
                "due_at": gate.due_at,
                "score": round(gate.score, 4),
                "reasons": gate.reasons,
            },
            "last_run_at": events["last_synthesized"],
        },
        "extraction": {
            "enabled": cfg["extraction"]["enabled"],
            # a spirit that does not extract has nothing waiting for extraction
            "pending": memories["unextracted"] if cfg["extraction"]["enabled"] else 0,
            "last_run_at": memories["last_extracted"],
        },
        "identity": {
            "enabled": cfg["identity"]["enabled"],
            "version": identity.version if identity else 0,
            "pending": len(new_knowledge) + len(new_lessons),
            "due": identity_due,
            "last_run_at": identity.updated_at if identity else None,
        },
        "dreamer": {
            "enabled": dreamer_cfg["enabled"],
            "queued": _dream(queued),
            "last": _dream(last_dream),
            "last_run_at": last_completed.finished_at if last_completed else None,
            "next_due_at": (
                last_completed.finished_at + timedelta(hours=dreamer_cfg["schedule_hours"])
                if last_completed and dreamer_cfg["enabled"]
                else None
            ),
        },
    }
    for name, step in steps.items():
        step["last_failure_at"] = failed_at.get(name)
    return {
        "spirit_id": str(spirit.pk),
        "generated_at": now,
        "steps": steps,
        "language_model": {
            "calls_24h": llm_stats["calls"],
            "failed_24h": llm_stats["failed"],
            "tokens_24h": llm_stats["tokens"] or 0,
            "last_error": (
                {
                    "at": last_llm_error.created_at,
                    "status": last_llm_error.status,
                    "error": last_llm_error.error,
                }
                if last_llm_error
                else None
            ),
        },
        "failures": [
            {
                "step": f.step,
                "task": f.task_name,
                "task_id": f.task_id,
                "error": f.error,
                "final": f.final,
                "at": f.created_at,
            }
            for f in failures
        ],
    }
