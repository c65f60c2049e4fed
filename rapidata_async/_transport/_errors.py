"""Turning failed HTTP exchanges into the SDK's exceptions (the only place aiohttp errors are
looked at)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp
import msgspec

from .._exceptions import (
    RapidataApiError,
    RapidataConnectionError,
    RapidataStatusError,
    RapidataTimeoutError,
    status_error_class,
)
from .._wire.common import ProblemDetails, problem_decoder


def problem_from_body(body: bytes) -> ProblemDetails | None:
    """The ProblemDetails in an error body, tolerating odd shapes; None if it is not JSON."""
    if not body.strip():
        return None
    try:
        return problem_decoder.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError):
        pass
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None
    if not isinstance(data, dict):
        return None
    # Some field had an unexpected type (a proxy's or framework's own error JSON): keep what
    # is usable rather than losing the whole body.
    return ProblemDetails(
        type=_text(data.get("type")),
        title=_text(data.get("title")),
        status=_int(data.get("status")),
        detail=_text(data.get("detail")),
        errors=_field_errors(data.get("errors")),
        trace_id=_text(data.get("traceId")),
        message=_text(data.get("message")),
        error=_text(data.get("error")),
        stage=_text(data.get("stage")),
        upstream_http_status=_int(data.get("upstreamHttpStatus")),
    )


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _field_errors(value: Any) -> dict[str, list[str]] | None:
    if isinstance(value, dict):
        return {
            str(k): [str(m) for m in v] if isinstance(v, list) else [str(v)]
            for k, v in value.items()
        }
    if isinstance(value, list):
        return {"request": [str(m) for m in value]}
    return None


def status_error(
    method: str, url: str, status: int, reason: str, headers: Mapping[str, str], body: bytes
) -> RapidataStatusError:
    """The typed exception for an unexpected status, filled from the ProblemDetails body."""
    problem = problem_from_body(body)
    title = None
    if problem is not None:
        title = problem.title or problem.message or problem.error
    title = title or reason or f"HTTP {status}"
    trace_id = headers.get("x-trace-id") or (problem.trace_id if problem else None)
    cls = status_error_class(status)
    return cls(
        title,
        method=method,
        url=url,
        status_code=status,
        body=problem,
        trace_id=trace_id,
        title=title,
        errors=problem.errors if problem is not None else None,
    )


def connection_error(exc: BaseException, method: str, url: str) -> RapidataApiError:
    """The SDK exception for an aiohttp/asyncio failure of one attempt.

    Timeouts and connection failures become ``RapidataTimeoutError`` /
    ``RapidataConnectionError`` (retryable); an invalid URL is a plain ``RapidataApiError``.
    """
    if isinstance(exc, aiohttp.InvalidURL):
        return RapidataApiError(f"invalid URL: {exc}", method=method, url=url)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return RapidataTimeoutError("timed out while connecting", method=method, url=url)
    if isinstance(exc, aiohttp.SocketTimeoutError):
        return RapidataTimeoutError(
            "timed out waiting for data from the server", method=method, url=url
        )
    if isinstance(exc, asyncio.TimeoutError):
        return RapidataTimeoutError("the attempt took too long", method=method, url=url)
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return RapidataConnectionError(
            f"the TLS certificate of {exc.host}:{exc.port} failed verification "
            f"({exc.certificate_error}); pass the CA bundle that signed it (cert_path)",
            method=method,
            url=url,
        )
    if isinstance(exc, aiohttp.ClientConnectorError):
        return RapidataConnectionError(
            f"cannot connect to {exc.host}:{exc.port} ({exc.os_error.strerror or exc.os_error})",
            method=method,
            url=url,
        )
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return RapidataConnectionError(
            "the server closed the connection before answering", method=method, url=url
        )
    if isinstance(exc, aiohttp.ClientPayloadError):
        return RapidataConnectionError(f"the answer was cut off ({exc})", method=method, url=url)
    return RapidataConnectionError(str(exc) or type(exc).__name__, method=method, url=url)
