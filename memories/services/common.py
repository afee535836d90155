"""The shape every curated write shares: lock, validate, save, log exactly one audit entry."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from elephantasm.api.errors import ValidationFailed
from teams.actors import Actor

from .. import audit, hooks
from ..models import AuditAction

logger = logging.getLogger(__name__)

TEXT_FIELDS = ("content", "summary", "subject", "topic", "statement", "rationale")
# Never validated or set from input: the database or the pipeline fills them.
DERIVED = ("embedding", "search_vector", "superseded_by")


def apply_fields(obj: models.Model, data: dict[str, Any], allowed: Iterable[str]) -> set[str]:
    """Set the allowed fields present in `data`; refuse unknown ones. Returns the changed names."""
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationFailed(
            "Unknown or read-only fields: " + ", ".join(unknown) + ".",
            details={name: ["This field cannot be set here."] for name in unknown},
        )
    changed = set()
    for name, value in data.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.add(name)
    return changed


def validate(obj: models.Model) -> None:
    """full_clean, raised as the API's 400 with field details."""
    try:
        obj.full_clean(exclude=list(DERIVED))
    except ValidationError as exc:
        raise ValidationFailed(
            "Invalid input: " + ", ".join(sorted(exc.message_dict)) + ".",
            details=exc.message_dict,
        ) from exc


def locked(obj: models.Model) -> models.Model:
    return type(obj)._base_manager.select_for_update().get(pk=obj.pk)


def create(
    obj: models.Model, data: dict[str, Any], allowed: Iterable[str], actor: Actor, reason: str
) -> models.Model:
    apply_fields(obj, data, allowed)
    validate(obj)
    obj.save()
    return obj


def update(
    obj: models.Model,
    data: dict[str, Any],
    allowed: Iterable[str],
    actor: Actor,
    reason: str,
    also: Callable[[models.Model], None] | None = None,
    check: Callable[[dict, models.Model, set[str]], None] | None = None,
    related: Callable[[], Iterable[models.Model]] | None = None,
) -> models.Model:
    """Lock, apply, validate, save; log one UPDATE if anything changed. Returns the fresh row.

    `check(before, row, changed_names)` may refuse the change (raise), seeing the locked row's
    state before (a snapshot) and after applying `data`; `also` runs on the row before the
    after-snapshot (e.g. to replace tags); `related()` names other objects the change touched
    (logged with their new state in the same entry)."""
    obj = locked(obj)
    before = audit.snapshot(obj)
    changed = apply_fields(obj, data, allowed)
    if check is not None:
        check(before, obj, changed)
    if changed & set(TEXT_FIELDS) and hasattr(obj, "embedding_stale"):
        obj.embedding_stale = True
    validate(obj)
    if also is not None:
        also(obj)
    if not changed and _same(audit.snapshot(obj), before):
        return obj
    obj.save()
    after = audit.snapshot(obj)
    audit.record(
        obj=obj,
        action=AuditAction.UPDATE,
        actor=actor,
        before=before,
        after=after,
        reason=reason,
        related=related() if related is not None else (),
    )
    return obj


def _same(a: dict, b: dict) -> bool:
    return {**a, "updated_at": None} == {**b, "updated_at": None}


def transition(
    obj: models.Model,
    action: str,
    actor: Actor,
    reason: str,
    related=(),
    check: Callable[[models.Model], None] | None = None,
    **fields,
):
    """Lock the row, `check` it (may raise), set `fields`, save, log one entry: the shape of the
    small operations. When the row already has those values nothing is written or logged."""
    obj = locked(obj)
    if check is not None:
        check(obj)
    if all(getattr(obj, name) == value for name, value in fields.items()):
        return obj
    return _transition_locked(obj, action, actor, reason, related, **fields)


def _transition_locked(obj, action, actor, reason, related=(), **fields):
    before = audit.snapshot(obj)
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.save()
    audit.record(
        obj=obj,
        action=action,
        actor=actor,
        before=before,
        after=audit.snapshot(obj),
        reason=reason,
        related=related,
    )
    return obj


def soft_delete(obj: models.Model, actor: Actor, reason: str) -> models.Model:
    """Soft-delete; already deleted (as the locked row says, not the caller's copy): unchanged."""
    current = locked(obj)
    if current.deleted_at is not None:
        return current
    return _transition_locked(current, AuditAction.DELETE, actor, reason, deleted_at=timezone.now())


def restore(obj: models.Model, actor: Actor, reason: str) -> models.Model:
    current = locked(obj)
    if current.deleted_at is None:
        return current
    return _transition_locked(current, AuditAction.RESTORE, actor, reason, deleted_at=None)


def mark_stale(model: type[models.Model], objects, actor: Actor, reason: str = "") -> int:
    """Ask the pipeline to (re-)embed these rows. Not a content change: no audit entry (the
    embedding fields are not part of the audited state), the request is logged instead."""
    ids = (
        list(objects.values_list("pk", flat=True))
        if isinstance(objects, models.QuerySet)
        else [o.pk for o in objects]
    )
    count = model._base_manager.filter(pk__in=ids).update(embedding_stale=True)
    hooks.announce_written(model, ids, actor)
    logger.info(
        "%s marked for re-embedding",
        model._meta.verbose_name_plural,
        extra={"ids": [str(i) for i in ids], "actor": f"{actor.type}:{actor.id}", "reason": reason},
    )
    return count


def log_created(obj: models.Model, actor: Actor, reason: str, related=()) -> None:
    audit.record(
        obj=obj,
        action=AuditAction.CREATE,
        actor=actor,
        before=None,
        after=audit.snapshot(obj),
        reason=reason,
        related=related,
    )
