"""Hostile input against the served API over loopback: size caps (413/414/431), bad input that
once crashed a handler (400 naming the field), the SSRF guard's IPv6 forms, the pages' security
headers, the stats route behind auth, and the plain-http warning of ``serve``."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anyio
import pytest

from rapidata_async.local import LocalBackend
from rapidata_async.local._limits import MAX_DEPTH, TOKEN_FORM_BYTES
from rapidata_async.local._serve import plaintext_warning
from rapidata_async.local.services._fetch import forbidden_address


@pytest.fixture
async def session(backend: LocalBackend) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(backend.url) as opened:
        yield opened


async def _token(session: aiohttp.ClientSession, backend: LocalBackend) -> dict[str, str]:
    form = {"client_id": backend.client_id, "client_secret": backend.client_secret}
    async with session.post("/connect/token", data=form) as response:
        assert response.status == 200
        return {"Authorization": f"Bearer {(await response.json())['access_token']}"}


@pytest.fixture
async def auth(session: aiohttp.ClientSession, backend: LocalBackend) -> dict[str, str]:
    return await _token(session, backend)


async def _problem(response: aiohttp.ClientResponse, status: int) -> dict[str, Any]:
    """The ProblemDetails body of ``response``, after checking its status and type."""
    assert response.status == status, await response.text()
    assert response.content_type == "application/problem+json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body: dict[str, Any] = await response.json()
    assert body["status"] == status
    return body


async def _chunks(data: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


# -- sizes -------------------------------------------------------------------------------------
async def test_token_form_is_capped_before_reading(
    session: aiohttp.ClientSession, backend: LocalBackend
) -> None:
    padding = "x" * (TOKEN_FORM_BYTES + 1)
    form = {"client_id": backend.client_id, "client_secret": backend.client_secret, "p": padding}
    async with session.post("/connect/token", data=form) as response:
        await _problem(response, 413)
    # Without a Content-Length the cap holds while reading.
    body = json.dumps(form).encode()  # any bytes: the size decides
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with session.post("/connect/token", data=_chunks(body), headers=headers) as response:
        await _problem(response, 413)


async def test_names_and_json_bodies_are_capped(
    session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    async with session.post("/audience", json={"name": "n" * 1001}, headers=auth) as response:
        body = await _problem(response, 400)
    assert "name" in body["errors"]
    async with session.post("/audience", json={"name": "ok"}, headers=auth) as response:
        assert response.status == 200
    big = {"name": "d", "padding": "p" * (2 * 1024 * 1024)}
    async with session.post("/dataset", json=big, headers=auth) as response:
        await _problem(response, 413)
    async with session.get("/audiences", params={"page_size": "100"}, headers=auth) as response:
        assert len(await response.read()) < 100_000


@pytest.fixture
async def small_uploads() -> AsyncIterator[LocalBackend]:
    async with LocalBackend(max_upload_bytes=10_000) as small:
        yield small


def _file_form(data: Any) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("file", data, filename="big.bin", content_type="application/octet-stream")
    return form


async def test_uploads_past_the_cap_get_413(small_uploads: LocalBackend) -> None:
    async with aiohttp.ClientSession(small_uploads.url) as session:
        auth = await _token(session, small_uploads)
        async with session.post("/asset/file", data=_file_form(b"a" * 9_000), headers=auth) as r:
            assert r.status == 200
        # Declared too large: refused before the body is read.
        async with session.post("/asset/file", data=_file_form(b"b" * 50_000), headers=auth) as r:
            body = await _problem(r, 413)
        assert "file" in body["errors"]
        # Streamed without a length: refused once the cap is passed.
        boundary = "hostile"
        payload = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="s.bin"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + b"c" * 30_000
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {**auth, "Content-Type": f"multipart/form-data; boundary={boundary}"}
        async with session.post("/asset/file", data=_chunks(payload), headers=headers) as r:
            body = await _problem(r, 413)
        assert "file" in body["errors"]


def _raw_request(url: str, request: bytes) -> bytes:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize(
    ("request_line", "header", "status"),
    [
        ("/" + "a" * 9000, "", 414),
        ("/audiences", "X-Big: " + "h" * 9000 + "\r\n", 431),
        ("/audiences", "".join(f"X-{i}: v\r\n" for i in range(200)), 431),
        ("/audiences", "Bad\x00Header: v\r\n", 400),
    ],
    ids=["long-request-line", "long-header", "many-headers", "nul-in-header"],
)
async def test_oversize_or_malformed_heads_get_problem_details(
    backend: LocalBackend, request_line: str, header: str, status: int
) -> None:
    raw = f"GET {request_line} HTTP/1.1\r\nHost: x\r\n{header}\r\n".encode()
    answer = await anyio.to_thread.run_sync(_raw_request, backend.url, raw)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ", 2)[1] == str(status).encode(), answer[:300]
    assert b"content-type: application/problem+json" in head.lower()
    assert json.loads(body)["status"] == status


# -- bad input, no 500 -------------------------------------------------------------------------
async def test_huge_integers_are_400_naming_the_field(
    session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    async with session.get(f"/job/definition/x/revision/{2**63}", headers=auth) as response:
        assert "revisionNumber" in (await _problem(response, 400))["errors"]
    async with session.post("/dataset", json={"name": "d"}, headers=auth) as response:
        dataset_id = (await response.json())["datasetId"]
    datapoint = {"sortIndex": 2**64, "asset": {"_t": "TextAssetInput", "text": "hello"}}
    async with session.post(
        f"/dataset/{dataset_id}/datapoint", json=datapoint, headers=auth
    ) as response:
        assert "sortIndex" in (await _problem(response, 400))["errors"]


@pytest.mark.parametrize(
    "part_head",
    [
        b'Content-Disposition: form-data; name="file"; filename="a\x00b.jpg"\r\n',
        b'Content-Disposition: form-data; name="file"; filename="a.jpg"\r\n\x01garbage\r\n',
        b"Content-Disposition: form-data; name=\"file\"; filename*=x''%ff%00\r\nX: \xff\r\n",
    ],
)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # aiohttp warns of the bad filename*
async def test_garbage_part_headers_are_400(
    session: aiohttp.ClientSession, auth: dict[str, str], part_head: bytes
) -> None:
    body = b"--B\r\n" + part_head + b"Content-Type: image/jpeg\r\n\r\nabc\r\n--B--\r\n"
    headers = {**auth, "Content-Type": "multipart/form-data; boundary=B"}
    async with session.post("/asset/file", data=body, headers=headers) as response:
        assert response.status in (200, 400), await response.text()
        if response.status == 400:
            assert "file" in (await _problem(response, 400))["errors"]


@pytest.mark.parametrize("depth", [MAX_DEPTH + 5, 5000])
async def test_deeply_nested_filters_are_400(
    session: aiohttp.ClientSession, auth: dict[str, str], depth: int
) -> None:
    nested = '{"_t": "NotFilter", "filter": ' * depth
    leaf = '{"_t": "CountryFilter", "countries": ["US"]}'
    body = '{"name": "deep", "filters": [' + nested + leaf + "}" * depth + "]}"
    headers = {**auth, "Content-Type": "application/json"}
    async with session.post("/audience", data=body, headers=headers) as response:
        problem = await _problem(response, 400)
    assert all(field.startswith("filters[0]") for field in problem["errors"]), problem


BAD_URL = "http://example.com\\@127.0.0.1/x.jpg"


async def test_urls_the_parser_rejects_fail_alone(
    session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    async with session.post("/asset/url", params={"url": BAD_URL}, headers=auth) as response:
        assert "url" in (await _problem(response, 400))["errors"]
    urls = [BAD_URL, "https://example.com/cat.jpg"]
    async with session.post("/asset/batch-upload", json={"urls": urls}, headers=auth) as response:
        batch_id = (await response.json())["batchUploadId"]
    async with session.get(f"/asset/batch-upload/{batch_id}", headers=auth) as response:
        result = await response.json()
    assert result["status"] == "Completed"
    assert [item["status"] for item in result["items"]] == ["Failed", "Completed"]


async def test_a_bad_url_in_a_fetched_batch_fails_alone() -> None:
    async with (
        LocalBackend(fetch_urls=True) as fetching,
        aiohttp.ClientSession(fetching.url) as session,
    ):
        auth = await _token(session, fetching)
        urls = [BAD_URL, "http://[::7f00:1]:9/x.jpg"]
        body = {"urls": urls}
        async with session.post("/asset/batch-upload", json=body, headers=auth) as response:
            batch_id = (await response.json())["batchUploadId"]
        with anyio.fail_after(20):
            while True:
                async with session.get(f"/asset/batch-upload/{batch_id}", headers=auth) as r:
                    result = await r.json()
                if result["status"] != "Processing":
                    break
                await anyio.sleep(0.05)
        assert result["status"] == "Completed"
        assert [item["status"] for item in result["items"]] == ["Failed", "Failed"]
        assert result["items"][1]["stage"] == "resolve"


# -- SSRF guard --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "address",
    [
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "::a00:1",  # IPv4-compatible 10.0.0.1
        "::ffff:127.0.0.1",  # IPv4-mapped
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254 (cloud metadata)
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo, client 192.0.2.45
    ],
)
def test_embedded_private_ipv4_is_forbidden(address: str) -> None:
    assert forbidden_address(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700::1111", "64:ff9b::808:808"])
def test_public_addresses_stay_allowed(address: str) -> None:
    assert not forbidden_address(address)


async def test_an_ipv4_compatible_loopback_url_is_refused() -> None:
    async with (
        LocalBackend(fetch_urls=True) as fetching,
        aiohttp.ClientSession(fetching.url) as session,
    ):
        auth = await _token(session, fetching)
        for url in ("http://[::7f00:1]/a.jpg", "http://[64:ff9b::7f00:1]/a.jpg"):
            async with session.post("/asset/url", params={"url": url}, headers=auth) as r:
                problem = await _problem(r, 400)
            assert problem["stage"] == "resolve", problem


# -- surfaces ----------------------------------------------------------------------------------
async def test_stats_need_a_token(session: aiohttp.ClientSession, auth: dict[str, str]) -> None:
    async with session.get("/_local/stats") as response:
        await _problem(response, 401)
    async with session.get("/_local/stats", headers=auth) as response:
        assert response.status == 200
        assert "requests" in await response.json()


async def test_pages_carry_security_headers(session: aiohttp.ClientSession) -> None:
    for path in ("/", "/definitions/nope", "/audiences/a/job/nope"):
        async with session.get(path) as response:
            assert response.content_type == "text/html"
            csp = response.headers["Content-Security-Policy"]
            assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
            # Scripts only from the backend's own files: nothing inline, nothing evaluated.
            assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
            assert "script-src 'self'" in csp or "script-src" not in csp
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Referrer-Policy"] == "no-referrer"
    async with session.get("/audiences") as response:  # JSON answers too, even errors
        assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_job_page_checks_the_audience_in_its_path(
    session: aiohttp.ClientSession, client: Any
) -> None:
    audience = await client.audience.get_audience_by_id("global")
    definition = await client.job.create_classification_job_definition(
        name="page",
        instruction="Cat?",
        answer_options=["yes", "no"],
        datapoints=["https://example.com/a.jpg"],
        responses_per_datapoint=1,
    )
    job = await audience.assign_job(definition)
    async with session.get(f"/audiences/{audience.id}/job/{job.id}") as response:
        assert response.status == 200
    async with session.get(f"/audiences/someone-else/job/{job.id}") as response:
        assert response.status == 404
        assert job.name not in await response.text()


def test_plain_http_beyond_loopback_warns() -> None:
    warning = plaintext_warning("0.0.0.0", tls=False)
    assert warning is not None and "0.0.0.0" in warning
    assert plaintext_warning("0.0.0.0", tls=True) is None
    assert plaintext_warning("127.0.0.1", tls=False) is None
    assert plaintext_warning("::1", tls=False) is None
