"""Spirits: the agents whose memory is kept (creating and changing them needs an admin key)."""

from __future__ import annotations

from typing import Any

from .._core import Call
from ..models import (
    Page,
    PipelineStatus,
    PurgeResult,
    SearchResult,
    Spirit,
    SpiritStats,
    SynthesisQueued,
)
from ._base import Resource, fields


def search_call(
    spirit_id: str, query: str, kinds: list[str] | None, k: int | None, filters: dict[str, Any]
) -> Call:
    """POST /spirits/{id}/search/: it only reads, so it is safe to retry."""
    body = {"query": query, **fields(kinds=kinds, k=k), **filters}
    return Call(
        "POST",
        f"spirits/{spirit_id}/search/",
        body=body,
        parse=SearchResult.model_validate,
        replayable=True,
    )


class Spirits(Resource):
    def create(
        self,
        name: str,
        *,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        status: str | None = None,
        config: dict[str, Any] | None = None,
        team: str | None = None,
    ) -> Spirit:
        """A new spirit; `config` holds only what differs from the defaults."""
        body = {"name": name} | fields(
            description=description, metadata=metadata, status=status, config=config, team=team
        )
        return self._run(Call("POST", "spirits/", body=body, parse=Spirit.model_validate))

    def get(self, spirit_id: str, *, include_deleted: bool = False) -> Spirit:
        params = fields(include_deleted=include_deleted or None)
        return self._run(
            Call("GET", f"spirits/{spirit_id}/", params=params, parse=Spirit.model_validate)
        )

    def list(
        self,
        *,
        name: str | None = None,
        status: str | None = None,
        include_deleted: bool = False,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[Spirit]:
        """One page of the key's team's spirits (`name`: contains, any case)."""
        params = fields(name=name, status=status, include_deleted=include_deleted or None)
        return self._page("spirits/", Spirit, params, limit, offset)

    def iter(
        self,
        *,
        name: str | None = None,
        status: str | None = None,
        include_deleted: bool = False,
        page_size: int | None = None,
    ):
        """Every spirit, page after page (an iterator; an async iterator on the async client)."""
        params = fields(name=name, status=status, include_deleted=include_deleted or None)
        return self._iter("spirits/", Spirit, params, page_size)

    def update(self, spirit_id: str, **changes: Any) -> Spirit:
        """Change `name`, `description`, `metadata`, `status` or `config`."""
        return self._run(
            Call("PATCH", f"spirits/{spirit_id}/", body=changes, parse=Spirit.model_validate)
        )

    def delete(self, spirit_id: str) -> None:
        """Soft-delete the spirit and its events (owner key)."""
        return self._run(Call("DELETE", f"spirits/{spirit_id}/"))

    def restore(self, spirit_id: str) -> Spirit:
        return self._run(Call("POST", f"spirits/{spirit_id}/restore/", parse=Spirit.model_validate))

    def purge(self, spirit_id: str, *, confirm: str) -> PurgeResult:
        """Delete the spirit and everything of it for good (owner key); `confirm` is its
        name or id."""
        return self._run(
            Call(
                "POST",
                f"spirits/{spirit_id}/purge/",
                body={"confirm": confirm},
                parse=PurgeResult.model_validate,
            )
        )

    def stats(self, spirit_id: str) -> SpiritStats:
        return self._run(
            Call("GET", f"spirits/{spirit_id}/stats/", parse=SpiritStats.model_validate)
        )

    def synthesize(self, spirit_id: str) -> SynthesisQueued:
        """Queue a synthesis of the pending events now, whatever the gate says."""
        return self._run(
            Call(
                "POST",
                f"spirits/{spirit_id}/synthesize/",
                parse=SynthesisQueued.model_validate,
            )
        )

    def pipeline(self, spirit_id: str) -> PipelineStatus:
        """What is pending, what ran last, what failed."""
        return self._run(
            Call("GET", f"spirits/{spirit_id}/pipeline/", parse=PipelineStatus.model_validate)
        )

    def search(
        self,
        spirit_id: str,
        query: str,
        *,
        kinds: list[str] | None = None,
        k: int | None = None,
        **filters: Any,
    ) -> SearchResult:
        """The whole answer of a hybrid search (the hits, the weights, the text query).

        `filters`: `types`, `tiers`, `statuses`, `tags`, `session_id`, `occurred_after`,
        `occurred_before`, `include_archived`, `vector_weight`, `text_weight`, `rrf_k`,
        `text_match` (see the server's docs/search-and-packs.md)."""
        return self._run(search_call(spirit_id, query, kinds, k, filters))
