"""``/asset``: file uploads (streamed), URL uploads and URL batch uploads.

By default URLs are recorded, not fetched: each one "completes" at once under a file name made
from its basename, which is all a simulated crowd needs. With ``fetch_urls`` the backend
downloads them (into the assets directory of a file DB, else only counting bytes) and reports
failures with ``stage``/``upstreamHttpStatus`` like the real ingestion does.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import aiohttp
import anyio
import msgspec
from aiohttp import BodyPartReader, MultipartReader, web

from ..._wire import asset as wire
from .._errors import ApiError, BadRequest, field_error
from .._http import Context, ctx, no_content, read_json, respond
from .._store import BatchRow, new_id, now_iso

routes = web.RouteTableDef()

CHUNK = 256 * 1024
FETCH_CONCURRENCY = 16
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


class UrlFetcher:
    """Downloads URL assets (``fetch_urls=True``), streaming them to disk or just counting."""

    def __init__(self, session: aiohttp.ClientSession, assets_dir: Path | None) -> None:
        self.session = session
        self.assets_dir = assets_dir

    async def fetch(self, url: str, name: str) -> int:
        """Download ``url`` as asset ``name``; its size. Raises a 400 carrying ``stage`` and
        ``upstreamHttpStatus`` when the download fails."""
        try:
            async with self.session.get(url) as response:
                if response.status >= 400:
                    raise BadRequest(
                        f"Downloading '{url}' failed with HTTP {response.status}.",
                        errors={"url": [f"The server answered HTTP {response.status}."]},
                        stage="Download",
                        upstream_http_status=response.status,
                    )
                chunks = response.content.iter_chunked(CHUNK)
                size = await _save(chunks, self.assets_dir / name if self.assets_dir else None)
        except (aiohttp.ClientError, TimeoutError, UnicodeError, ValueError) as exc:
            raise BadRequest(
                f"Downloading '{url}' failed: {exc}",
                errors={"url": [f"Could not download: {exc}"]},
                stage="Download",
            ) from None
        if size == 0:
            raise BadRequest(
                f"'{url}' is empty.",
                errors={"url": ["The download was empty."]},
                stage="Validation",
            )
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
    if not request.content_type.startswith("multipart/"):
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
        return respond(UploadOut(file_name=name, original_size_bytes=size, final_size_bytes=size))
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
    return respond(UploadOut(file_name=name, original_size_bytes=size, final_size_bytes=size))


@routes.post("/asset/batch-upload")
async def create_batch(request: web.Request) -> web.Response:
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
                    stage="Validation",
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
    fetcher = context.fetcher
    assert fetcher is not None
    limiter = anyio.CapacityLimiter(FETCH_CONCURRENCY)
    items = list(batch.items)

    async def one(i: int) -> None:
        item = items[i]
        name = unique_name(url_basename(item.url))
        async with limiter:
            try:
                await fetcher.fetch(item.url, name)
            except ApiError as exc:
                items[i] = wire.BatchUploadUrlOutput(
                    url=item.url,
                    status="Failed",
                    error_message=exc.detail,
                    stage=exc.stage,
                    upstream_http_status=exc.upstream_http_status,
                )
                return
        items[i] = wire.BatchUploadUrlOutput(url=item.url, status="Completed", file_name=name)

    async with anyio.create_task_group() as tg:
        for i, item in enumerate(items):
            if item.status == "Pending":
                tg.start_soon(one, i)
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
                url=item.url, status="Failed", error_message="Aborted.", stage="Aborted"
            )
            if item.status == "Pending"
            else item
            for item in batch.items
        ]
        await context.store.save_batch(
            BatchRow(batch.id, batch.correlation_id, "Aborted", batch.created_at, items)
        )
    return no_content()
