"""How an asset shows on a page: an image, a video or audio player, text or Markdown.

An uploaded file is served by this backend at ``/media/{name}`` when its bytes are kept (a
file database keeps them; an in-memory one only counts them); an asset uploaded by URL is
shown from that URL. Which element shows it follows from the file name's extension.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import quote, urlsplit

from aiohttp import web

from ..._wire.common import AssetInput, ExistingAssetInput, MultiAssetInput, TextAssetInput
from .._context import ctx
from ..store.blobs import Blobs
from ._render import MEDIA_CSP, secure

_KINDS = {
    "image": {".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".bmp", ".svg"},
    "video": {".mp4", ".webm", ".ogv", ".mov", ".m4v"},
    "audio": {".mp3", ".wav", ".ogg", ".oga", ".m4a", ".flac", ".aac", ".opus"},
}
_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".bmp": "image/bmp",
    ".svg": "image/svg+xml",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".ogv": "video/ogg",
    ".mov": "video/quicktime",
    ".m4v": "video/mp4",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".m4a": "audio/mp4",
    ".flac": "audio/flac",
    ".aac": "audio/aac",
    ".opus": "audio/ogg",
}
CHUNK = 256 * 1024


@dataclass(frozen=True, slots=True)
class Media:
    """One thing a labeler looks at. ``kind``: image | video | audio | text | markdown | file;
    ``src`` where the browser loads it from (None: not available here); ``text`` the text of a
    text asset, else the file name shown as a caption."""

    kind: str
    text: str
    src: str | None = None


def _suffix(name: str) -> str:
    return PurePosixPath(urlsplit(name).path).suffix.lower()


def kind_of(name: str) -> str:
    suffix = _suffix(name)
    return next((kind for kind, suffixes in _KINDS.items() if suffix in suffixes), "file")


def _web_url(url: str | None) -> str | None:
    # Only http(s) sources end up in a src attribute.
    if url and urlsplit(url).scheme in ("http", "https"):
        return url
    return None


def flatten(asset: AssetInput | None) -> list[AssetInput]:
    if asset is None:
        return []
    if isinstance(asset, MultiAssetInput):
        return [leaf for inner in asset.assets for leaf in flatten(inner)]
    return [asset]


class MediaResolver:
    """Turns assets into ``Media``; collect every name first, then ``resolve`` once."""

    def __init__(self, blobs: Blobs) -> None:
        self._blobs = blobs
        self._src: dict[str, str | None] = {}

    async def resolve(self, request: web.Request, assets: Iterable[AssetInput]) -> None:
        """Look up where each uploaded file's bytes are: kept here, or at its source URL."""
        names = sorted(
            {a.name for a in assets if isinstance(a, ExistingAssetInput)} - self._src.keys()
        )
        if not names:
            return
        urls = await ctx(request).store.assets.urls(names)
        for name in names:
            kept = await self._blobs.exists(name)
            self._src[name] = f"/media/{quote(name)}" if kept else _web_url(urls.get(name))

    def media(self, asset: AssetInput, *, markdown: bool = False) -> Media:
        if isinstance(asset, TextAssetInput):
            return Media("markdown" if markdown else "text", asset.text)
        if isinstance(asset, ExistingAssetInput):
            src = self._src.get(asset.name)
            return Media(kind_of(src or asset.name), asset.name, src)
        return Media("text", ", ".join(m.text for m in self.many(asset, markdown=markdown)))

    def many(self, asset: AssetInput | None, *, markdown: bool = False) -> list[Media]:
        return [self.media(leaf, markdown=markdown) for leaf in flatten(asset)]


async def serve_media(request: web.Request) -> web.StreamResponse:
    """``GET /media/{name}``: the bytes of an uploaded file, streamed, media types only."""
    name = request.match_info["name"]
    content_type = _TYPES.get(_suffix(name))
    blobs = ctx(request).blobs
    try:
        found = content_type is not None and await blobs.exists(name)
    except ValueError:  # not a blob name
        found = False
    if not found or content_type is None:
        return secure(web.Response(status=404, text="No such media file."), MEDIA_CSP)
    response = secure(web.StreamResponse(), MEDIA_CSP)
    response.content_type = content_type
    response.headers["Cache-Control"] = "private, max-age=3600"
    await response.prepare(request)
    async with await blobs.open(name) as source:
        while chunk := await source.read(CHUNK):
            await response.write(chunk)
    await response.write_eof()
    return response
