"""Asset uploads: local files streamed as multipart, URLs through the batch upload endpoints.

Each asset is uploaded once per run (single flight); its server-side ``fileName`` is what the
datapoints reference afterwards.
"""

from __future__ import annotations

import mimetypes
import os
import uuid
from collections.abc import Iterable
from typing import Any

import aiohttp
import anyio

from .. import _constants as C
from .._config import rapidata_config
from .._context import TRANSIENT_ERRORS, ClientContext
from .._datapoint import has_foreign_scheme, is_url
from .._exceptions import RapidataError
from .._transport import Transport
from .._wire import asset as wire
from ._cache import UnreadableFile
from ._flight import SingleFlight, Slot

# Files up to this size are read in one go (memory: at most maxWorkers of them at a time);
# larger ones are streamed from disk in chunks, never held whole.
SMALL_FILE = 1024 * 1024


class AssetUploadError(Exception):
    """One asset could not be uploaded; the message says why, ``stage`` where."""

    def __init__(
        self,
        message: str,
        *,
        stage: str | None = None,
        trace_id: str | None = None,
        reason: str | None = None,
    ):
        super().__init__(message)
        self.stage = stage
        self.trace_id = trace_id
        self.reason = reason or message
        """Why, without naming the asset: what failures are grouped by."""


class AssetUploader:
    """Uploads the assets of one run. Safe to share between concurrent datapoint workers."""

    def __init__(self, ctx: ClientContext, limiter: anyio.CapacityLimiter) -> None:
        self._transport: Transport = ctx.transport
        self._ctx = ctx
        self._limiter = limiter
        self._cache = ctx.asset_cache
        self._files: SingleFlight[str] = SingleFlight()
        self._urls: SingleFlight[str] = SingleFlight()
        self.files_uploaded = 0
        self.files_cached = 0
        # path -> cache key of files answered from the cache in this run, and the paths whose
        # cached name the server rejected (re-uploaded once, never again in this run).
        self._from_cache: dict[str, str] = {}
        self._refreshed: set[str] = set()

    # -- single assets ----------------------------------------------------------------------
    async def resolve(self, asset: str) -> str:
        """The uploaded ``fileName`` of an asset (URL or local path), uploading it if needed."""
        if is_url(asset):
            cached = self._cache.urls.get(asset)
            if cached is not None:
                return cached
            slot, owner = self._urls.get(asset)
            if owner:  # not pre-registered by a batch: upload it on its own
                try:
                    slot.set(await self._upload_url(asset))
                except Exception as exc:
                    slot.fail(exc)
            return await slot.wait()
        if has_foreign_scheme(asset):
            raise AssetUploadError(
                f"unsupported URL scheme: {asset!r}",
                stage="validate",
                reason="unsupported URL scheme",
            )
        return await self._files.run(_file_key(asset), lambda: self._upload_file(asset))

    async def forget_cached(self, assets: Iterable[str]) -> bool:
        """Drop cached names of ``assets`` the server may no longer know; True if any was.

        A backend that lost its assets (a fresh local database, say) rejects the names a
        previous run cached; the caller then re-creates the datapoint, which uploads them anew.
        """
        stale = [a for a in assets if _file_key(a) in self._from_cache]
        for asset in stale:
            path = _file_key(asset)
            if path in self._refreshed:
                continue
            self._refreshed.add(path)
            await self._cache.forget_file(self._from_cache.pop(path))
            self._files.forget(path)
        return bool(stale)

    async def _upload_url(self, url: str) -> str:
        try:
            async with self._limiter:
                out = await self._transport.request(
                    "POST",
                    "/asset/url",
                    op_id="asset_url_post",
                    params={"url": url},
                    response_type=wire.UploadOutput,
                    retry=rapidata_config.upload.maxRetries,
                    idempotent=True,
                )
        except RapidataError as exc:
            raise _as_upload_error(exc) from exc
        self._cache.urls[url] = out.file_name
        return out.file_name

    async def _upload_file(self, path: str) -> str:
        try:
            key, cached, content = await self._cache.lookup_file(path, read_up_to=SMALL_FILE)
        except UnreadableFile as exc:
            raise AssetUploadError(str(exc), stage="read", reason=exc.reason) from None
        if cached is not None and path not in self._refreshed:
            self.files_cached += 1
            self._from_cache[_file_key(path)] = key
            return cached
        name = os.path.basename(path)
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"

        async def body() -> aiohttp.FormData:
            form = aiohttp.FormData()
            if content is not None:  # small: read on the lookup's trip, reused by retries
                form.add_field("file", content, filename=name, content_type=content_type)
                return form
            # Large: aiohttp streams the open file in chunks from its executor and closes it
            # when sent, so it is reopened for each attempt; the open happens off the loop.
            file = await anyio.to_thread.run_sync(open, path, "rb")
            form.add_field("file", file, filename=name, content_type=content_type)
            return form

        try:
            async with self._limiter:
                out = await self._transport.request(
                    "POST",
                    "/asset/file",
                    op_id="asset_file_post",
                    data=body,
                    response_type=wire.UploadOutput,
                    retry=rapidata_config.upload.maxRetries,
                    idempotent=True,  # a repeat only leaves an unused copy of the asset
                )
        except RapidataError as exc:
            raise _as_upload_error(exc) from exc
        self.files_uploaded += 1
        await self._cache.store_file(key, out.file_name)
        return out.file_name

    # -- URL batches ------------------------------------------------------------------------
    def claim_urls(self, urls: Iterable[str]) -> list[tuple[str, Slot[str]]]:
        """Register URLs for a batch run, before any worker asks for them (no I/O)."""
        pending: list[tuple[str, Slot[str]]] = []
        for url in urls:
            if url in self._cache.urls:
                continue
            slot, owner = self._urls.get(url)
            if owner:
                pending.append((url, slot))
        return pending

    async def upload_url_batches(self, pending: list[tuple[str, Slot[str]]]) -> None:
        """Upload claimed URLs through ``POST /asset/batch-upload`` in chunks of ``batchSize``.

        One correlation id per run; ``GET /asset/batch-upload/status`` is polled every
        ``batchPollInterval`` and each finished batch is fetched once. Every URL's slot is
        resolved (fileName or error) before this returns; batches not yet processed are aborted
        if the run is cancelled.
        """
        if not pending:
            return
        size = rapidata_config.upload.batchSize
        chunks = [pending[i : i + size] for i in range(0, len(pending), size)]
        correlation_id = str(uuid.uuid4())
        submitted: dict[str, list[tuple[str, Slot[str]]]] = {}
        submission_done = anyio.Event()
        first_submitted = anyio.Event()

        async def submit() -> None:
            try:
                for chunk in chunks:
                    body = wire.CreateBatchUploadInput(
                        urls=[u for u, _ in chunk], correlation_id=correlation_id
                    )
                    try:
                        out = await self._transport.request(
                            "POST",
                            "/asset/batch-upload",
                            op_id="asset_batch_upload_post",
                            json=body,
                            response_type=wire.CreateBatchUploadOutput,
                            # a repeated batch is only fetched twice; its results are the same
                            idempotent=True,
                        )
                    except RapidataError as exc:
                        err = AssetUploadError(
                            f"batch submission failed: {exc}", stage="batch-submit"
                        )
                        for _, slot in chunk:
                            slot.fail(err)
                        continue
                    submitted[out.batch_upload_id] = chunk
                    first_submitted.set()
            finally:
                submission_done.set()
                first_submitted.set()

        async def collect() -> None:
            processed: set[str] = set()
            interval = rapidata_config.upload.batchPollInterval
            await first_submitted.wait()
            progress, progressed_at = -1, anyio.current_time()
            while True:
                finished = submission_done.is_set()
                if submitted:
                    try:
                        status = await self._transport.request(
                            "GET",
                            "/asset/batch-upload/status",
                            op_id="asset_batch_upload_status_get",
                            params={"correlationId": correlation_id},
                            response_type=wire.BatchUploadStatusOutput,
                        )
                    except RapidataError:
                        status = None  # a missed poll; the stall deadline still applies
                    if status is not None:
                        if status.completed_count + status.failed_count != progress:
                            progress = status.completed_count + status.failed_count
                            progressed_at = anyio.current_time()
                        for batch_id in status.completed_batches:
                            if batch_id not in processed and batch_id in submitted:
                                if await self._fetch_batch(batch_id, submitted[batch_id]):
                                    processed.add(batch_id)
                if finished and processed.issuperset(submitted):
                    return
                if anyio.current_time() - progressed_at > C.BATCH_STALL_TIMEOUT:
                    # The server stopped ingesting: fail what is left instead of polling
                    # forever, and tell it to drop the unfinished batches.
                    for batch_id in set(submitted) - processed:
                        await self._abort(batch_id)
                    return
                await anyio.sleep(interval)

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(submit)
                tg.start_soon(collect)
        except BaseException:
            with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                for batch_id, chunk in submitted.items():
                    if not all(slot.done for _, slot in chunk):
                        await self._abort(batch_id)
            raise
        finally:
            err = AssetUploadError(
                "the batch upload stopped before this URL was processed (no progress within "
                f"{C.BATCH_STALL_TIMEOUT:g} s, or the run was cancelled)",
                stage="batch",
            )
            for _, slot in pending:
                if not slot.done:
                    slot.fail(err)

    async def _fetch_batch(self, batch_id: str, chunk: list[tuple[str, Slot[str]]]) -> bool:
        """Settle the URLs of a completed batch; False when the server could not be asked
        (a transient failure: the next poll tries again, within the stall deadline)."""
        try:
            result = await self._transport.request(
                "GET",
                f"/asset/batch-upload/{batch_id}",
                op_id="asset_batch_upload_batch_upload_id_get",
                response_type=wire.BatchUploadResultOutput,
            )
        except TRANSIENT_ERRORS:
            return False
        except RapidataError as exc:
            err = AssetUploadError(f"fetching batch {batch_id} failed: {exc}", stage="batch")
            for _, slot in chunk:
                slot.fail(err)
            return True
        by_url = {item.url: item for item in result.items}
        for url, slot in chunk:
            item = by_url.get(url)
            if item is not None and item.status == "Completed" and item.file_name:
                self._cache.urls[url] = item.file_name
                slot.set(item.file_name)
            else:
                reason = (item.error_message if item else None) or "URL was not ingested"
                slot.fail(AssetUploadError(reason, stage=item.stage if item else "batch"))
        return True

    async def _abort(self, batch_id: str) -> None:
        try:
            await self._transport.request(
                "POST",
                f"/asset/batch-upload/{batch_id}/abort",
                op_id="asset_batch_upload_batch_upload_id_abort_post",
                retry=False,
                timeout=2,
            )
        except RapidataError:
            pass  # best effort: the server expires unfinished batches on its own


def _file_key(path: str) -> str:
    return os.path.abspath(path)


def _as_upload_error(exc: RapidataError) -> AssetUploadError:
    body: Any = getattr(exc, "body", None)
    stage = getattr(body, "stage", None) or "upload"
    return AssetUploadError(
        str(getattr(exc, "title", None) or exc),
        stage=stage,
        trace_id=getattr(exc, "trace_id", None),
    )
