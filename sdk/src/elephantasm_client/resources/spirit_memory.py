"""A spirit's identity, its dreams and its context packs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .._core import Call
from ..models import AuditEntry, DreamAction, DreamSession, Identity, Pack, Page, StateAsOf
from ._base import Resource, fields


class IdentityResource(Resource):
    """The spirit's self-model (`document`: essence, purpose, principles, values,
    communication_style, relationships, current_arc), versioned."""

    def get(self, spirit_id: str) -> Identity:
        """Version 0 with the empty document until it is first written."""
        return self._run(
            Call("GET", f"spirits/{spirit_id}/identity/", parse=Identity.model_validate)
        )

    def replace(
        self, spirit_id: str, document: dict[str, Any], *, reason: str | None = None
    ) -> Identity:
        """PUT: `document` becomes the identity."""
        return self._write("PUT", spirit_id, document, reason)

    def update(
        self, spirit_id: str, document: dict[str, Any], *, reason: str | None = None
    ) -> Identity:
        """PATCH: each top-level key of `document` replaces that key; the others are kept."""
        return self._write("PATCH", spirit_id, document, reason)

    def _write(self, method: str, spirit_id: str, document: dict, reason: str | None):
        body = {"document": document} | fields(reason=reason)
        return self._run(
            Call(method, f"spirits/{spirit_id}/identity/", body=body, parse=Identity.model_validate)
        )

    def history(
        self, spirit_id: str, *, limit: int | None = None, offset: int | None = None
    ) -> Page[AuditEntry]:
        return self._page(f"spirits/{spirit_id}/identity/history/", AuditEntry, None, limit, offset)

    def as_of(self, spirit_id: str, moment: datetime | str) -> StateAsOf:
        return self._run(
            Call(
                "GET",
                f"spirits/{spirit_id}/identity/history/",
                params={"as_of": moment},
                parse=StateAsOf.model_validate,
            )
        )


class Dreams(Resource):
    """Runs of the Dreamer (decay, archiving, merging), each logged and reversible."""

    def request(self, spirit_id: str) -> DreamSession:
        """Queue a dream of the spirit (ConflictError, with `details["existing_id"]`, while
        one is queued). Poll `get(session.id)` for its outcome."""
        return self._run(
            Call("POST", f"spirits/{spirit_id}/dreams/", parse=DreamSession.model_validate)
        )

    def list(
        self, spirit_id: str, *, limit: int | None = None, offset: int | None = None
    ) -> Page[DreamSession]:
        """The spirit's dream sessions, newest first."""
        return self._page(f"spirits/{spirit_id}/dreams/", DreamSession, None, limit, offset)

    def iter(self, spirit_id: str, *, page_size: int | None = None):
        return self._iter(f"spirits/{spirit_id}/dreams/", DreamSession, None, page_size)

    def get(self, dream_id: str) -> DreamSession:
        return self._run(Call("GET", f"dreams/{dream_id}/", parse=DreamSession.model_validate))

    def actions(
        self, dream_id: str, *, limit: int | None = None, offset: int | None = None
    ) -> Page[DreamAction]:
        """What the dream changed, in order."""
        return self._page(f"dreams/{dream_id}/actions/", DreamAction, None, limit, offset)

    def rollback(self, dream_id: str, *, reason: str | None = None) -> DreamSession:
        """Undo a completed dream exactly (ConflictError when memories changed since)."""
        return self._run(
            Call(
                "POST",
                f"dreams/{dream_id}/rollback/",
                body=fields(reason=reason),
                parse=DreamSession.model_validate,
            )
        )


def pack_call(
    spirit_id: str,
    *,
    query: str | None,
    session_id: str | None,
    max_tokens: int | None,
    preset: str | None,
    limits: dict[str, int] | None,
    weights: dict[str, float] | None,
) -> Call:
    """POST /spirits/{id}/pack/: it reads (and keeps the pack it made), so it is retried like a
    GET; a retry may keep one pack more in the spirit's history."""
    body = fields(
        query=query,
        session_id=session_id,
        max_tokens=max_tokens,
        preset=preset,
        limits=limits,
        weights=weights,
    )
    return Call(
        "POST",
        f"spirits/{spirit_id}/pack/",
        body=body,
        parse=Pack.model_validate,
        replayable=True,
    )


class Packs(Resource):
    """Context packs: what the spirit should remember now, as prompt-ready text."""

    def create(
        self,
        spirit_id: str,
        *,
        query: str | None = None,
        session_id: str | None = None,
        max_tokens: int | None = None,
        preset: str | None = None,
        limits: dict[str, int] | None = None,
        weights: dict[str, float] | None = None,
    ) -> Pack:
        """Compile (and keep) a pack. `preset`: conversational (default) or focused; `limits`
        and `weights` override the preset's per layer and per score term."""
        return self._run(
            pack_call(
                spirit_id,
                query=query,
                session_id=session_id,
                max_tokens=max_tokens,
                preset=preset,
                limits=limits,
                weights=weights,
            )
        )

    def latest(self, spirit_id: str) -> Pack:
        """The newest kept pack (NotFoundError before the first)."""
        return self._run(
            Call("GET", f"spirits/{spirit_id}/packs/latest/", parse=Pack.model_validate)
        )

    def list(
        self, spirit_id: str, *, limit: int | None = None, offset: int | None = None
    ) -> Page[Pack]:
        """The kept packs, newest first."""
        return self._page(f"spirits/{spirit_id}/packs/", Pack, None, limit, offset)

    def iter(self, spirit_id: str, *, page_size: int | None = None):
        return self._iter(f"spirits/{spirit_id}/packs/", Pack, None, page_size)
