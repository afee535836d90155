"""What every resource shares: running a call or a flow on its client, and paged lists.

A resource method returns what its client's `_run` returns: the result with `Elephantasm`, an
awaitable of it with `AsyncElephantasm`; `iter_*` methods return an iterator or an async
iterator the same way. So each method is written once for both clients.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._core import Call, Flow, page_params, page_parser

if TYPE_CHECKING:
    from .._client import ClientBase


def fields(**values: Any) -> dict[str, Any]:
    """The keyword arguments that were given (None means "not given")."""
    return {name: value for name, value in values.items() if value is not None}


class Resource:
    def __init__(self, client: ClientBase):
        self._client = client

    def _run(self, operation: Call | Flow) -> Any:
        return self._client._run(operation)

    def _page(self, path: str, model: type, params: Mapping[str, Any] | None, limit, offset) -> Any:
        """One page of a list (`limit` 1-200, default the server's 50; `offset` from 0)."""
        query = {**(params or {}), "limit": limit, "offset": offset}
        return self._run(Call("GET", path, params=query, parse=page_parser(model)))

    def _iter(self, path: str, model: type, params: Mapping[str, Any] | None, page_size) -> Any:
        """Every item of a list, fetched `page_size` at a time (default: the client's)."""

        def call(limit: int, offset: int) -> Call:
            query = page_params(params, limit, offset)
            return Call("GET", path, params=query, parse=page_parser(model))

        return self._client._iterate(call, page_size)
