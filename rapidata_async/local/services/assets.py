"""``/asset``: file uploads (streamed), URL uploads and URL batch uploads.

By default URLs are recorded, not fetched: each one "completes" at once under a file name made
from its basename, which is all a simulated crowd needs. With ``fetch_urls`` the backend
downloads them (into the assets directory of a file DB, else only counting bytes) and reports
failures with ``stage``/``upstreamHttpStatus`` like the real ingestion does.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from urllib.parse import urlsplit

import msgspec
from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from yarl import URL

from ..._wire import asset as wire
from .._context import ctx, tenant
from .._errors import BadRequest, PayloadTooLarge, field_error
from .._http import no_content, read_json, respond
from .._limits import LARGE_JSON_BYTES, MULTIPART_SLACK
from ..store.base import BatchRow
from ..store.seeds import new_id, now_iso
from ._fetch import CHUNK
from ._names import unique_name, url_basename

routes: web.RouteTableDef = web.RouteTableDef()
log: logging.Logger = logging.getLogger("rapidata_async.local")

_URL = re.compile(r"^https?://", re.IGNORECASE)
MAX_FILENAME_CHARS = 1_000

_batch_decoder = msgspec.json.Decoder(wire.CreateBatchUploadInput)


class UploadOut(wire.UploadOutput, omit_defaults=False):
    """``UploadOutput`` with ``warnings``/``wasCompressed`` always written (both required)."""


class BatchItemOut(wire.BatchUploadUrlOutput, omit_defaults=False):
    pass


class BatchResultOut(wire.BatchUploadResultOutput, omit_defaults=False):
    items: list[BatchItemOut]  # type: ignore[assignment]


def check_url(url: str, field: str = "url") -> None:
    if not url:
        raise field_error(field, "A URL is required.")
    if not is_url(url):
        raise field_error(field, f"'{url}' is not an http(s) URL.")


def is_url(url: str) -> bool:
    """An http(s) URL with a host that both URL parsers in play (urllib's and yarl's, which
    the fetcher uses) accept."""
    try:
        return bool(_URL.match(url)) and bool(urlsplit(url).hostname) and bool(URL(url).host)
    except (ValueError, TypeError):  # an unbalanced IPv6 bracket, a backslash in the authority
        return False


def _malformed(exc: Exception) -> BadRequest:
    reason = exc.message if isinstance(exc, HttpProcessingError) else str(exc)
    return field_error("file", f"The multipart body is malformed: {reason}")


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The file exceeds the upload limit of {limit} bytes.",
        errors={"file": [f"At most {limit} bytes."]},
    )


async def _part_chunks(part: BodyPartReader, limit: int) -> AsyncIterator[bytes]:
    size = 0
    while True:
        try:
            chunk = await part.read_chunk(CHUNK)
        except (ValueError, HttpProcessingError) as exc:
            raise _malformed(exc) from None
        if not chunk:
            return
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        yield chunk


async def _next_part(reader: MultipartReader) -> BodyPartReader | MultipartReader | None:
    # A NUL byte or an unparsable line among a part's headers raises aiohttp's InvalidHeader
    # (an HttpProcessingError, not a ValueError).
    try:
        return await reader.next()
    except (ValueError, HttpProcessingError) as exc:
        raise _malformed(exc) from None


def _filename(part: BodyPartReader) -> str:
    try:
        original = part.filename or "file"
    except (ValueError, UnicodeError):  # an undecodable filename*= parameter
        original = "file"
    return original.replace("\0", "")[:MAX_FILENAME_CHARS] or "file"


@routes.post("/asset/file")
async def upload_file(request: web.Request) -> web.Response:
    """Multipart upload of one part named ``file``, streamed: never held in memory whole, and
    a 413 as soon as it passes the backend's ``max_upload_bytes`` (or declares more)."""
    # The raw header, not request.content_type: aiohttp parses that with the email package,
    # which cost more than the rest of the upload handler.
    if not request.headers.get("Content-Type", "").lower().lstrip().startswith("multipart/"):
        raise field_error("file", "Send the file as multipart/form-data in a part named 'file'.")
    context = ctx(request)
    limit = context.max_upload_bytes
    if request.content_length is not None and request.content_length > limit + MULTIPART_SLACK:
        raise _too_large(limit)
    try:
        reader = await request.multipart()
    except (ValueError, HttpProcessingError) as exc:
        raise _malformed(exc) from None
    while (part := await _next_part(reader)) is not None:
        if not isinstance(part, BodyPartReader) or part.name != "file":
            await part.release()
            continue
        original = _filename(part)
        name = unique_name(original)
        size = await context.blobs.put(name, _part_chunks(part, limit))
        if size == 0:
            raise field_error("file", f"The file '{original}' is empty.")
        await context.store.assets.add(
            name, owner=tenant(request), original_name=original, source_url=None, size=size
        )
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
    await context.store.assets.add(
        name, owner=tenant(request), original_name=url_basename(url), source_url=url, size=size
    )
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
    body = await read_json(request, _batch_decoder, max_bytes=LARGE_JSON_BYTES)
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
        new_id(),
        body.correlation_id,
        "Processing" if pending else "Completed",
        now_iso(),
        items,
        owner=tenant(request),
    )
    await context.store.batches.save(batch)
    if pending:
        await context.batches.start(batch.id)
    return respond(wire.CreateBatchUploadOutput(batch_upload_id=batch.id))


def _item_out(item: wire.BatchUploadUrlOutput) -> BatchItemOut:
    return BatchItemOut(**msgspec.structs.asdict(item))


@routes.get("/asset/batch-upload/status")
async def batch_status(request: web.Request) -> web.Response:
    correlation_id = request.query.get("correlationId") or None
    batch_ids = [b for b in request.query.getall("batchUploadIds", []) if b]
    if correlation_id is None and not batch_ids:
        raise field_error("correlationId", "Pass correlationId or batchUploadIds.")
    batches = await ctx(request).store.batches.find(
        correlation_id, batch_ids, owner=tenant(request)
    )
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
    batch = await ctx(request).store.batches.get(
        request.match_info["batchUploadId"], owner=tenant(request)
    )
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
    batch = await context.store.batches.get(
        request.match_info["batchUploadId"], owner=tenant(request)
    )
    if batch.status == "Processing":
        # Stop a run of this process first; its last progress may have landed meanwhile.
        await context.batches.stop(batch.id)
        batch = await context.store.batches.get(batch.id, owner=tenant(request))
        items = [
            wire.BatchUploadUrlOutput(
                url=item.url, status="Failed", error_message="Aborted.", stage="abort"
            )
            if item.status == "Pending"
            else item
            for item in batch.items
        ]
        await context.store.batches.save(replace(batch, status="Aborted", items=items))
    return no_content()
