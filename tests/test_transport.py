"""Transport: auth, headers, retries, timeouts, error mapping, tracing, logging, credentials.

Every HTTP test talks to the real local backend (``backend`` fixture), most of them through
``tests/_proxy.FaultProxy`` which injects 5xx/429 answers, delays and cut connections.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import pickle
import random
import socket
import ssl
import stat
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

import aiohttp
import anyio
import msgspec
import pytest
from _proxy import FaultProxy  # tests/ is on sys.path (rootdir-relative, no package)
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from rapidata_async._config import rapidata_config
from rapidata_async._constants import SDK_VERSION, X_CLIENT
from rapidata_async._credentials import load_credentials, resolve_credentials, save_credentials
from rapidata_async._exceptions import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    FailedUpload,
    FailedUploadException,
    InternalServerError,
    MissingCredentialsError,
    NotFoundError,
    PermissionDeniedError,
    RapidataApiError,
    RapidataConnectionError,
    RapidataError,
    RapidataResponseValidationError,
    RapidataStatusError,
    RapidataTimeoutError,
    RateLimitError,
    UnprocessableEntityError,
    status_error_class,
)
from rapidata_async._logging import redact
from rapidata_async._transport import Transport, TransportSettings
from rapidata_async._wire._base import WireModel
from rapidata_async._wire.common import Page, ProblemDetails
from rapidata_async._wire.dataset import CreateDatasetInput, CreateDatasetOutput
from rapidata_async.local import LocalBackend


class _AudienceItem(WireModel):
    """Just the fields of a ``GET /audiences`` item these tests look at."""

    id: str
    name: str


AUDIENCES = Page[_AudienceItem]
OTEL_SDK = "optional extra: dev (opentelemetry-sdk)"
SEEDED_AUDIENCES = 4  # a fresh backend holds the global and three curated audiences


def settings_for(backend: Any, url: str | None = None, **overrides: Any) -> TransportSettings:
    base = url or backend.url
    values: dict[str, Any] = {
        "api_url": base,
        "auth_url": base,
        "client_id": backend.client_id,
        "client_secret": backend.client_secret,
        # Retries are exercised here, not the waiting: keep backoff tiny.
        "backoff_base": 0.001,
        "backoff_cap": 0.01,
    }
    values.update(overrides)
    return TransportSettings(**values)


@pytest.fixture
async def proxy(backend: Any) -> AsyncIterator[FaultProxy]:
    async with FaultProxy(backend.url) as p:
        yield p


@pytest.fixture
async def transport(backend: Any, proxy: FaultProxy) -> AsyncIterator[Transport]:
    async with Transport(settings_for(backend, proxy.url)) as t:
        yield t


async def list_audiences(transport: Transport, **kw: Any) -> Page[_AudienceItem]:
    return await transport.request(
        "GET", "/audiences", op_id="audiences_get", response_type=AUDIENCES, **kw
    )


# -- happy path and wire format -----------------------------------------------------------


async def test_request_decodes_answer_and_sends_sdk_headers(
    transport: Transport, proxy: FaultProxy
) -> None:
    page = await list_audiences(transport, params={"page": 1, "page_size": 10})
    assert isinstance(page, Page) and all(item.id for item in page.items)
    assert page.total == len(page.items) == SEEDED_AUDIENCES

    api = proxy.calls("/audiences")[-1]
    token = await transport.get_token()
    assert api.headers["Authorization"] == f"Bearer {token}"
    assert api.headers["X-Client"] == X_CLIENT == f"RapidataAsyncSDK/{SDK_VERSION}"
    assert api.headers["Accept"] == "application/json"
    assert api.headers["User-Agent"].startswith("rapidata-async/")
    assert "Content-Type" not in api.headers  # no body, no content type


async def test_token_request_is_client_credentials_with_basic_auth(
    transport: Transport, proxy: FaultProxy, backend: Any
) -> None:
    await transport.get_token()
    (call,) = proxy.calls("/connect/token")
    assert call.method == "POST"
    assert call.headers["Accept"] == "application/json"
    assert call.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert "X-Client" not in call.headers
    scheme, _, encoded = call.headers["Authorization"].partition(" ")
    user, _, password = base64.b64decode(encoded).decode().partition(":")
    assert scheme == "Basic"
    assert (unquote_plus(user), unquote_plus(password)) == (
        backend.client_id,
        backend.client_secret,
    )
    assert call.body == b"grant_type=client_credentials&scope=openid+email+api"


async def test_json_body_is_camel_case_and_answer_decoded(
    transport: Transport, proxy: FaultProxy
) -> None:
    out = await transport.request(
        "POST",
        "/dataset",
        op_id="dataset_post",
        json=CreateDatasetInput(name="transport test"),
        response_type=CreateDatasetOutput,
    )
    assert out.dataset_id
    call = proxy.calls("/dataset")[-1]
    assert call.headers["Content-Type"] == "application/json"
    assert json.loads(call.body) == {"name": "transport test"}


async def test_params_repeat_list_values_and_render_booleans(
    transport: Transport, proxy: FaultProxy
) -> None:
    await list_audiences(
        transport,
        params={
            "page": 1,
            "tags[in]": ["a", "b"],
            "flag": True,
            "gone": None,
            "name[contains]": "",
        },
    )
    query = parse_qsl(proxy.calls("/audiences")[-1].query, keep_blank_values=True)
    assert query == [
        ("page", "1"),
        ("tags[in]", "a"),
        ("tags[in]", "b"),
        ("flag", "true"),
        ("name[contains]", ""),
    ]


async def test_no_response_type_returns_raw_bytes_and_expected_statuses_pass(
    transport: Transport,
) -> None:
    raw = await transport.request("GET", "/audiences", op_id="audiences_get")
    assert isinstance(raw, bytes) and raw.startswith(b"{")
    missing = await transport.request(
        "GET", "/audience/aud_does_not_exist", op_id="audience_get", expected=(404,)
    )
    assert b"not" in missing.lower()


# -- tokens -------------------------------------------------------------------------------


async def test_token_expiring_within_leeway_is_renewed_first(
    backend: Any, proxy: FaultProxy
) -> None:
    soon = {"access_token": "about-to-expire", "expires_at": time.time() + 30}
    async with Transport(settings_for(backend, proxy.url, token=soon)) as t:
        fresh = await t.get_token()
        assert fresh != "about-to-expire"
        await list_audiences(t)
        assert await t.get_token() == fresh  # cached now
    assert len(proxy.calls("/connect/token")) == 1
    assert proxy.calls("/audiences")[-1].headers["Authorization"] == f"Bearer {fresh}"


async def test_token_valid_beyond_leeway_is_used_as_is(backend: Any, proxy: FaultProxy) -> None:
    later = {"access_token": "good-for-an-hour", "expires_at": time.time() + 3600}
    async with Transport(settings_for(backend, proxy.url, token=later)) as t:
        assert await t.get_token() == "good-for-an-hour"
    assert proxy.calls("/connect/token") == []


async def test_concurrent_requests_share_one_token_request(backend: Any, proxy: FaultProxy) -> None:
    async with Transport(settings_for(backend, proxy.url)) as t:
        async with anyio.create_task_group() as tg:
            for _ in range(100):
                tg.start_soon(list_audiences, t)
        assert t.token_fetch_count == 1
    assert len(proxy.calls("/connect/token")) == 1
    calls = proxy.calls("/audiences")
    assert len(calls) == 100
    assert len({c.headers["Authorization"] for c in calls}) == 1


async def test_expiring_token_is_renewed_once_under_concurrency(
    backend: Any, proxy: FaultProxy
) -> None:
    soon = {"access_token": "about-to-expire", "expires_at": time.time() + 5}
    async with Transport(settings_for(backend, proxy.url, token=soon)) as t:
        tokens: list[str] = []

        async def grab() -> None:
            tokens.append(await t.get_token())

        async with anyio.create_task_group() as tg:
            for _ in range(50):
                tg.start_soon(grab)
    assert len(set(tokens)) == 1 and tokens[0] != "about-to-expire"
    assert len(proxy.calls("/connect/token")) == 1


async def test_rejected_token_is_renewed_once_and_call_repeated(
    backend: Any, proxy: FaultProxy
) -> None:
    stale = {"access_token": "revoked-by-server", "expires_at": time.time() + 3600}
    async with Transport(settings_for(backend, proxy.url, token=stale)) as t:
        await list_audiences(t)
    assert [c.status for c in proxy.calls("/audiences")] == [401, 200]
    assert len(proxy.calls("/connect/token")) == 1


async def test_rejected_token_without_credentials_raises(backend: Any, proxy: FaultProxy) -> None:
    only_token = {"access_token": "revoked-by-server", "expires_at": time.time() + 3600}
    settings = TransportSettings(api_url=proxy.url, token=only_token)
    async with Transport(settings) as t:
        with pytest.raises(AuthenticationError) as info:
            await list_audiences(t)
    assert info.value.status_code == 401
    assert len(proxy.calls("/audiences")) == 1


async def test_ready_token_near_expiry_without_credentials(proxy: FaultProxy) -> None:
    soon = {"access_token": "t", "expires_at": time.time() + 30}
    async with Transport(TransportSettings(api_url=proxy.url, token=soon)) as t:
        assert await t.get_token() == "t"  # cannot renew: used while still valid
    expired = {"access_token": "t", "expires_at": time.time() - 1}
    async with Transport(TransportSettings(api_url=proxy.url, token=expired)) as t:
        with pytest.raises(AuthenticationError, match="no client credentials"):
            await t.get_token()
    assert proxy.seen == []


async def test_invalid_client_raises_clear_error_without_secret(
    backend: Any, proxy: FaultProxy
) -> None:
    secret = "definitely-wrong-secret-123"
    async with Transport(settings_for(backend, proxy.url, client_secret=secret)) as t:
        with pytest.raises(AuthenticationError) as info:
            await list_audiences(t)
    exc = info.value
    assert "invalid_client" in str(exc) and "client_id" in str(exc)
    assert secret not in str(exc) and secret not in repr(exc)
    assert exc.status_code in (400, 401)
    assert proxy.calls("/audiences") == []


def test_settings_hide_secrets_and_reject_bad_values() -> None:
    s = TransportSettings(
        api_url="https://api.example/", auth_url="https://auth.example", client_id="id",
        client_secret="hunter2", token={"access_token": "tok"},
    )  # fmt: skip
    assert "hunter2" not in repr(s) and "tok" not in repr(s)
    assert s.api_url == "https://api.example"
    assert s.token_url == "https://auth.example/connect/token"
    with pytest.raises(ValueError, match="read_timeout"):
        TransportSettings(api_url="https://x", token={"access_token": "t"}, read_timeout=0)
    with pytest.raises(ValueError, match="max_retries"):
        TransportSettings(api_url="https://x", token={"access_token": "t"}, max_retries=-1)
    with pytest.raises(ValueError, match="client_secret"):
        TransportSettings(api_url="https://x", client_id="id")
    with pytest.raises(ValueError, match="api_url"):
        TransportSettings(api_url="ftp://x", token={"access_token": "t"})


# -- retries ------------------------------------------------------------------------------


async def test_5xx_retried_until_success(transport: Transport, proxy: FaultProxy) -> None:
    proxy.fail(503, times=2, path="/audiences")
    proxy.fail(408, path="/audiences")
    page = await list_audiences(transport)
    assert page.total == SEEDED_AUDIENCES
    assert [c.status for c in proxy.calls("/audiences")] == [503, 503, 408, 200]


async def test_retries_exhausted_raise_last_status(backend: Any, proxy: FaultProxy) -> None:
    proxy.fail(502, times=10, path="/audiences")
    async with Transport(settings_for(backend, proxy.url, max_retries=2)) as t:
        with pytest.raises(InternalServerError) as info:
            await list_audiences(t)
    assert info.value.status_code == 502
    assert len(proxy.calls("/audiences")) == 3


async def test_retry_false_and_client_errors_are_not_retried(
    transport: Transport, proxy: FaultProxy
) -> None:
    proxy.fail(503, path="/audiences")
    with pytest.raises(InternalServerError):
        await list_audiences(transport, retry=False)
    with pytest.raises(NotFoundError):
        await transport.request("GET", "/audience/aud_does_not_exist", op_id="audience_get")
    assert len(proxy.calls("/audiences")) == 1
    assert len(proxy.calls("/audience/")) == 1


async def test_retry_after_honoured_up_to_cap(backend: Any, proxy: FaultProxy) -> None:
    proxy.fail(429, path="/audiences", retry_after="0.2")
    proxy.fail(503, path="/audiences", retry_after="30")  # capped to 0.3
    settings = settings_for(backend, proxy.url, backoff_base=0.0, retry_after_cap=0.3)
    async with Transport(settings) as t:
        await t.get_token()
        started = time.monotonic()
        await list_audiences(t)
        elapsed = time.monotonic() - started
    assert 0.5 <= elapsed < 5
    assert [c.status for c in proxy.calls("/audiences")] == [429, 503, 200]


async def test_rate_limit_after_retries_is_rate_limit_error(
    backend: Any, proxy: FaultProxy
) -> None:
    proxy.fail(429, times=2, path="/audiences", retry_after="0")
    async with Transport(settings_for(backend, proxy.url, max_retries=1)) as t:
        with pytest.raises(RateLimitError):
            await list_audiences(t)


def test_backoff_is_full_jitter_capped() -> None:
    t = Transport(TransportSettings(api_url="https://x", token={"access_token": "t"}))
    random.seed(7)
    for attempt in range(1, 12):
        ceiling = min(30.0, 0.5 * 2 ** (attempt - 1))
        delays = [t._backoff(attempt, None) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # spread over the whole range
    assert t._backoff(1, "7") == 7.0
    assert t._backoff(1, "0") == 0.0  # "retry now" is honoured, not replaced by our backoff
    assert t._backoff(1, "600") == 60.0  # Retry-After cap
    assert t._backoff(1, "Wed, 21 Oct 2015 07:28:00 GMT") <= 0.5  # dates: own backoff


async def test_data_factory_called_once_per_attempt(backend: Any, proxy: FaultProxy) -> None:
    calls = 0

    def body() -> aiohttp.FormData:
        nonlocal calls
        calls += 1
        form = aiohttp.FormData()
        form.add_field("file", b"hello", filename="a.txt", content_type="text/plain")
        return form

    proxy.fail(503, times=3, path="/asset/file")
    async with Transport(settings_for(backend, proxy.url, max_retries=2)) as t:
        with pytest.raises(InternalServerError):
            await t.request(
                "POST", "/asset/file", op_id="asset_file_post", data=body, idempotent=True
            )
    assert calls == 3
    seen = proxy.calls("/asset/file")
    assert len(seen) == 3 and all(b"hello" in s.body for s in seen)


# -- broken connections and timeouts --------------------------------------------------------


@pytest.mark.parametrize("mid_body", [False, True], ids=["before-answer", "mid-body"])
async def test_cut_connection_is_retried(
    transport: Transport, proxy: FaultProxy, mid_body: bool
) -> None:
    await transport.get_token()
    proxy.cut(path="/audiences", mid_body=mid_body)
    page = await list_audiences(transport)
    assert page.total == SEEDED_AUDIENCES
    assert [c.status for c in proxy.calls("/audiences")] == [None, 200]


async def test_connection_errors_map_to_sdk_type_chained(backend: Any, proxy: FaultProxy) -> None:
    # aiohttp itself repeats a request once when a reused keep-alive connection drops, so
    # script more cuts than our attempts.
    proxy.cut(times=20, path="/audiences")
    async with Transport(settings_for(backend, proxy.url, max_retries=2)) as t:
        with pytest.raises(RapidataConnectionError) as info:
            await list_audiences(t)
    exc = info.value
    assert not isinstance(exc, aiohttp.ClientError)
    assert isinstance(exc.__cause__, aiohttp.ClientError)
    assert "GET /audiences" in str(exc)
    assert 3 <= len(proxy.calls("/audiences")) <= 6


async def test_connection_refused(backend: Any) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    settings = settings_for(backend, f"http://127.0.0.1:{port}", max_retries=1)
    async with Transport(settings) as t:
        with pytest.raises(RapidataConnectionError, match="cannot connect"):
            await t.get_token()


async def test_read_timeout(backend: Any, proxy: FaultProxy) -> None:
    settings = settings_for(backend, proxy.url, read_timeout=0.3, max_retries=1)
    async with Transport(settings) as t:
        await t.get_token()
        proxy.delay(30, times=2, path="/audiences")
        started = time.monotonic()
        with pytest.raises(RapidataTimeoutError) as info:
            await list_audiences(t)
    assert time.monotonic() - started < 5
    assert isinstance(info.value, RapidataConnectionError)
    assert len(proxy.calls("/audiences")) == 2


async def test_call_timeout_bounds_retries(transport: Transport, proxy: FaultProxy) -> None:
    await transport.get_token()
    proxy.delay(30, times=5, path="/audiences")
    started = time.monotonic()
    with pytest.raises(RapidataTimeoutError, match=r"0\.5 s"):
        await list_audiences(transport, timeout=0.5)
    assert time.monotonic() - started < 3


# -- error mapping ------------------------------------------------------------------------


async def test_problem_details_become_typed_error(transport: Transport) -> None:
    with pytest.raises(BadRequestError) as info:
        await transport.request("POST", "/dataset", op_id="dataset_post", json={"name": 5})
    exc = info.value
    assert exc.status_code == 400
    assert isinstance(exc.body, ProblemDetails)
    assert any("name" in field.lower() for field in exc.errors)
    assert exc.trace_id
    text = str(exc)
    assert text.startswith("POST /dataset -> 400 Bad Request")
    assert exc.title in text and exc.trace_id in text
    assert all(f"{f}: {m}" in text for f, msgs in exc.errors.items() for m in msgs)


async def test_not_found_is_typed(transport: Transport) -> None:
    with pytest.raises(NotFoundError) as info:
        await transport.request("GET", "/audience/aud_does_not_exist", op_id="audience_get")
    assert info.value.status_code == 404 and info.value.trace_id


@pytest.mark.parametrize(
    ("status", "body", "headers", "cls", "title", "errors", "trace_id"),
    [
        (502, b"<html>bad gateway</html>", {}, InternalServerError, "Bad Gateway", {}, None),
        (
            400,
            b'{"title":"Invalid","status":"400","errors":{"name":"too long"},"traceId":"t-1"}',
            {},
            BadRequestError,
            "Invalid",
            {"name": ["too long"]},
            "t-1",
        ),
        (403, b'{"message":"quota exceeded"}', {}, PermissionDeniedError, "quota exceeded", {},
         None),
        (409, b'{"error":"already_exists"}', {}, ConflictError, "already_exists", {}, None),
        (422, b'{"title":"No","traceId":"in-body"}', {"x-trace-id": "in-header"},
         UnprocessableEntityError, "No", {}, "in-header"),
        (418, b"", {}, RapidataStatusError, "I'm a Teapot", {}, None),
    ],
)  # fmt: skip
async def test_error_bodies_decoded_leniently(
    transport: Transport,
    proxy: FaultProxy,
    status: int,
    body: bytes,
    headers: dict[str, str],
    cls: type[RapidataStatusError],
    title: str,
    errors: dict[str, list[str]],
    trace_id: str | None,
) -> None:
    proxy.fail(status, path="/audiences", body=body, headers=headers, content_type="text/html")
    with pytest.raises(cls) as info:
        await list_audiences(transport, retry=False)
    exc = info.value
    assert type(exc) is cls
    assert (exc.status_code, exc.title, exc.errors, exc.trace_id) == (
        status,
        title,
        errors,
        trace_id,
    )
    assert f"GET /audiences -> {status}" in str(exc)


async def test_invalid_2xx_body_is_response_validation_error(transport: Transport) -> None:
    with pytest.raises(RapidataResponseValidationError) as info:
        await transport.request(
            "GET", "/audiences", op_id="audiences_get", response_type=CreateDatasetOutput
        )
    assert isinstance(info.value.__cause__, msgspec.ValidationError)
    assert "datasetId" in str(info.value) and info.value.status_code == 200


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (503, InternalServerError),
        (418, RapidataStatusError),
    ],
)
def test_status_error_class(status: int, cls: type[RapidataStatusError]) -> None:
    assert status_error_class(status) is cls
    assert issubclass(cls, RapidataApiError) and issubclass(cls, RapidataError)


def test_status_error_pickles() -> None:
    exc = NotFoundError(
        "gone", method="GET", url="http://h/x/1", status_code=404, trace_id="t",
        errors={"id": ["unknown"]},
    )  # fmt: skip
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is NotFoundError and str(copy) == str(exc)


def test_failed_upload_exception_groups_by_reason() -> None:
    when = datetime(2026, 2, 2, 15, 32, 30, tzinfo=UTC)
    failures = [
        FailedUpload("a.jpg", "One or more required assets failed to upload", "AssetUploadFailed",
                     when),
        FailedUpload("b.jpg", "Invalid datapoint format", "BadRequestError", when, stage="x"),
        FailedUpload("c.jpg", "One or more required assets failed to upload", "AssetUploadFailed",
                     when),
    ]  # fmt: skip

    class Dataset:
        id = "ds_1"

    exc = FailedUploadException([f.item for f in failures], failures, Dataset(), None, None)
    assert exc.failures_by_reason == {
        "One or more required assets failed to upload": ["a.jpg", "c.jpg"],
        "Invalid datapoint format": ["b.jpg"],
    }
    text = str(exc)
    assert text.startswith("3 datapoints failed to upload (dataset ds_1):")
    assert "2 x One or more required assets failed to upload" in text
    assert exc.job_definition is None and exc.order is None
    with pytest.raises(AttributeError):
        failures[0].item = "other"  # type: ignore[misc]


# -- lifecycle ------------------------------------------------------------------------------


async def test_lifecycle_errors_and_shielded_close(backend: Any) -> None:
    t = Transport(settings_for(backend))
    with pytest.raises(RuntimeError, match="not open"):
        await list_audiences(t)
    await t.open()
    with pytest.raises(RuntimeError, match="only once"):
        await t.open()
    session = t._session
    assert session is not None
    with anyio.CancelScope() as scope:
        scope.cancel()
        await t.aclose()  # must finish although the scope is cancelled
    assert session.closed and t.is_closed
    await t.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await list_audiences(t)


async def test_request_argument_checks(transport: Transport) -> None:
    with pytest.raises(ValueError, match="path"):
        await transport.request("GET", "audiences", op_id="x")
    with pytest.raises(ValueError, match="json or data"):
        await transport.request("POST", "/dataset", op_id="x", json={}, data=b"x")


# -- logging and tracing --------------------------------------------------------------------


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def debug_log() -> Iterator[_Collect]:
    handler = _Collect()
    std = logging.getLogger("rapidata_async")
    previous = rapidata_config.logging.level
    rapidata_config.logging.level = "DEBUG"
    std.addHandler(handler)
    try:
        yield handler
    finally:
        std.removeHandler(handler)
        rapidata_config.logging.level = previous


async def test_one_debug_event_per_attempt_without_secrets(
    backend: Any, transport: Transport, proxy: FaultProxy, debug_log: _Collect
) -> None:
    proxy.fail(503, path="/audiences")
    await list_audiences(transport)
    token = await transport.get_token()
    events = [line for line in debug_log.lines if "op_id=audiences_get" in line]
    requests = [line for line in events if line.startswith("http request")]
    assert len(requests) == 2
    assert "status=503" in requests[0] and "attempt=1" in requests[0]
    assert "status=200" in requests[1] and "attempt=2" in requests[1]
    assert all("method=GET" in r and "path=/audiences" in r and "duration_ms=" in r
               for r in requests)  # fmt: skip
    assert any(line.startswith("retrying") for line in events)
    everything = "\n".join(debug_log.lines)
    assert token not in everything and backend.client_secret not in everything


def test_redact_masks_secret_keys_and_credentials_in_text() -> None:
    event = {
        "headers": {"Authorization": "Bearer abc.def", "Accept": "application/json"},
        "client_secret": "s",
        "note": "sent Basic dXNlcjpwYXNz here",
        "items": [{"access_token": "x"}],
    }
    assert redact(event) == {
        "headers": {"Authorization": "***", "Accept": "application/json"},
        "client_secret": "***",
        "note": "sent Basic *** here",
        "items": [{"access_token": "***"}],
    }


@pytest.fixture(scope="module")
def spans() -> Any:
    sdk_trace = pytest.importorskip("opentelemetry.sdk.trace", reason=OTEL_SDK)
    export = pytest.importorskip("opentelemetry.sdk.trace.export", reason=OTEL_SDK)
    memory = pytest.importorskip(
        "opentelemetry.sdk.trace.export.in_memory_span_exporter", reason=OTEL_SDK
    )
    provider = trace.get_tracer_provider()
    if not isinstance(provider, sdk_trace.TracerProvider):
        provider = sdk_trace.TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = memory.InMemorySpanExporter()
    provider.add_span_processor(export.SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()


async def test_span_per_call_and_traceparent(
    transport: Transport, proxy: FaultProxy, spans: Any
) -> None:
    await transport.get_token()
    spans.clear()
    proxy.fail(503, path="/audiences")
    await list_audiences(transport)
    (span,) = [s for s in spans.get_finished_spans() if s.name == "GET /audiences"]
    assert span.attributes["http.request.method"] == "GET"
    assert span.attributes["http.route"] == "/audiences"
    assert span.attributes["rapidata.operation_id"] == "audiences_get"
    assert "error.type" not in span.attributes  # the retried 503 did not fail the call
    assert span.attributes["http.response.status_code"] == 200
    assert span.attributes["http.request.resend_count"] == 1
    for call in proxy.calls("/audiences"):
        _, trace_id, span_id, _ = call.headers["traceparent"].split("-")
        assert trace_id == format(span.context.trace_id, "032x")
        assert span_id == format(span.context.span_id, "016x")


async def test_failed_call_span_has_error_status(
    transport: Transport, proxy: FaultProxy, spans: Any
) -> None:
    spans.clear()
    with pytest.raises(NotFoundError):
        await transport.request(
            "GET", "/audience/aud_does_not_exist", op_id="audience_audience_id_get"
        )
    (span,) = [s for s in spans.get_finished_spans() if s.name == "GET /audience/{audienceId}"]
    assert span.status.status_code == trace.StatusCode.ERROR
    assert span.attributes["http.response.status_code"] == 404
    assert span.attributes["error.type"] == "404"
    assert span.attributes["url.path"] == "/audience/aud_does_not_exist"


async def test_no_traceparent_when_span_not_recording(
    transport: Transport, proxy: FaultProxy
) -> None:
    unsampled = SpanContext(trace_id=1, span_id=1, is_remote=True, trace_flags=TraceFlags(0))
    with trace.use_span(NonRecordingSpan(unsampled)):
        await list_audiences(transport)
    assert "traceparent" not in proxy.calls("/audiences")[-1].headers


# -- credentials ----------------------------------------------------------------------------


async def test_save_credentials_is_0600_atomic_and_keeps_other_environments(
    tmp_path: Any,
) -> None:
    path = tmp_path / "config" / "rapidata" / "credentials.json"
    old_umask = os.umask(0)  # the most permissive umask must still give 0600
    try:
        await save_credentials("rapidata.ai", "id-1", "secret-1", path=path)
        await save_credentials("localhost:8443", "id-2", "secret-2", path=path)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {
        "rapidata.ai": {"client_id": "id-1", "client_secret": "secret-1"},
        "localhost:8443": {"client_id": "id-2", "client_secret": "secret-2"},
    }
    assert sorted(p.name for p in path.parent.iterdir()) == ["credentials.json"]  # no temp left
    assert await load_credentials("localhost:8443", path) == ("id-2", "secret-2")
    assert await load_credentials("other", path) is None


async def test_credentials_precedence(tmp_path: Any) -> None:
    path = tmp_path / "credentials.json"
    await save_credentials("rapidata.ai", "file-id", "file-secret", path=path)
    env = {"RAPIDATA_CLIENT_ID": "env-id", "RAPIDATA_CLIENT_SECRET": "env-secret"}
    assert await resolve_credentials("arg-id", "arg-secret", path=path, environ=env) == (
        "arg-id",
        "arg-secret",
    )
    assert await resolve_credentials(path=path, environ=env) == ("env-id", "env-secret")
    assert await resolve_credentials(path=path, environ={}) == ("file-id", "file-secret")
    with pytest.raises(MissingCredentialsError, match="RAPIDATA_CLIENT_ID"):
        await resolve_credentials(environment="nowhere", path=path, environ={})
    with pytest.raises(ValueError, match="client_secret"):
        await resolve_credentials("arg-id", None, path=path, environ=env)


async def test_credentials_file_formats_tolerated(tmp_path: Any) -> None:
    flat = tmp_path / "flat.json"
    flat.write_text('{"client_id": "f-id", "client_secret": "f-secret"}')
    assert await load_credentials("anything", flat) == ("f-id", "f-secret")
    listed = tmp_path / "listed.json"
    listed.write_text(
        json.dumps(
            {
                "rapidata.ai": [
                    {"client_id": "old", "client_secret": "o", "last_used": "2025-01-01T00:00:00"},
                    {"client_id": "new", "client_secret": "n", "last_used": "2026-01-01T00:00:00"},
                ]
            }
        )
    )
    assert await load_credentials("rapidata.ai", listed) == ("new", "n")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert await load_credentials("rapidata.ai", broken) is None
    with pytest.raises(ValueError, match="not valid JSON"):
        await save_credentials("rapidata.ai", "a", "b", path=broken)


# -- TLS ------------------------------------------------------------------------------------


async def test_tls_with_custom_ca_and_untrusted_certificate(debug_log: _Collect) -> None:
    trustme = pytest.importorskip("trustme", reason="optional extra: dev (trustme)")
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    async with LocalBackend(ssl=server_ctx) as backend:
        assert backend.url.startswith("https://")
        async with Transport(settings_for(backend, ssl=client_ctx)) as t:
            page = await list_audiences(t)
        assert page.total == SEEDED_AUDIENCES
        async with Transport(settings_for(backend, max_retries=3)) as t:  # system CAs only
            with pytest.raises(RapidataConnectionError, match="certificate") as info:
                await list_audiences(t)
    assert "cert_path" in str(info.value)
    token_attempts = [line for line in debug_log.lines if "op_id=connect_token_post" in line]
    assert len([line for line in token_attempts if "error=" in line]) == 1  # not retried


async def test_creations_are_not_repeated_when_the_server_may_have_acted(
    backend: LocalBackend,
) -> None:
    async with FaultProxy(backend.url) as proxy:
        async with Transport(settings_for(backend, proxy.url)) as t:
            proxy.fail(503, path="/audience")
            with pytest.raises(InternalServerError):
                await t.request("POST", "/audience", op_id="audience_post", json={"name": "a"})
            assert len(proxy.calls("/audience")) == 1

            proxy.cut(path="/audience", mid_body=True)  # created upstream, answer lost
            with pytest.raises(RapidataConnectionError):
                await t.request("POST", "/audience", op_id="audience_post", json={"name": "b"})
            assert len(proxy.calls("/audience")) == 2

            proxy.fail(429, path="/audience", retry_after="0")  # refused: safe to repeat
            await t.request("POST", "/audience", op_id="audience_post", json={"name": "c"})
            assert len(proxy.calls("/audience")) == 4
