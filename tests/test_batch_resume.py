"""URL batch uploads survive the process that ran them: a batch left ``Processing`` (the
backend stopped mid-fetch, its lease held by a process that is gone) is finished by the next
backend on the same database once the lease expires. Items stored as done keep their results;
pending ones are fetched again, or failed with a clear message by a backend that does not
fetch URLs. On both stores (a SQLite file, a PostgreSQL schema)."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import anyio
import pytest
from aiohttp import web

from rapidata_async.local import LocalBackend
from rapidata_async.local.services._batches import LEASE_KIND, NOT_FETCHED
from rapidata_async.local.store import open_store

JPEG = b"\xff\xd8\xff\xe0" + b"j" * 2000


@dataclass
class Files:
    base: str
    gate: anyio.Event

    def url(self, path: str) -> str:
        return f"{self.base}/{path}"


@pytest.fixture
async def files(anyio_backend: Any) -> AsyncIterator[Files]:
    """A static server: ``/a.jpg`` at once, ``/gated.jpg`` once ``gate`` is set, else 404."""
    gate = anyio.Event()

    async def image(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name == "gated.jpg":
            await gate.wait()
        elif name != "a.jpg":
            raise web.HTTPNotFound()
        return web.Response(body=JPEG, content_type="image/jpeg")

    app = web.Application()
    app.router.add_get("/{name}", image)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield Files(f"http://{host}:{port}", gate)
    finally:
        gate.set()
        await runner.cleanup()


class Api:
    """Raw calls to one backend with its bearer token."""

    def __init__(self, session: aiohttp.ClientSession, backend: LocalBackend) -> None:
        self.session = session
        self.backend = backend
        self.headers: dict[str, str] = {}

    async def login(self) -> Api:
        basic = base64.b64encode(f"{self.backend.client_id}:{self.backend.client_secret}".encode())
        async with self.session.post(
            f"{self.backend.url}/connect/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic.decode()}"},
        ) as response:
            assert response.status == 200
            self.headers = {"Authorization": f"Bearer {(await response.json())['access_token']}"}
        return self

    async def create(self, urls: list[str]) -> str:
        async with self.session.post(
            f"{self.backend.url}/asset/batch-upload", json={"urls": urls}, headers=self.headers
        ) as response:
            assert response.status == 200
            batch_id: str = (await response.json())["batchUploadId"]
            return batch_id

    async def batch(self, batch_id: str) -> dict[str, Any]:
        async with self.session.get(
            f"{self.backend.url}/asset/batch-upload/{batch_id}", headers=self.headers
        ) as response:
            assert response.status == 200
            body: dict[str, Any] = await response.json()
            return body

    async def until(self, batch_id: str, done: Any, deadline: float = 15.0) -> dict[str, Any]:
        with anyio.fail_after(deadline):
            while True:
                body = await self.batch(batch_id)
                if done(body):
                    return body
                await anyio.sleep(0.02)


def _fetching(options: dict[str, Any], **kwargs: Any) -> LocalBackend:
    return LocalBackend(**options, fetch_urls=True, allow_private_urls=True, **kwargs)


async def _interrupted_batch(files: Files, options: dict[str, Any]) -> tuple[str, str]:
    """A batch whose first URL was fetched and stored and whose second one hangs, left by a
    backend that stopped mid-fetch; returns ``(batch id, file name of the first item)``."""
    async with _fetching(options) as first, aiohttp.ClientSession() as session:
        api = await Api(session, first).login()
        batch_id = await api.create(
            [files.url("a.jpg"), files.url("gated.jpg"), files.url("nope.png")]
        )
        seen = await api.until(
            batch_id,
            lambda b: [i["status"] for i in b["items"]] == ["Completed", "Pending", "Failed"],
        )
        assert seen["status"] == "Processing"
        kept: str = seen["items"][0]["fileName"]
    return batch_id, kept


async def _leave_lease(options: dict[str, Any], batch_id: str, ttl: float) -> None:
    """What a killed process leaves behind: the batch's lease, held until it expires."""
    store = open_store(options["db"], assets_dir=options["assets_dir"])
    await store.open()
    try:
        assert await store.leases.acquire(LEASE_KIND, [batch_id], "killed", ttl) == [batch_id]
    finally:
        await store.close()


async def test_a_restarted_backend_finishes_an_interrupted_batch(
    files: Files, backend_options: dict[str, Any]
) -> None:
    batch_id, kept = await _interrupted_batch(files, backend_options)
    assert not files.gate.is_set()
    files.gate.set()
    await _leave_lease(backend_options, batch_id, ttl=1.0)
    left = time.monotonic()
    async with _fetching(backend_options, lease_ttl=1.0) as second:
        async with aiohttp.ClientSession() as session:
            api = await Api(session, second).login()
            final = await api.until(batch_id, lambda b: b["status"] == "Completed")
    # Not before the dead owner's lease ran out.
    assert time.monotonic() - left >= 0.9
    a, gated, nope = final["items"]
    assert (a["status"], a["fileName"]) == ("Completed", kept)  # kept, not fetched again
    assert gated["status"] == "Completed" and gated["fileName"].startswith("gated_")
    assert (nope["status"], nope["upstreamHttpStatus"]) == ("Failed", 404)
    assert (final["completedCount"], final["failedCount"]) == (2, 1)
    assert (backend_options["assets_dir"] / gated["fileName"]).read_bytes() == JPEG


async def test_a_backend_that_does_not_fetch_fails_the_pending_items_clearly(
    files: Files, backend_options: dict[str, Any]
) -> None:
    batch_id, kept = await _interrupted_batch(files, backend_options)
    async with LocalBackend(**backend_options) as recording, aiohttp.ClientSession() as session:
        api = await Api(session, recording).login()
        final = await api.until(batch_id, lambda b: b["status"] == "Completed")
    a, gated, nope = final["items"]
    assert (a["status"], a["fileName"]) == ("Completed", kept)
    assert (gated["status"], gated["errorMessage"]) == ("Failed", NOT_FETCHED)
    assert gated["fileName"] is None
    assert (nope["status"], nope["upstreamHttpStatus"]) == ("Failed", 404)
