"""``Transport``: one aiohttp session per client, with auth, retries, timeouts and tracing.

::

    settings = TransportSettings(api_url=url, auth_url=url, client_id=cid, client_secret=secret)
    async with Transport(settings) as transport:
        out = await transport.request(
            "POST", "/job/definition", op_id="job_definition_post",
            json=wire.CreateJobDefinitionInput(...),
            response_type=wire.CreateJobDefinitionOutput,
        )

Every call gets a bearer token (renewed shortly before it expires, once for all concurrent
callers), is retried on connection errors, timeouts, 408, 429 and 5xx with exponential backoff
and full jitter (a numeric ``Retry-After`` is honoured up to a cap), and is bounded in time: per
attempt by the connect timeout and the read timeout (the longest silence), a timed-out attempt
repeated once at most, per call by ``timeout``. An unexpected status raises the matching
``RapidataStatusError`` subclass built from the ProblemDetails body; no aiohttp exception
escapes. Each call is one OpenTelemetry CLIENT span named ``{method} {route template}``
(``GET /job/{jobId}``; W3C ``traceparent`` sent when the span is recording) and each attempt one
debug log event.

``transport.with_settings(read_timeout=5)`` is a view of the same transport (pool, tokens)
with other timeouts or retries; closing the view closes nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import inspect
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, partial
from typing import Any, TypeVar, overload
from urllib.parse import urlencode, urlsplit

import aiohttp
import anyio
import msgspec
from multidict import CIMultiDictProxy
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind

from .. import _constants as C
from .._exceptions import (
    RapidataConnectionError,
    RapidataResponseValidationError,
    RapidataTimeoutError,
)
from .._logging import debug_enabled, is_secret_key, logger
from ._auth import Token, TokenCache, parse_token_answer, token_request
from ._errors import connection_error, status_error
from ._routes import span_name
from ._settings import TransportSettings

T = TypeVar("T")

ParamValue = str | int | float | bool | None | Sequence[str | int | float | bool]
Params = Mapping[str, ParamValue] | Sequence[tuple[str, ParamValue]]
# A zero-argument callable returning an aiohttp body, or an awaitable of one.
BodyFactory = Callable[[], Any]

RETRY_STATUSES = frozenset({408, 429})
# Methods whose repetition cannot create anything twice.
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
"""Besides every 5xx."""

_tracer = trace.get_tracer(C.TRACER_NAME, C.SDK_VERSION)
_json_encoder = msgspec.json.Encoder()


@cache
def _decoder(response_type: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(response_type)


class _State(enum.Enum):
    UNOPENED = "unopened"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class _Answer:
    """The final HTTP answer of a call, read in full."""

    status: int
    reason: str
    headers: CIMultiDictProxy[str]
    body: bytes
    token: str | None
    """The access token the request carried (to invalidate it on a 401)."""


class Transport:
    """The HTTP layer every API call goes through. See the module docstring."""

    def __init__(self, settings: TransportSettings) -> None:
        self.settings = settings
        self._state = _State.UNOPENED
        self._session: aiohttp.ClientSession | None = None
        self._root = self
        """The transport owning the pool and the state (``self`` unless a view)."""
        self._tokens = TokenCache(settings, self._fetch_token)
        # No total per attempt: an upload may take long while bytes flow; silence is what
        # the read timeout catches, and a call-level ``timeout`` bounds the whole call.
        self._attempt_timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=settings.connect_timeout,
            sock_read=settings.read_timeout,
        )

    def with_settings(self, **changes: Any) -> Transport:
        """A view with some settings changed (timeouts, retries, backoff) sharing this
        transport's connection pool, token cache and lifecycle."""
        forbidden = {"api_url", "auth_url", "client_id", "client_secret", "token", "ssl"}
        if forbidden & changes.keys():
            raise ValueError(f"a view cannot change {sorted(forbidden & changes.keys())}")
        view = Transport(dataclasses.replace(self.settings, **changes))
        view._root = self._root
        view._tokens = self._tokens
        return view

    def __repr__(self) -> str:
        return f"Transport(api_url={self.settings.api_url!r}, state={self._root._state.value})"

    # -- lifecycle ------------------------------------------------------------------------
    async def open(self) -> None:
        """Create the connection pool. A transport is opened once and closed once."""
        if self._root is not self:
            raise RuntimeError("a view of a Transport is opened with the transport it shares")
        if self._state is not _State.UNOPENED:
            raise RuntimeError(f"a Transport can be opened only once (it is {self._state.value})")
        connector = aiohttp.TCPConnector(
            limit=self.settings.max_connections,
            ssl=self.settings.ssl if self.settings.ssl is not None else True,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._attempt_timeout,
            cookie_jar=aiohttp.DummyCookieJar(),  # the API is stateless; keep no cookies
        )
        self._state = _State.OPEN

    async def aclose(self) -> None:
        """Close the pool; safe to call twice, and completes even when cancelled. Closing a
        view does nothing: the pool belongs to the transport it came from."""
        if self._root is not self:
            return
        session, self._session = self._session, None
        self._state = _State.CLOSED
        if session is not None:
            with anyio.CancelScope(shield=True):
                await session.close()

    async def __aenter__(self) -> Transport:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def is_closed(self) -> bool:
        return self._root._state is _State.CLOSED

    @property
    def token_fetch_count(self) -> int:
        """Token requests made so far."""
        return self._tokens.fetch_count

    def _open_session(self) -> aiohttp.ClientSession:
        root = self._root
        if root._session is None:
            if root._state is _State.CLOSED:
                raise RuntimeError("the Transport is closed")
            raise RuntimeError(
                "the Transport is not open: use `async with transport:` or `await transport.open()`"
            )
        return root._session

    # -- auth -----------------------------------------------------------------------------
    async def get_token(self) -> str:
        """The current access token, first renewed when it expires within 60 s."""
        return await self._tokens.get()

    async def _fetch_token(self) -> Token:
        url = self.settings.token_url
        headers, body = token_request(self.settings)
        with self._span("connect_token_post", "POST", url, None) as span:
            answer = await self._send(
                "POST",
                url,
                op_id="connect_token_post",
                params=None,
                headers=headers,
                body=_constant(body),
                authenticate=False,
                retry=True,
            )
            _record_status(span, answer.status, (200,))
            return parse_token_answer(
                answer.status, answer.reason, answer.headers, answer.body, url=url, now=time.time()
            )

    # -- requests -------------------------------------------------------------------------
    @overload
    async def request(
        self,
        method: str,
        path: str,
        *,
        op_id: str,
        json: Any = None,
        params: Params | None = None,
        data: bytes | BodyFactory | None = None,
        response_type: type[T],
        expected: Sequence[int] = (200, 201, 204),
        retry: bool | int = True,
        idempotent: bool | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - part of the call contract
    ) -> T: ...
    @overload
    async def request(
        self,
        method: str,
        path: str,
        *,
        op_id: str,
        json: Any = None,
        params: Params | None = None,
        data: bytes | BodyFactory | None = None,
        response_type: None = None,
        expected: Sequence[int] = (200, 201, 204),
        retry: bool | int = True,
        idempotent: bool | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - part of the call contract
    ) -> bytes: ...
    @overload
    async def request(
        self,
        method: str,
        path: str,
        *,
        op_id: str,
        json: Any = None,
        params: Params | None = None,
        data: bytes | BodyFactory | None = None,
        response_type: Any,
        expected: Sequence[int] = (200, 201, 204),
        retry: bool | int = True,
        idempotent: bool | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - part of the call contract
    ) -> Any: ...
    async def request(
        self,
        method: str,
        path: str,
        *,
        op_id: str,
        json: Any = None,
        params: Params | None = None,
        data: bytes | BodyFactory | None = None,
        response_type: Any = None,
        expected: Sequence[int] = (200, 201, 204),
        retry: bool | int = True,
        idempotent: bool | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - part of the call contract
    ) -> Any:
        """Call ``{api_url}{path}`` and return the decoded answer.

        ``json`` (a wire struct or plain data) is sent as the JSON body; ``data`` is raw bytes
        or a zero-argument factory of an aiohttp body (e.g. ``FormData``), called once per
        attempt because a body can be sent only once. ``params`` is a mapping or a list of
        pairs; list values repeat the key, booleans are ``true``/``false``, None is left out.
        With ``response_type`` the body is decoded into it (``None`` for a 204); without, the
        raw bytes are returned. A status outside ``expected`` raises the matching
        ``RapidataStatusError``; connection errors, timeouts, 408, 429 and 5xx are retried
        first unless ``retry=False`` (an int sets this call's retry count). A call that is not
        ``idempotent`` (default: POST and PATCH) is repeated only when the server cannot have
        acted on it (no connection, 408, 429), so a lost answer never creates a resource
        twice. ``timeout`` bounds the whole call, retries included (``RapidataTimeoutError``).
        """
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/', got {path!r}")
        if json is not None and data is not None:
            raise ValueError("pass either json or data, not both")
        url = self.settings.api_url + path
        self._open_session()
        headers = {
            "Accept": "application/json",
            "X-Client": C.X_CLIENT,
            "User-Agent": self.settings.user_agent,
        }
        body: BodyFactory | None = None
        if json is not None:
            headers["Content-Type"] = "application/json"
            body = _constant(_json_encoder.encode(json))
        elif isinstance(data, (bytes, bytearray, memoryview)):
            body = _constant(bytes(data))
        elif data is not None:
            body = data

        query = _query(params)
        send = partial(
            self._send,
            method,
            url,
            op_id=op_id,
            params=query,
            headers=headers,
            body=body,
            authenticate=True,
            retry=retry,
            idempotent=method.upper() in _IDEMPOTENT if idempotent is None else idempotent,
            call_timeout=timeout,
        )
        with self._span(op_id, method, url, query) as span:
            try:
                with anyio.fail_after(timeout) if timeout is not None else _no_deadline():
                    answer = await send()
                    if answer.status == 401 and answer.token and self._tokens.can_refresh:
                        # The server no longer accepts the cached token (revoked, or its
                        # clock disagrees with ours): renew once and repeat the call.
                        self._tokens.invalidate(answer.token)
                        answer = await send()
            except TimeoutError as exc:
                if timeout is None:
                    raise  # not our deadline; aiohttp's own timeouts are mapped in _send
                raise RapidataTimeoutError(
                    f"no answer within the call's timeout of {timeout:g} s",
                    method=method,
                    url=url,
                ) from exc
            _record_status(span, answer.status, expected)
            if answer.status not in expected:
                raise status_error(
                    method, url, answer.status, answer.reason, answer.headers, answer.body
                )
            if response_type is None:
                return answer.body
            if answer.status == 204:
                return None
            try:
                return _decoder(response_type).decode(answer.body)
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                name = getattr(response_type, "__name__", repr(response_type))
                raise RapidataResponseValidationError(
                    f"the {answer.status} answer is not a valid {name}: {exc}",
                    method=method,
                    url=url,
                    status_code=answer.status,
                ) from exc

    async def _send(
        self,
        method: str,
        url: str,
        *,
        op_id: str,
        params: list[tuple[str, str]] | None,
        headers: dict[str, str],
        body: BodyFactory | None,
        authenticate: bool,
        retry: bool | int,
        idempotent: bool = True,
        call_timeout: float | None = None,
    ) -> _Answer:
        """Send with retries; return the last answer (any status) or raise the mapped
        connection error of the last attempt."""
        session = self._open_session()
        attempt_timeout = self._attempt_timeout
        if call_timeout is not None and call_timeout > self.settings.read_timeout:
            # The caller allowed this call longer (a large download the server prepares
            # before its first byte): its deadline, not the read timeout, bounds the silence.
            attempt_timeout = aiohttp.ClientTimeout(
                total=None, sock_connect=self.settings.connect_timeout, sock_read=call_timeout
            )
        path = urlsplit(url).path
        timeouts = 0
        # True: the client's retry budget; an int: this call's own (upload maxRetries).
        retries = self.settings.max_retries if retry is True else int(retry)
        attempt = 0
        while True:
            attempt += 1
            token = await self._tokens.get() if authenticate else None
            attempt_headers = dict(headers)
            if token is not None:
                attempt_headers["Authorization"] = f"Bearer {token}"
            if trace.get_current_span().is_recording():
                propagate.inject(attempt_headers)
            started = time.perf_counter()
            try:
                async with session.request(
                    method,
                    url,
                    params=params,
                    data=await _materialize(body),
                    headers=attempt_headers,
                    timeout=attempt_timeout,
                ) as response:
                    answer = _Answer(
                        response.status,
                        response.reason or "",
                        response.headers,
                        await response.read(),
                        token,
                    )
            except (TimeoutError, aiohttp.ClientError) as exc:
                error = connection_error(exc, method, url)
                _log_attempt(op_id, method, path, started, attempt, error=error.message)
                # A certificate that fails verification will fail again: don't wait for it.
                can_retry = isinstance(error, RapidataConnectionError) and not isinstance(
                    exc, aiohttp.ClientConnectorCertificateError
                )
                if isinstance(error, RapidataTimeoutError):
                    # A server that stayed silent twice is down, not flaky: surface it now
                    # rather than after every retry's full timeout.
                    timeouts += 1
                    can_retry = can_retry and timeouts <= C.TIMEOUT_RETRIES
                if not idempotent:
                    # Only a failure to connect proves the request never reached the server.
                    can_retry = can_retry and isinstance(
                        exc, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
                    )
                if not (can_retry and attempt <= retries):
                    raise error from exc
                delay = self._backoff(attempt, None)
                reason = error.message
            else:
                _log_attempt(op_id, method, path, started, attempt, status=answer.status)
                retryable = answer.status in RETRY_STATUSES or (idempotent and answer.status >= 500)
                if not (retryable and attempt <= retries):
                    if attempt > 1:
                        trace.get_current_span().set_attribute(
                            "http.request.resend_count", attempt - 1
                        )
                    return answer
                delay = self._backoff(attempt, answer.headers.get("Retry-After"))
                reason = f"status {answer.status}"
            logger.info(
                "retrying", op_id=op_id, reason=reason, delay_s=round(delay, 3), attempt=attempt
            )
            await anyio.sleep(delay)

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        """Seconds before the next attempt: ``Retry-After`` (capped) when the server sent a
        number, else full jitter over ``base * 2**(attempt-1)`` capped at ``backoff_cap``."""
        seconds = _parse_retry_after(retry_after)
        if seconds is not None:
            return min(seconds, self.settings.retry_after_cap)
        ceiling = min(self.settings.backoff_cap, self.settings.backoff_base * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)

    @contextlib.contextmanager
    def _span(
        self, op_id: str, method: str, url: str, query: list[tuple[str, str]] | None
    ) -> Iterator[Span]:
        name = span_name(method, op_id)
        with _tracer.start_as_current_span(
            name, kind=SpanKind.CLIENT, record_exception=True, set_status_on_exception=True
        ) as span:
            # Without an SDK tracer provider the span records nothing: skip the attributes,
            # this runs once per request on the upload hot path.
            if span.is_recording():
                parts = urlsplit(url)
                attributes: dict[str, Any] = {
                    "http.request.method": method.upper(),
                    "url.full": _full_url(url, query),
                    "url.path": parts.path,
                    "url.scheme": parts.scheme,
                    "server.address": parts.hostname or "",
                    "server.port": parts.port or (443 if parts.scheme == "https" else 80),
                    "rapidata.operation_id": op_id,
                }
                if " " in name:
                    attributes["http.route"] = name.split(" ", 1)[1]
                span.set_attributes(attributes)
            try:
                yield span
            except BaseException as exc:
                if span.is_recording() and not isinstance(exc, anyio.get_cancelled_exc_class()):
                    span.set_attribute("error.type", _error_type(exc))
                raise


def _record_status(span: Span, status: int, expected: Sequence[int]) -> None:
    if span.is_recording():
        span.set_attribute("http.response.status_code", status)
        if status not in expected:
            span.set_attribute("error.type", str(status))


def _error_type(exc: BaseException) -> str:
    """``error.type`` of a failed call: the status code for an HTTP error answer, else the
    exception's class (OpenTelemetry's HTTP conventions)."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return str(status)
    return f"{type(exc).__module__.split('.')[0]}.{type(exc).__qualname__}"


def _full_url(url: str, query: list[tuple[str, str]] | None) -> str:
    """The URL with its query string, for ``url.full``: user info dropped, the values of
    secret-looking parameters masked."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    full = f"{parts.scheme}://{netloc}{parts.path}"
    if query:
        pairs = [(k, "REDACTED" if is_secret_key(k) else v) for k, v in query]
        full += "?" + urlencode(pairs)
    return full


def _log_attempt(
    op_id: str,
    method: str,
    path: str,
    started: float,
    attempt: int,
    *,
    status: int | None = None,
    error: str | None = None,
) -> None:
    if not debug_enabled():
        return
    # Never headers or bodies: they carry tokens and user data.
    outcome: dict[str, Any] = {"status": status} if error is None else {"error": error}
    logger.debug(
        "http request",
        op_id=op_id,
        method=method,
        path=path,
        **outcome,
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
        attempt=attempt,
    )


async def _materialize(body: BodyFactory | None) -> Any:
    """The body of one attempt: factories may be plain or async (to open files off-loop)."""
    if body is None:
        return None
    data = body()
    return await data if inspect.isawaitable(data) else data


def _constant(body: bytes) -> BodyFactory:
    return lambda: body


@contextlib.contextmanager
def _no_deadline() -> Iterator[None]:
    yield


def _parse_retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff
    return seconds if 0 <= seconds < float("inf") else None


def _query(params: Params | None) -> list[tuple[str, str]] | None:
    if params is None:
        return None
    items = params.items() if isinstance(params, Mapping) else params
    query: list[tuple[str, str]] = []
    for key, value in items:
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            query.extend((key, _param_text(v)) for v in value)
        else:
            query.append((key, _param_text(value)))
    return query


def _param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
