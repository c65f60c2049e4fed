"""A fault-injecting reverse proxy for transport tests.

It listens on 127.0.0.1 (random port), forwards every request to ``upstream`` and records what
it saw. Faults are scripted per path prefix and consumed in order, one per matching request::

    async with FaultProxy(backend.url) as proxy:
        proxy.fail(503, times=2, path="/audiences")          # answer 503 twice, then forward
        proxy.fail(429, retry_after="1")                      # one 429 with Retry-After: 1
        proxy.delay(5.0, path="/audiences")                   # forward, but answer 5 s later
        proxy.cut(path="/dataset")                            # drop the connection, no answer
        proxy.cut(path="/dataset", mid_body=True)             # headers, half a body, then drop
        ...
        proxy.calls("/audiences")  # -> [Seen(method, path, query, headers, body, status), ...]
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

# Headers that describe one hop, not the message: never forwarded.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "content-encoding",
    }
)


@dataclass
class Fault:
    kind: Literal["status", "delay", "cut"]
    path: str | None
    status: int = 503
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_type: str = "application/problem+json"
    seconds: float = 0.0
    mid_body: bool = False


@dataclass
class Seen:
    """One request the proxy received, and the status it answered (None: connection cut)."""

    method: str
    path: str
    query: str
    headers: CIMultiDictProxy[str]
    body: bytes
    status: int | None = None
    fault: str | None = None


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.seen: list[Seen] = []
        self._faults: list[Fault] = []
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    # -- scripting ------------------------------------------------------------------------
    def fail(
        self,
        status: int,
        *,
        times: int = 1,
        path: str | None = None,
        retry_after: str | None = None,
        body: bytes = b"",
        content_type: str = "application/problem+json",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer ``status`` (with ``Retry-After`` when given) instead of forwarding."""
        extra = dict(headers or {})
        if retry_after is not None:
            extra["Retry-After"] = retry_after
        for _ in range(times):
            self._faults.append(
                Fault("status", path, status=status, headers=extra, body=body,
                      content_type=content_type)
            )  # fmt: skip

    def delay(self, seconds: float, *, times: int = 1, path: str | None = None) -> None:
        """Forward, but hold the answer back for ``seconds`` (until the proxy closes)."""
        for _ in range(times):
            self._faults.append(Fault("delay", path, seconds=seconds))

    def cut(self, *, times: int = 1, path: str | None = None, mid_body: bool = False) -> None:
        """Drop the connection: before any answer, or after the headers and half a body."""
        for _ in range(times):
            self._faults.append(Fault("cut", path, mid_body=mid_body))

    def calls(self, path_prefix: str = "") -> list[Seen]:
        """Requests seen whose path starts with ``path_prefix``."""
        return [s for s in self.seen if s.path.startswith(path_prefix)]

    @property
    def pending_faults(self) -> int:
        return len(self._faults)

    # -- lifecycle ------------------------------------------------------------------------
    async def __aenter__(self) -> FaultProxy:
        app = web.Application(client_max_size=1024**3)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._session = aiohttp.ClientSession(auto_decompress=True)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    # -- handling -------------------------------------------------------------------------
    def _take(self, path: str) -> Fault | None:
        for i, fault in enumerate(self._faults):
            if fault.path is None or path.startswith(fault.path):
                return self._faults.pop(i)
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        seen = Seen(request.method, request.path, request.query_string, request.headers, body)
        self.seen.append(seen)
        fault = self._take(request.path)
        seen.fault = fault.kind if fault else None

        if fault is not None and fault.kind == "status":
            seen.status = fault.status
            return web.Response(
                status=fault.status,
                body=fault.body,
                headers={**fault.headers, "Content-Type": fault.content_type},
            )
        if fault is not None and fault.kind == "cut" and not fault.mid_body:
            assert request.transport is not None
            request.transport.abort()
            return web.Response(status=499)  # never reaches the client

        assert self._session is not None
        headers = CIMultiDict(
            (k, v) for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP
        )
        async with self._session.request(
            request.method,
            self.upstream + request.path_qs,
            headers=headers,
            data=body or None,
            allow_redirects=False,
        ) as upstream:
            answer = await upstream.read()
            answer_headers = CIMultiDict(
                (k, v) for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP
            )
            status = upstream.status

        if fault is not None and fault.kind == "delay":
            try:
                await asyncio.wait_for(self._closing.wait(), fault.seconds)
            except TimeoutError:
                pass
        if fault is not None and fault.kind == "cut":
            response = web.StreamResponse(status=status, headers=answer_headers)
            response.content_length = len(answer) + 100
            await response.prepare(request)
            await response.write(answer[: len(answer) // 2])
            assert request.transport is not None
            request.transport.abort()
            seen.status = None
            return response
        seen.status = status
        return web.Response(status=status, body=answer, headers=answer_headers)
