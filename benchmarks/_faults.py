"""A reverse proxy on loopback that injects faults at random, for soak runs.

Each request is, independently: with probability ``drop`` a dropped connection (half of them
before the request reaches the backend, half after it answered, so the backend acted and the
caller never hears of it); with probability ``status`` an answer of 503 or 429 that never
reaches the backend; otherwise forwarded as is::

    async with RandomFaults(backend_url, drop=0.05, status=0.02, seed=1) as proxy:
        client = AsyncRapidataClient(..., api_url=proxy.url, auth_url=proxy.url)
        ...
        proxy.counts  # {"forwarded": ..., "dropped_before": ..., "dropped_after": ..., "503": ...}
"""

from __future__ import annotations

import random
from collections import Counter

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

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
_PROBLEM = b'{"type":"about:blank","title":"Injected fault","status":%d}'


class RandomFaults:
    def __init__(self, upstream: str, *, drop: float, status: float, seed: int = 0) -> None:
        self.upstream = upstream.rstrip("/")
        self.drop = drop
        self.status = status
        self.counts: Counter[str] = Counter()
        self._random = random.Random(seed)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    async def __aenter__(self) -> RandomFaults:
        app = web.Application(client_max_size=1024**3)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._session = aiohttp.ClientSession(
            auto_decompress=True, connector=aiohttp.TCPConnector(limit=0)
        )
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    def _drop(self, request: web.Request, kind: str) -> web.Response:
        self.counts[kind] += 1
        assert request.transport is not None
        request.transport.abort()
        return web.Response(status=499)  # never reaches the client

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        roll = self._random.random()
        if roll < self.drop / 2:
            return self._drop(request, "dropped_before")
        if roll < self.drop + self.status and roll >= self.drop:
            code = self._random.choice((503, 429))
            self.counts[str(code)] += 1
            headers = {"Content-Type": "application/problem+json"}
            if code == 429:
                headers["Retry-After"] = "0"
            return web.Response(status=code, body=_PROBLEM % code, headers=headers)
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
        if roll < self.drop:
            return self._drop(request, "dropped_after")
        self.counts["forwarded"] += 1
        return web.Response(status=status, body=answer, headers=answer_headers)
