"""URL ingestion in fetch mode: a backend with ``fetch_urls=True`` downloads URL assets from a
static file server on loopback, and the SDK reports the ones that fail per datapoint."""

from __future__ import annotations

import base64
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import anyio
import pytest
from aiohttp import web

from rapidata_async import FailedUploadException
from rapidata_async.local import LocalBackend

LIMIT = 64 * 1024
JPEG = b"\xff\xd8\xff\xe0" + b"j" * 2000
PNG = b"\x89PNG\r\n\x1a\n" + b"p" * 2000


@dataclass
class Files:
    """The static server: ``url(path)`` and a gate that holds ``/gated.jpg`` until set."""

    base: str
    gate: anyio.Event

    def url(self, path: str) -> str:
        return f"{self.base}/{path}"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _static_app(gate: anyio.Event) -> web.Application:
    images = {"a.jpg": JPEG, "b.png": PNG, "c.jpg": JPEG[::-1], "d.jpg": JPEG + b"d"}

    async def image(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in images:
            raise web.HTTPNotFound()
        kind = "image/png" if name.endswith(".png") else "image/jpeg"
        return web.Response(body=images[name], content_type=kind)

    async def raw(request: web.Request) -> web.Response:
        return web.Response(body=JPEG, content_type="application/octet-stream")

    async def json_doc(request: web.Request) -> web.Response:
        return web.json_response({"not": "an image"})

    async def huge(request: web.Request) -> web.Response:
        return web.Response(body=b"h" * (LIMIT + 1), content_type="image/jpeg")

    async def streamed(request: web.Request) -> web.StreamResponse:
        # Chunked, no Content-Length: the limit must hold while reading.
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        await response.prepare(request)
        for _ in range(LIMIT // 8192 + 2):
            await response.write(b"s" * 8192)
        await response.write_eof()
        return response

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("/img/d.jpg")

    async def gated(request: web.Request) -> web.Response:
        await gate.wait()
        return web.Response(body=JPEG, content_type="image/jpeg")

    app = web.Application()
    app.router.add_get("/img/{name}", image)
    app.router.add_get("/raw/{name}", raw)
    app.router.add_get("/doc/data.json", json_doc)
    app.router.add_get("/huge.jpg", huge)
    app.router.add_get("/stream.jpg", streamed)
    app.router.add_get("/moved.jpg", redirect)
    app.router.add_get("/gated.jpg", gated)
    return app


@pytest.fixture(scope="module")
async def files(anyio_backend: Any) -> AsyncIterator[Files]:
    gate = anyio.Event()
    runner = web.AppRunner(_static_app(gate), shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield Files(f"http://{host}:{port}", gate)
    finally:
        gate.set()
        await runner.cleanup()


@pytest.fixture(scope="module")
async def fetching(anyio_backend: Any) -> AsyncIterator[LocalBackend]:
    async with LocalBackend(fetch_urls=True, allow_private_urls=True, max_url_bytes=LIMIT) as b:
        yield b


@pytest.fixture(scope="module")
async def guarded(anyio_backend: Any) -> AsyncIterator[LocalBackend]:
    async with LocalBackend(fetch_urls=True) as b:
        yield b


async def _token(session: aiohttp.ClientSession, backend: LocalBackend) -> dict[str, str]:
    credential = base64.b64encode(f"{backend.client_id}:{backend.client_secret}".encode())
    async with session.post(
        f"{backend.url}/connect/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {credential.decode()}"},
    ) as response:
        assert response.status == 200
        return {"Authorization": f"Bearer {(await response.json())['access_token']}"}


async def _poll(
    fetch: Callable[[], Awaitable[dict[str, Any]]],
    done: Callable[[dict[str, Any]], bool],
    deadline: float = 10.0,
) -> dict[str, Any]:
    with anyio.fail_after(deadline):
        while True:
            value = await fetch()
            if done(value):
                return value
            await anyio.sleep(0.02)


async def test_compare_definition_keeps_good_urls_and_reports_bad_ones(
    fetching: LocalBackend, files: Files
) -> None:
    a, b, c = files.url("img/a.jpg"), files.url("img/b.png"), files.url("img/c.jpg")
    closed = f"http://127.0.0.1:{_closed_port()}/x.jpg"
    pairs = [
        [a, b],
        [c, files.url("img/missing.jpg")],
        [a, files.url("huge.jpg")],
        [files.url("doc/data.json"), b],
        [files.url("raw/e.jpg"), c],  # octet-stream with an image extension: accepted
        [files.url("stream.jpg"), a],
        [files.url("raw/blob.bin"), a],  # octet-stream, unknown extension: refused
        [files.url("moved.jpg"), b],  # redirect to an image: followed
        [closed, a],
    ]
    async with fetching.client() as client:
        with pytest.raises(FailedUploadException) as info:
            await client.job.create_compare_job_definition(
                name="Fetched pairs",
                instruction="Which image is sharper?",
                datapoints=pairs,
                responses_per_datapoint=2,
            )
        e = info.value
        bad = [1, 2, 3, 5, 6, 8]
        assert [list(f.asset) for f in e.failed_uploads] == [pairs[i] for i in bad]
        reasons = [(f.stage, f.error_message) for f in e.detailed_failures]
        expected = [
            ("download", "HTTP 404"),
            ("validate", "exceed the limit"),
            ("validate", "content type 'application/json'"),
            ("validate", "exceeds the limit"),
            ("validate", "content type 'application/octet-stream'"),
            ("connect", "cannot connect"),
        ]
        for (stage, message), (want_stage, fragment) in zip(reasons, expected, strict=True):
            assert stage == want_stage, message
            assert fragment in message
        assert {d.error_type for d in e.detailed_failures} == {"AssetUploadFailed"}

        assert e.job_definition is None  # strict by default

        # With every failure tolerated, the definition holds exactly the good pairs, with the
        # URLs they were fetched from.
        definition = await client.job.create_compare_job_definition(
            name="Fetched pairs",
            instruction="Which image is sharper?",
            datapoints=pairs,
            responses_per_datapoint=2,
            failure_tolerance=1.0,
        )
        audience = await client.audience.get_audience_by_id("global")
        job = await audience.assign_job(definition)
        with anyio.fail_after(30):
            results = await job.get_results()
    # Results list the datapoints in order; asset_urls keeps each pair's A, B order.
    got = [list((r.asset_urls or {}).values()) for r in results.results]
    assert got == [pairs[i] for i in (0, 4, 7)]


async def test_batch_stays_processing_until_its_urls_are_fetched(
    fetching: LocalBackend, files: Files
) -> None:
    urls = [files.url("img/a.jpg"), files.url("gated.jpg"), files.url("img/nope.png")]
    async with aiohttp.ClientSession() as session:
        headers = await _token(session, fetching)

        async def get(path: str, **params: str) -> dict[str, Any]:
            async with session.get(fetching.url + path, params=params, headers=headers) as r:
                assert r.status == 200
                body: dict[str, Any] = await r.json()
                return body

        async with session.post(
            f"{fetching.url}/asset/batch-upload",
            json={"urls": urls, "correlationId": "gated-run"},
            headers=headers,
        ) as response:
            assert response.status == 200
            batch_id = (await response.json())["batchUploadId"]

        async def status() -> dict[str, Any]:
            return await get("/asset/batch-upload/status", correlationId="gated-run")

        # Progress shows up while the gated URL is still downloading.
        seen = await _poll(status, lambda s: s["completedCount"] + s["failedCount"] == 2)
        assert seen["status"] == "Processing"
        assert seen["completedBatches"] == []
        partial = await get(f"/asset/batch-upload/{batch_id}")
        assert [i["status"] for i in partial["items"]] == ["Completed", "Pending", "Failed"]

        files.gate.set()
        final = await _poll(status, lambda s: batch_id in s["completedBatches"])
        assert (final["status"], final["completedCount"], final["failedCount"]) == (
            "Completed",
            2,
            1,
        )
        result = await get(f"/asset/batch-upload/{batch_id}")
        failed = result["items"][2]
        assert (failed["stage"], failed["upstreamHttpStatus"]) == ("download", 404)
        assert all(i["fileName"] for i in result["items"][:2])


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",  # loopback literal
        "localhost",  # a name that resolves to loopback
        "169.254.169.254",  # link-local (cloud metadata)
        "10.1.2.3",  # private
        "[::1]",  # IPv6 loopback
        "224.0.0.1",  # multicast
    ],
)
async def test_private_addresses_are_refused_unless_allowed(
    guarded: LocalBackend, files: Files, host: str
) -> None:
    port = files.base.rsplit(":", 1)[1]
    url = f"http://{host}:{port}/img/a.jpg"
    async with aiohttp.ClientSession() as session:
        headers = await _token(session, guarded)
        async with session.post(
            f"{guarded.url}/asset/url", params={"url": url}, headers=headers
        ) as response:
            body = await response.json()
    assert response.status == 400
    assert body["stage"] == "resolve"
    assert "private or reserved" in body["detail"]


async def test_sdk_reports_refused_private_urls(guarded: LocalBackend, files: Files) -> None:
    port = files.base.rsplit(":", 1)[1]
    pairs = [
        [f"http://localhost:{port}/img/a.jpg", f"http://127.0.0.1:{port}/img/b.png"],
        [f"http://169.254.169.254:{port}/img/c.jpg", f"http://127.0.0.1:{port}/img/b.png"],
    ]
    async with guarded.client() as client:
        with pytest.raises(FailedUploadException) as info:
            await client.job.create_compare_job_definition(
                name="Private URLs",
                instruction="Which image is sharper?",
                datapoints=pairs,
                responses_per_datapoint=2,
            )
    e = info.value
    assert [list(f.asset) for f in e.failed_uploads] == pairs
    assert all(f.stage == "resolve" for f in e.detailed_failures)
    assert all("private or reserved" in f.error_message for f in e.detailed_failures)


async def test_fetch_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="max_url_bytes"):
        LocalBackend(fetch_urls=True, max_url_bytes=0)
    with pytest.raises(ValueError, match="fetch_concurrency"):
        LocalBackend(fetch_urls=True, fetch_concurrency=0)


async def test_stats_count_requests_per_route(
    fetching: LocalBackend, files: Files, tmp_path: Any
) -> None:
    image = tmp_path / "one.jpg"
    image.write_bytes(JPEG)
    async with aiohttp.ClientSession() as session:
        before = await _stats(session, fetching)
        async with fetching.client() as client:
            await client.job.create_classification_job_definition(
                name="Counted",
                instruction="What is it?",
                answer_options=["Cat", "Dog"],
                datapoints=[str(image), files.url("img/d.jpg")],
                responses_per_datapoint=2,
            )
        after = await _stats(session, fetching)

    def delta(route: str) -> int:
        return int(after.get(route, 0)) - int(before.get(route, 0))

    assert delta("POST /asset/file") == 1
    assert delta("POST /asset/batch-upload") == 1
    assert delta("POST /dataset/{datasetId}/datapoint") == 2
    assert delta("POST /job/definition") == 1


async def _stats(session: aiohttp.ClientSession, backend: LocalBackend) -> dict[str, Any]:
    form = {"client_id": backend.client_id, "client_secret": backend.client_secret}
    async with session.post(f"{backend.url}/connect/token", data=form) as response:
        token = (await response.json())["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    async with session.get(f"{backend.url}/_local/stats", headers=headers) as response:
        assert response.status == 200
        body: dict[str, Any] = (await response.json())["requests"]
        return body
