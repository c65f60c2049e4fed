"""Rendering for the pages: the Jinja2 environment, Markdown, static files, security headers.

Every response of this room goes through ``secure`` (``_headers``: pages, fragments, event
streams, media, static files), so each one carries a Content-Security-Policy that only lets
the pages' own scripts and styles run, ``X-Content-Type-Options: nosniff`` and a
``Referrer-Policy``. Text a user uploaded is autoescaped; Markdown is rendered by
markdown-it-py (raw HTML off) and the result sanitized by nh3, so neither a ``<script>`` nor a
``javascript:`` link survives.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import nh3
from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

from ._headers import MEDIA_CSP, PAGE_CSP, secure

__all__ = ["MEDIA_CSP", "PAGE_CSP", "markdown", "not_found", "page", "render", "secure"]

# -- Markdown ----------------------------------------------------------------------------------
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_markdown.enable("table").enable("strikethrough")
_TAGS = {
    "p", "br", "hr", "em", "strong", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}}


def markdown(text: str) -> Markup:
    """``text`` as sanitized HTML: CommonMark (tables, strikethrough) without raw HTML, then
    nh3 keeps only the tags above and http(s)/mailto links."""
    html = _markdown.render(text)
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)  # sanitized by nh3 just above


# -- templates ---------------------------------------------------------------------------------
_env = Environment(
    loader=PackageLoader("rapidata_async.local.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["markdown"] = markdown


def render(template: str, **values: Any) -> str:
    return _env.get_template(template).render(**values)


def page(template: str, *, status: int = 200, **values: Any) -> web.Response:
    """A whole page (``template`` extends ``base.html``) with the security headers."""
    response = web.Response(
        text=render(template, **values), status=status, content_type="text/html"
    )
    secure(response)
    return response


def not_found(what: str, detail: str) -> web.Response:
    return page("not_found.html", status=404, title=f"{what} not found", detail=detail)


# -- static files ------------------------------------------------------------------------------
_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}


def _load_static() -> dict[str, tuple[bytes, str]]:
    # Read once at import: a handful of small files, served from memory.
    folder = resources.files("rapidata_async.local.web") / "static"
    out: dict[str, tuple[bytes, str]] = {}
    for entry in folder.iterdir():
        suffix = "." + entry.name.rpartition(".")[2]
        if suffix in _TYPES:
            out[entry.name] = (entry.read_bytes(), _TYPES[suffix])
    return out


STATIC = _load_static()


def static_file(name: str) -> web.Response:
    found = STATIC.get(name)
    if found is None:
        return secure(web.Response(status=404, text="Not found."))
    body, content_type = found
    response = web.Response(body=body, content_type=content_type)
    response.headers["Cache-Control"] = "public, max-age=300"
    secure(response)
    return response
