"""Identity services: one self-model per spirit, every revision versioned and audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from spirits.models import Spirit
from teams.actors import Actor

from .. import audit
from ..models import AuditAction, Identity
from . import common


@transaction.atomic
def identity_get_or_create(*, spirit: Spirit, actor: Actor | None = None) -> Identity:
    """The spirit's identity; the first call creates an empty one (logged as a CREATE)."""
    identity, created = Identity.objects.get_or_create(spirit=spirit)
    if created:
        common.log_created(identity, actor or Actor.system("identity"), "initial identity")
    return identity


@transaction.atomic
def identity_revise(
    *,
    spirit: Spirit,
    document: dict[str, Any],
    actor: Actor,
    partial: bool = False,
    reason: str = "",
    related_ids=(),
) -> Identity:
    """Replace the identity (or, with partial, its top-level keys present in `document`)."""
    identity = common.locked(identity_get_or_create(spirit=spirit, actor=actor))
    before = audit.snapshot(identity)
    new_document = {**identity.document, **document} if partial else document
    if new_document == identity.document:
        return identity
    identity.document = new_document
    identity.version += 1
    common.validate(identity)
    identity.save()
    audit.record(
        obj=identity,
        action=AuditAction.REVISE,
        actor=actor,
        before=before,
        after=audit.snapshot(identity),
        reason=reason,
        related_ids=related_ids,
    )
    return identity
