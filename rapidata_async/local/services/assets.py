"""``/asset``: file uploads (streamed), URL uploads and URL batch uploads.

By default URLs are recorded, not fetched: each one "completes" at once under a file name made
from its basename, which is all a simulated crowd needs. With ``fetch_urls`` the backend
downloads them (into the assets directory of a file DB, else only counting bytes) and reports
failures with ``stage``/``upstreamHttpStatus`` like the real ingestion does.
"""

from __future__ import annotations

import ipaddress
import mimetypes
import os
import re
import secrets
import socket
from collections.abc import AsyncIterator
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import aiohttp
import anyio
import msgspec
from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from ..._wire import asset as wire
from .._errors import ApiError, BadRequest, field_error
from .._http import Context, ctx, no_content, read_json, respond
from .._store import BatchRow, new_id, now_iso

routes = web.RouteTableDef()

CHUNK = 256 * 1024
FETCH_CONCURRENCY = 16
DEFAULT_MAX_URL_BYTES = 50 * 1024 * 1024
MAX_REDIRECTS = 5
# How often a batch being fetched writes its progress, so status polls see it move.
PROGRESS_INTERVAL = 0.25
MEDIA_TYPES = ("image/", "video/", "audio/", "text/")
GENERIC_TYPES = frozenset({"application/octet-stream", "binary/octet-stream"})
_URL = re.compile(r"^https?://", re.IGNORECASE)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

_batch_decoder = msgspec.json.Decoder(wire.CreateBatchUploadInput)


class UploadOut(wire.UploadOutput, omit_defaults=False):
    """``UploadOutput`` with ``warnings``/``wasCompressed`` always written (both required)."""


class BatchItemOut(wire.BatchUploadUrlOutput, omit_defaults=False):
    pass


class BatchResultOut(wire.BatchUploadResultOutput, omit_defaults=False):
    items: list[BatchItemOut]  # type: ignore[assignment]


def unique_name(original: str) -> str:
    """``<stem>_<8 hex><ext>`` from a file name or URL basename, safe for any file system."""
    base = PurePosixPath(original.replace("\\", "/")).name
    stem, ext = os.path.splitext(base)
    stem = _UNSAFE.sub("-", stem).strip("-.")[:100] or "asset"
    ext = _UNSAFE.sub("", ext)[:16]
    return f"{stem}_{secrets.token_hex(4)}{ext}"


def url_basename(url: str) -> str:
    return PurePosixPath(unquote(urlsplit(url).path)).name or "asset"


def check_url(url: str, field: str = "url") -> None:
    if not url:
        raise field_error(field, "A URL is required.")
    if not is_url(url):
        raise field_error(field, f"'{url}' is not an http(s) URL.")


def is_url(url: str) -> bool:
    try:
        return bool(_URL.match(url)) and bool(urlsplit(url).hostname)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return False


class _BlockedAddress(OSError):
    """A URL's host resolves to an address the fetcher may not contact."""


def forbidden_address(address: str) -> bool:
    """Private, loopback, link-local, multicast, reserved or unspecified: not the public
    internet, so a server-side fetch there could reach internal services (SSRF)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


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
    """Downloads URL assets (``fetch_urls=True``), streaming them to disk or just counting.

    At most ``concurrency`` downloads run at once across all batches and single uploads. A
    failure raises a 400 carrying ``stage`` (``resolve``, ``connect``, ``download`` or
    ``validate``) and, for HTTP errors, ``upstreamHttpStatus``.
    """

    def __init__(
        self,
        assets_dir: Path | None,
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
        self.assets_dir = assets_dir
        self.max_bytes = max_bytes
        self.allow_private = allow_private
        self.concurrency = concurrency
        self.limiter = anyio.CapacityLimiter(concurrency)
        connector = aiohttp.TCPConnector(
            resolver=_GuardedResolver(allow_private), limit=concurrency
        )
        self.session = aiohttp.ClientSession(
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
        target = URL(original, encoded=False)
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

        size = await _save(bounded(), self.assets_dir / name if self.assets_dir else None)
        if size == 0:
            raise _fetch_error("validate", "the download was empty.", url=url)
        return size


async def _save(chunks: AsyncIterator[bytes], target: Path | None) -> int:
    """Drain an async iterator of byte chunks into ``target`` (or nowhere); the byte count."""
    size = 0
    if target is None:
        async for chunk in chunks:
            size += len(chunk)
        return size
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        async with await anyio.open_file(target, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                await out.write(chunk)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.Path(target).unlink(missing_ok=True)
        raise
    if size == 0:
        await anyio.Path(target).unlink(missing_ok=True)
    return size


def _malformed(exc: Exception) -> BadRequest:
    return field_error("file", f"The multipart body is malformed: {exc}")


async def _part_chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while True:
        try:
            chunk = await part.read_chunk(CHUNK)
        except ValueError as exc:
            raise _malformed(exc) from None
        if not chunk:
            return
        yield chunk


async def _next_part(reader: MultipartReader) -> BodyPartReader | MultipartReader | None:
    try:
        return await reader.next()
    except ValueError as exc:
        raise _malformed(exc) from None


@routes.post("/asset/file")
async def upload_file(request: web.Request) -> web.Response:
    """Multipart upload of one part named ``file``, streamed: never held in memory whole."""
    # The raw header, not request.content_type: aiohttp parses that with the email package,
    # which cost more than the rest of the upload handler.
    if not request.headers.get("Content-Type", "").lower().lstrip().startswith("multipart/"):
        raise field_error("file", "Send the file as multipart/form-data in a part named 'file'.")
    store = ctx(request).store
    try:
        reader = await request.multipart()
    except ValueError as exc:
        raise _malformed(exc) from None
    while (part := await _next_part(reader)) is not None:
        if not isinstance(part, BodyPartReader) or part.name != "file":
            await part.release()
            continue
        original = part.filename or "file"
        name = unique_name(original)
        target = store.assets_dir / name if store.assets_dir is not None else None
        size = await _save(_part_chunks(part), target)
        if size == 0:
            raise field_error("file", f"The file '{original}' is empty.")
        await store.add_asset(name, original_name=original, source_url=None, size=size)
        return respond(
            UploadOut(
                file_name=name,
                warnings=[],
                was_compressed=False,
                original_size_bytes=size,
                final_size_bytes=size,
            )
        )
    raise field_error("file", "The multipart body has no part named 'file'.")


@routes.post("/asset/url")
async def upload_url(request: web.Request) -> web.Response:
    url = request.query.get("url", "")
    check_url(url)
    context = ctx(request)
    name = unique_name(url_basename(url))
    size = None
    if context.fetcher is not None:
        size = await context.fetcher.fetch(url, name)
    await context.store.add_asset(name, original_name=url_basename(url), source_url=url, size=size)
    return respond(
        UploadOut(
            file_name=name,
            warnings=[],
            was_compressed=False,
            original_size_bytes=size,
            final_size_bytes=size,
        )
    )


@routes.post("/asset/batch-upload")
async def create_batch(request: web.Request) -> web.Response:
    """Record a batch of URLs. Recording only, every item completes at once; fetching, the
    batch stays ``Processing`` while a background task downloads its URLs."""
    body = await read_json(request, _batch_decoder)
    if not body.urls:
        raise field_error("urls", "At least one URL is required.")
    context = ctx(request)
    fetching = context.fetcher is not None
    items: list[wire.BatchUploadUrlOutput] = []
    for url in body.urls:
        if not is_url(url):
            items.append(
                wire.BatchUploadUrlOutput(
                    url=url,
                    status="Failed",
                    error_message=f"'{url}' is not an http(s) URL.",
                    stage="validate",
                )
            )
        elif fetching:
            items.append(wire.BatchUploadUrlOutput(url=url, status="Pending"))
        else:
            items.append(
                wire.BatchUploadUrlOutput(
                    url=url, status="Completed", file_name=unique_name(url_basename(url))
                )
            )
    pending = any(item.status == "Pending" for item in items)
    batch = BatchRow(
        new_id(), body.correlation_id, "Processing" if pending else "Completed", now_iso(), items
    )
    await context.store.save_batch(batch)
    if pending:
        context.tasks.spawn(f"batch:{batch.id}", _fetch_batch, context, batch)
    return respond(wire.CreateBatchUploadOutput(batch_upload_id=batch.id))


async def _fetch_batch(context: Context, batch: BatchRow) -> None:
    """Fetch the pending URLs of ``batch`` (bounded by the fetcher's global limit), writing
    progress every ``PROGRESS_INTERVAL`` and the final state once all are done."""
    fetcher = context.fetcher
    assert fetcher is not None
    items = list(batch.items)
    todo = iter([i for i, item in enumerate(items) if item.status == "Pending"])
    changed = False

    async def worker() -> None:
        nonlocal changed
        for i in todo:
            url = items[i].url
            name = unique_name(url_basename(url))
            try:
                size = await fetcher.fetch(url, name)
            except ApiError as exc:
                items[i] = wire.BatchUploadUrlOutput(
                    url=url,
                    status="Failed",
                    error_message=exc.detail,
                    stage=exc.stage,
                    upstream_http_status=exc.upstream_http_status,
                )
            else:
                await context.store.add_asset(
                    name, original_name=url_basename(url), source_url=url, size=size
                )
                items[i] = wire.BatchUploadUrlOutput(url=url, status="Completed", file_name=name)
            changed = True

    async def report_progress() -> None:
        nonlocal changed
        while True:
            await anyio.sleep(PROGRESS_INTERVAL)
            if changed:
                changed = False
                await context.store.save_batch(
                    BatchRow(batch.id, batch.correlation_id, "Processing", batch.created_at, items)
                )

    pending = sum(item.status == "Pending" for item in items)
    async with anyio.create_task_group() as outer:
        outer.start_soon(report_progress)
        async with anyio.create_task_group() as tg:
            # The fetcher's limiter bounds downloads across batches; the workers only bound
            # how many tasks one batch keeps waiting on it.
            for _ in range(min(fetcher.concurrency, pending)):
                tg.start_soon(worker)
        outer.cancel_scope.cancel()
    # An abort cancels this task before writing "Aborted", so "Processing" here means the
    # batch ran to its end.
    current = await context.store.get_batch(batch.id)
    if current.status == "Processing":
        await context.store.save_batch(
            BatchRow(batch.id, batch.correlation_id, "Completed", batch.created_at, items)
        )


def _item_out(item: wire.BatchUploadUrlOutput) -> BatchItemOut:
    return BatchItemOut(**msgspec.structs.asdict(item))


@routes.get("/asset/batch-upload/status")
async def batch_status(request: web.Request) -> web.Response:
    correlation_id = request.query.get("correlationId") or None
    batch_ids = [b for b in request.query.getall("batchUploadIds", []) if b]
    if correlation_id is None and not batch_ids:
        raise field_error("correlationId", "Pass correlationId or batchUploadIds.")
    batches = await ctx(request).store.find_batches(correlation_id, batch_ids)
    items = [item for batch in batches for item in batch.items]
    if any(batch.status == "Processing" for batch in batches):
        status = "Processing"
    elif batches and all(batch.status == "Aborted" for batch in batches):
        status = "Aborted"
    else:
        status = "Completed"
    return respond(
        wire.BatchUploadStatusOutput(
            status=status,  # type: ignore[arg-type]
            total_count=len(items),
            completed_count=sum(item.status == "Completed" for item in items),
            failed_count=sum(item.status == "Failed" for item in items),
            # Cumulative: every finished batch of the correlation id, each time.
            completed_batches=[b.id for b in batches if b.status != "Processing"],
        )
    )


@routes.get("/asset/batch-upload/{batchUploadId}")
async def batch_result(request: web.Request) -> web.Response:
    batch = await ctx(request).store.get_batch(request.match_info["batchUploadId"])
    return respond(
        BatchResultOut(
            batch_upload_id=batch.id,
            status=batch.status,  # type: ignore[arg-type]
            total_count=len(batch.items),
            completed_count=sum(item.status == "Completed" for item in batch.items),
            failed_count=sum(item.status == "Failed" for item in batch.items),
            items=[_item_out(item) for item in batch.items],
        )
    )


@routes.post("/asset/batch-upload/{batchUploadId}/abort")
async def abort_batch(request: web.Request) -> web.Response:
    context = ctx(request)
    batch = await context.store.get_batch(request.match_info["batchUploadId"])
    if batch.status == "Processing":
        await context.tasks.cancel(f"batch:{batch.id}")
        items = [
            wire.BatchUploadUrlOutput(
                url=item.url, status="Failed", error_message="Aborted.", stage="abort"
            )
            if item.status == "Pending"
            else item
            for item in batch.items
        ]
        await context.store.save_batch(
            BatchRow(batch.id, batch.correlation_id, "Aborted", batch.created_at, items)
        )
    return no_content()
