"""The security headers of every answer: pages, fragments, event streams, media, the API.

``secure`` sets a page's Content-Security-Policy (only the pages' own scripts and styles run;
``frame-ancestors 'none'``: no page may be framed), ``X-Content-Type-Options: nosniff``,
``Referrer-Policy: no-referrer`` and ``Cache-Control: no-store`` on a response before it is
sent. ``security_headers``, a middleware of the whole app, adds what a response still lacks
(the strict ``API_CSP`` for answers that are not pages) to every answer that was not streamed
already (streamed ones call ``secure`` before they start). Needs nothing from the ``web``
extra.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web

# Media may come from the URLs a definition was made with, so images and players may load
# from http(s) hosts; scripts, styles and requests stay on this origin.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: http: data:; "
    "media-src 'self' https: http:; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# An uploaded file opened on its own (an SVG, say) runs nothing.
MEDIA_CSP = (
    "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox; "
    "frame-ancestors 'none'"
)
# JSON and text answers: nothing in them may load or run anything, nor be framed.
API_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"

R = TypeVar("R", bound=web.StreamResponse)


def secure(response: R, csp: str = PAGE_CSP) -> R:
    """Add the security headers every response of the pages carries (before it is sent)."""
    response.headers["Content-Security-Policy"] = csp
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _complete(response: web.StreamResponse) -> None:
    if response.prepared:
        return
    headers = response.headers
    headers.setdefault("Content-Security-Policy", API_CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")


@web.middleware
async def security_headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """The outermost middleware: every answer leaves with the security headers."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # redirects raised by a handler
        _complete(exc)
        raise
    _complete(response)
    return response
