"""The socket end of the local backend: a site whose connections answer HTTP parse errors
(an oversize request line or header, a malformed message) with ProblemDetails.

aiohttp answers those before any middleware runs, with a ``text/plain`` 400. This site's
connection handler words them like every other error of the API::

    431  a header line longer than MAX_FIELD_SIZE, or more than MAX_HEADERS headers
    414  a request line longer than MAX_LINE_SIZE
    400  any other malformed request

and always closes the connection (the stream cannot be trusted after a parse error).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import ssl as ssl_module
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from .._wire._base import encoder
from ._errors import ApiError

MAX_LINE_SIZE = 8190
MAX_FIELD_SIZE = 8190
MAX_HEADERS = 128

log = logging.getLogger("rapidata_async.local")


def _parse_error(exc: BaseException | None, message: str | None) -> ApiError:
    text = message or (exc.message if isinstance(exc, HttpProcessingError) else "")
    error = ApiError(f"The request could not be parsed: {text}", title="Bad Request")
    error.status = 400
    if isinstance(exc, LineTooLong) or "Too many headers" in text:
        line = exc.args[0] if isinstance(exc, LineTooLong) and exc.args else b""
        if isinstance(line, str):
            line = line.encode("utf-8", "replace")
        # aiohttp raises the same error for both; only the request line (its target) starts
        # with '/' or a scheme, or is named "Status line" by the pure-Python parser.
        head = bytes(line[:4]).lower()
        if "status line" in text.lower() or head[:1] == b"/" or head == b"http":
            error = ApiError(
                f"The request line is longer than {MAX_LINE_SIZE} bytes.", title="URI Too Long"
            )
            error.status = 414
        else:
            error = ApiError(
                f"A request header is longer than {MAX_FIELD_SIZE} bytes, or there are more "
                f"than {MAX_HEADERS} headers.",
                title="Request Header Fields Too Large",
            )
            error.status = 431
    return error


class _ProblemRequestHandler(RequestHandler):
    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        # The parent logs the error and refuses when an answer was already started.
        plain = super().handle_error(request, status, exc, message)
        if status == 500:
            return plain
        error = _parse_error(exc, message)
        trace_id = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00"
        response = web.Response(
            body=encoder.encode(error.problem(trace_id)),
            status=error.status,
            content_type="application/problem+json",
            headers={"x-trace-id": trace_id, "X-Content-Type-Options": "nosniff"},
        )
        response.force_close()
        return response


class ProblemSite(web.SockSite):
    """``web.SockSite`` whose connections use ``_ProblemRequestHandler``; ``handler_kwargs``
    are its settings (``access_log`` and the like), the parse limits are this module's."""

    def __init__(
        self,
        runner: web.BaseRunner,
        sock: socket.socket,
        *,
        ssl_context: ssl_module.SSLContext | None = None,
        handler_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(runner, sock, ssl_context=ssl_context)
        self._handler_kwargs = {
            "max_line_size": MAX_LINE_SIZE,
            "max_field_size": MAX_FIELD_SIZE,
            "max_headers": MAX_HEADERS,
            **(handler_kwargs or {}),
        }

    async def start(self) -> None:
        await web.BaseSite.start(self)
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None

        def connection() -> RequestHandler:
            return _ProblemRequestHandler(server, loop=loop, **self._handler_kwargs)

        self._server = await loop.create_server(
            connection, sock=self._sock, ssl=self._ssl_context, backlog=self._backlog
        )
