"""Fetching URL assets (``fetch_urls``): bounded, size- and type-checked, never towards private
addresses unless allowed; failures carry the ``stage`` (and upstream status) the real ingestion
reports::

    fetcher = UrlFetcher(blobs, max_bytes=50 * 1024 * 1024)
    size = await fetcher.fetch("https://example.com/cat.jpg", "cat_1a2b3c4d.jpg")
"""

from __future__ import annotations

import ipaddress
import mimetypes
import socket
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import aiohttp
import anyio
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from .._errors import ApiError, BadRequest
from ..store.blobs import Blobs

CHUNK = 256 * 1024
FETCH_CONCURRENCY = 16
DEFAULT_MAX_URL_BYTES = 50 * 1024 * 1024
MAX_REDIRECTS = 5
MEDIA_TYPES = ("image/", "video/", "audio/", "text/")
GENERIC_TYPES = frozenset({"application/octet-stream", "binary/octet-stream"})


class _BlockedAddress(OSError):
    """A URL's host resolves to an address the fetcher may not contact."""


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries and may be routed to: IPv4-mapped
    (``::ffff:a.b.c.d``), IPv4-compatible (``::a.b.c.d``), NAT64 (``64:ff9b::/96`` and the
    local-use ``64:ff9b:1::/48``), 6to4 (``2002::/16``) and both ends of Teredo."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    packed = int(ip)
    if packed >> 32 == 0 and packed > 1:  # ::a.b.c.d (not :: or ::1, checked as themselves)
        found.append(ipaddress.IPv4Address(packed & 0xFFFFFFFF))
    if any(ip in net for net in _NAT64):
        found.append(ipaddress.IPv4Address(packed & 0xFFFFFFFF))
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    return found


def forbidden_address(address: str) -> bool:
    """Private, loopback, link-local, multicast, reserved or unspecified: not the public
    internet, so a server-side fetch there could reach internal services (SSRF). An IPv6
    address is also forbidden when an IPv4 address it embeds is."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True
    candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        candidates.extend(embedded_ipv4(ip))
    return any(not c.is_global or c.is_multicast for c in candidates)


class _GuardedResolver(AbstractResolver):
    """Resolves through aiohttp's default resolver and refuses forbidden addresses.

    Checking inside the connector (not before the request) means the addresses checked are
    the ones connected to: a second lookup cannot answer differently (DNS rebinding)."""

    def __init__(self, allow_private: bool) -> None:
        self._inner = DefaultResolver()
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        hosts = await self._inner.resolve(host, port, family)
        if not self._allow_private:
            for entry in hosts:
                if forbidden_address(entry["host"]):
                    raise _BlockedAddress(
                        f"'{host}' resolves to {entry['host']}, a private or reserved address"
                    )
        return hosts

    async def close(self) -> None:
        await self._inner.close()


def _fetch_error(
    stage: str, message: str, *, url: str, upstream_http_status: int | None = None
) -> BadRequest:
    return BadRequest(
        f"Fetching '{url}' failed ({stage}): {message}",
        errors={"url": [message]},
        stage=stage,
        upstream_http_status=upstream_http_status,
    )


def acceptable_content_type(content_type: str, url: str) -> bool:
    """Media or text; a generic binary type only when the URL's extension names a media type."""
    if content_type.startswith(MEDIA_TYPES):
        return True
    if content_type in GENERIC_TYPES:
        guessed = mimetypes.guess_type(urlsplit(url).path)[0] or ""
        return guessed.startswith(MEDIA_TYPES)
    return False


class UrlFetcher:
    """Downloads URL assets (``fetch_urls=True``), streaming them into ``blobs``.

    At most ``concurrency`` downloads run at once across all batches and single uploads. A
    failure raises a 400 carrying ``stage`` (``resolve``, ``connect``, ``download`` or
    ``validate``) and, for HTTP errors, ``upstreamHttpStatus``.
    """

    def __init__(
        self,
        blobs: Blobs,
        *,
        max_bytes: int = DEFAULT_MAX_URL_BYTES,
        allow_private: bool = False,
        concurrency: int = FETCH_CONCURRENCY,
        timeout: float = 120.0,
    ) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_url_bytes must be > 0, got {max_bytes}")
        if concurrency <= 0:
            raise ValueError(f"fetch_concurrency must be > 0, got {concurrency}")
        self.blobs = blobs
        self.max_bytes = max_bytes
        self.allow_private = allow_private
        self.concurrency = concurrency
        self.limiter: anyio.CapacityLimiter = anyio.CapacityLimiter(concurrency)
        connector = aiohttp.TCPConnector(
            resolver=_GuardedResolver(allow_private), limit=concurrency
        )
        self.session: aiohttp.ClientSession = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=timeout, sock_connect=15),
            headers={"User-Agent": "rapidata-local-backend (URL ingestion)"},
        )

    async def aclose(self) -> None:
        await self.session.close()

    async def fetch(self, url: str, name: str) -> int:
        """Download ``url`` as asset ``name``; its size in bytes."""
        async with self.limiter:
            return await self._fetch(url, name)

    def _check_target(self, url: URL, original: str) -> None:
        if url.scheme not in ("http", "https") or not url.host:
            raise _fetch_error("validate", f"'{url}' is not an http(s) URL.", url=original)
        if self.allow_private:
            return
        try:
            ipaddress.ip_address(url.host.split("%", 1)[0])
        except ValueError:
            return  # a name: the resolver checks what it resolves to
        # aiohttp skips the resolver for IP literals, so they are checked here.
        if forbidden_address(url.host):
            raise _fetch_error(
                "resolve",
                f"{url.host} is a private or reserved address; fetching it is not allowed.",
                url=original,
            )

    async def _fetch(self, original: str, name: str) -> int:
        try:
            target = URL(original, encoded=False)
        except (ValueError, TypeError) as exc:
            raise _fetch_error("validate", f"not a valid URL: {exc}", url=original) from None
        stage = "connect"
        try:
            for _ in range(MAX_REDIRECTS + 1):
                self._check_target(target, original)
                stage = "connect"
                async with self.session.get(target, allow_redirects=False) as response:
                    stage = "download"
                    if response.status in (301, 302, 303, 307, 308):
                        location = response.headers.get("Location")
                        if not location:
                            raise _fetch_error(
                                "download",
                                f"HTTP {response.status} without a Location header.",
                                url=original,
                                upstream_http_status=response.status,
                            )
                        target = target.join(URL(location))
                        continue
                    return await self._receive(response, original, name)
            raise _fetch_error("download", f"More than {MAX_REDIRECTS} redirects.", url=original)
        except ApiError:
            raise
        except aiohttp.ClientConnectorDNSError as exc:
            reason = (
                str(exc.os_error)
                if isinstance(exc.os_error, _BlockedAddress)
                else (f"cannot resolve host: {exc.os_error}")
            )
            raise _fetch_error("resolve", reason, url=original) from None
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise _fetch_error("connect", f"cannot connect: {exc}", url=original) from None
        except (aiohttp.ClientError, TimeoutError, UnicodeError, ValueError) as exc:
            message = str(exc) or type(exc).__name__
            if isinstance(exc, TimeoutError):
                message = "timed out"
            raise _fetch_error(stage, message, url=original) from None

    async def _receive(self, response: aiohttp.ClientResponse, url: str, name: str) -> int:
        if response.status >= 400:
            raise _fetch_error(
                "download",
                f"the server answered HTTP {response.status}.",
                url=url,
                upstream_http_status=response.status,
            )
        if not acceptable_content_type(response.content_type, str(response.url)):
            raise _fetch_error(
                "validate",
                f"unsupported content type '{response.content_type}' "
                "(expected image, video, audio or text).",
                url=url,
            )
        length = response.content_length
        if length is not None and length > self.max_bytes:
            raise _fetch_error(
                "validate",
                f"{length} bytes exceed the limit of {self.max_bytes} bytes.",
                url=url,
            )
        limit = self.max_bytes

        async def bounded() -> AsyncIterator[bytes]:
            seen = 0
            async for chunk in response.content.iter_chunked(CHUNK):
                seen += len(chunk)
                if seen > limit:
                    raise _fetch_error(
                        "validate", f"the body exceeds the limit of {limit} bytes.", url=url
                    )
                yield chunk

        size = await self.blobs.put(name, bounded())
        if size == 0:
            raise _fetch_error("validate", "the download was empty.", url=url)
        return size
