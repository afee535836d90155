"""`Elephantasm` and `AsyncElephantasm`: the same resources and verbs, on httpx's sync or async
client. Each only sends requests, sleeps between retries and drives flows; `_core` decides
the rest."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

import anyio
import httpx

from ._core import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_WAIT,
    DEFAULT_PAGE_SIZE,
    Attempts,
    Call,
    Flow,
    Settings,
    build_request,
    connection_error,
    parse_response,
    server_api_version,
    start,
)
from .errors import ElephantasmError, NotFoundError
from .models import Event, Pack, SearchHit
from .resources import (
    Dreams,
    Events,
    IdentityResource,
    KnowledgeItems,
    Lessons,
    Memories,
    Packs,
    Sessions,
    Spirits,
)
from .resources.spirit_memory import pack_call
from .resources.spirits import search_call

PageCall = Callable[[int, int], Call]


class ClientBase:
    """Settings, resources and the agent verbs; subclasses send the requests."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
        backoff: float = 0.5,
        page_size: int = DEFAULT_PAGE_SIZE,
        check_version: bool = True,
        headers: Mapping[str, str] | None = None,
    ):
        self._settings = Settings.build(
            base_url=base_url,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            max_retry_wait=max_retry_wait,
            backoff=backoff,
            page_size=page_size,
            check_version=check_version,
            headers=headers,
        )
        self._version_checked = not check_version
        self.spirits = Spirits(self)
        self.events = Events(self)
        self.sessions = Sessions(self)
        self.memories = Memories(self)
        self.knowledge = KnowledgeItems(self)
        self.lessons = Lessons(self)
        self.identity = IdentityResource(self)
        self.dreams = Dreams(self)
        self.packs = Packs(self)

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    # --- the verbs of an agent loop -----------------------------------------------------------

    def extract(
        self,
        spirit_id: str,
        event_type: str,
        content: str,
        *,
        ignore_duplicates: bool = False,
        **fields: Any,
    ) -> Event:
        """Record one event (`fields`: session_id, role, author, occurred_at, dedupe_key,
        metadata...). See `events.create` for duplicates and retries."""
        return self.events.create(
            spirit_id, event_type, content, ignore_duplicates=ignore_duplicates, **fields
        )

    def inject(
        self,
        spirit_id: str,
        query: str | None = None,
        session_id: str | None = None,
        max_tokens: int | None = None,
        preset: str | None = None,
        *,
        limits: dict[str, int] | None = None,
        weights: dict[str, float] | None = None,
    ) -> Pack:
        """The context pack to put in the prompt now: `.text`, `.items`, `.token_count`."""
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

    def search(
        self,
        spirit_id: str,
        query: str,
        kinds: list[str] | None = None,
        k: int = 10,
        **filters: Any,
    ) -> list[SearchHit]:
        """The hits of a hybrid search, best first (`spirits.search` gives the whole answer)."""
        return self._run(self._hits(search_call(spirit_id, query, kinds, k, filters)))

    @staticmethod
    def _hits(call: Call) -> Flow:
        result = yield call
        return result.results

    def check_version(self) -> str | None:
        """Ask the server which API it serves (`GET /`): its version, or None when it does not
        say. Raises VersionMismatchError when it is not this client's. Done by the first
        request on its own; call it to fail early."""
        return self._run(self._version())

    def _version(self) -> Flow:
        try:
            body = yield Call("GET", "/", root=True)
        except NotFoundError:
            body = None  # only /api/ is served here (a proxy): nothing says otherwise
        version = server_api_version(body, self.base_url)
        self._version_checked = True
        return version

    def _run(self, operation: Call | Flow) -> Any:
        raise NotImplementedError

    def _iterate(self, page_call: PageCall, page_size: int | None) -> Any:
        raise NotImplementedError


class Elephantasm(ClientBase):
    """The client. `base_url` (default `ELEPHANTASM_URL`, else http://127.0.0.1:8000) is the
    server's root; `api_key` defaults to `ELEPHANTASM_API_KEY`. Use it as a context manager, or
    `close()` it. Nothing is sent before the first call."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        http_client: httpx.Client | None = None,
        **options: Any,
    ):
        super().__init__(base_url, api_key, **options)
        self._http = http_client or httpx.Client()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Elephantasm:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _run(self, operation: Call | Flow) -> Any:
        step = start(operation)
        while not step.done:
            try:
                result = self._send(step.call)
            except ElephantasmError as exc:
                step = step.throw(exc)
            else:
                step = step.send(result)
        return step.value

    def _send(self, call: Call) -> Any:
        if not call.root and not self._version_checked:
            self.check_version()
        attempts = Attempts(self._settings, call)
        while True:
            request = build_request(self._settings, call)
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                delay = attempts.delay_after_error(exc)
                if delay is None:
                    raise connection_error(exc, request) from exc
                why = type(exc).__name__
            else:
                if response.is_success:
                    return parse_response(call, response)
                delay = attempts.delay_after_status(response)
                if delay is None:
                    raise attempts.error(response)
                why = f"HTTP {response.status_code}"
            attempts.log_retry(delay, why)
            time.sleep(delay)

    def _iterate(self, page_call: PageCall, page_size: int | None) -> Iterator[Any]:
        size = page_size or self._settings.page_size
        offset = 0
        while True:
            page = self._run(page_call(size, offset))
            yield from page.results
            offset += len(page.results)
            if page.next is None or not page.results:
                return


class AsyncElephantasm(ClientBase):
    """The client for asyncio (or trio): every method is awaited, every `iter` is an async
    iterator (`async for`). Use it as an async context manager, or `await aclose()`."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        http_client: httpx.AsyncClient | None = None,
        **options: Any,
    ):
        super().__init__(base_url, api_key, **options)
        self._http = http_client or httpx.AsyncClient()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncElephantasm:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _run(self, operation: Call | Flow) -> Any:
        step = start(operation)
        while not step.done:
            try:
                result = await self._send(step.call)
            except ElephantasmError as exc:
                step = step.throw(exc)
            else:
                step = step.send(result)
        return step.value

    async def _send(self, call: Call) -> Any:
        if not call.root and not self._version_checked:
            await self.check_version()
        attempts = Attempts(self._settings, call)
        while True:
            request = build_request(self._settings, call)
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                delay = attempts.delay_after_error(exc)
                if delay is None:
                    raise connection_error(exc, request) from exc
                why = type(exc).__name__
            else:
                if response.is_success:
                    return parse_response(call, response)
                delay = attempts.delay_after_status(response)
                if delay is None:
                    raise attempts.error(response)
                why = f"HTTP {response.status_code}"
            attempts.log_retry(delay, why)
            await anyio.sleep(delay)

    async def _iterate(self, page_call: PageCall, page_size: int | None) -> AsyncIterator[Any]:
        size = page_size or self._settings.page_size
        offset = 0
        while True:
            page = await self._run(page_call(size, offset))
            for item in page.results:
                yield item
            offset += len(page.results)
            if page.next is None or not page.results:
                return
