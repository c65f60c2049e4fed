"""Datapoints into a dataset: assets first, each datapoint created as soon as its own assets are in.

Stages (anyio task group; workers pull the next datapoint only when free, so memory stays flat
however many datapoints come in)::

    URL batches ──────────────┐ (resolves URL slots as batches finish)
    datapoints ─▶ N workers: resolve assets (files upload on demand) ─▶ POST datapoint

A failure never stops the run: it becomes a ``FailedUpload`` for that datapoint.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

import anyio

from .._config import rapidata_config
from .._context import ClientContext
from .._datapoint import Datapoint, is_url
from .._exceptions import BadRequestError, FailedUpload, RapidataError, RapidataStatusError
from .._progress import ProgressBar
from .._wire import dataset as wire
from .._wire.common import AssetInput, ExistingAssetInput, MultiAssetInput, TextAssetInput
from ._assets import AssetUploader, AssetUploadError
from ._progress import UploadProgress, UploadTracker

Item = TypeVar("Item")


@dataclass
class UploadOutcome(Generic[Item]):
    """What one run did: items created (datapoints: in input order) and those that failed."""

    succeeded: list[Item] = field(default_factory=list)
    failed: list[FailedUpload[Item]] = field(default_factory=list)


def _urls_of(datapoints: Sequence[Datapoint]) -> list[str]:
    seen: dict[str, None] = {}
    for dp in datapoints:
        if dp.data_type != "text":
            for a in dp.asset:
                if is_url(a):
                    seen[a] = None
        for a in dp.media_context or ():
            if is_url(a):
                seen[a] = None
    return list(seen)


def _multi(names: list[str]) -> AssetInput:
    if len(names) == 1:
        return ExistingAssetInput(name=names[0])
    return MultiAssetInput(assets=[ExistingAssetInput(name=n) for n in names])


async def _build_body(dp: Datapoint, uploader: AssetUploader) -> wire.CreateDatapointInput:
    if dp.data_type == "text":
        texts: list[AssetInput] = [TextAssetInput(text=t) for t in dp.asset]
        main: AssetInput = texts[0] if len(texts) == 1 else MultiAssetInput(assets=texts)
    else:
        main = _multi([await uploader.resolve(a) for a in dp.asset])
        if len(dp.asset) > 1 and isinstance(main, ExistingAssetInput):
            main = MultiAssetInput(assets=[main])
    segments = [wire.DatasetSegmentInput(key="asset", kind="Asset", asset=main)]
    if dp.context is not None:
        segments.append(wire.DatasetSegmentInput(key="context", kind="Text", text=dp.context))
    if dp.media_context:
        names = [await uploader.resolve(a) for a in dp.media_context]
        segments.append(
            wire.DatasetSegmentInput(key="context_asset", kind="Asset", asset=_multi(names))
        )
    if dp.answer_options is not None:
        options = [wire.SegmentOption(label=o, value=o) for o in dp.answer_options]
        segments.append(
            wire.DatasetSegmentInput(key="answer_options", kind="OptionList", options=options)
        )
    return wire.CreateDatapointInput(
        segments=segments, sort_index=dp.sort_index, private_metadata=dp.private_metadata
    )


def _failure(dp: Item, exc: BaseException, stage: str) -> FailedUpload[Item]:
    now = datetime.now(UTC)
    if isinstance(exc, AssetUploadError):
        return FailedUpload(
            item=dp,
            error_message=f"Asset upload failed: {exc}",
            error_type="AssetUploadFailed",
            timestamp=now,
            exception=exc,
            stage=exc.stage,
            trace_id=exc.trace_id,
            reason=f"Asset upload failed: {exc.reason}",
        )
    trace_id = exc.trace_id if isinstance(exc, RapidataStatusError) else None
    message = str(exc)
    if isinstance(exc, RapidataStatusError) and exc.title:
        # The title says what went wrong, the field errors where.
        reasons = "; ".join(f"{k}: {' '.join(v)}" for k, v in (exc.errors or {}).items())
        message = f"{exc.title} ({reasons})" if reasons else exc.title
    return FailedUpload(
        item=dp,
        error_message=message,
        error_type=type(exc).__name__,
        timestamp=now,
        exception=exc,
        stage=stage,
        trace_id=trace_id,
    )


async def upload_datapoints(
    ctx: ClientContext,
    dataset_id: str,
    datapoints: Sequence[Datapoint],
    *,
    limiter: anyio.CapacityLimiter | None = None,
    tracker: UploadTracker | None = None,
    show_bar: bool = True,
) -> UploadOutcome[Datapoint]:
    """Upload the assets of ``datapoints`` and create each with ``POST /dataset/{id}/datapoint``.

    At most ``rapidata_config.upload.maxWorkers`` requests are in flight (or ``limiter``'s
    budget, shared with other calls); each call is retried up to ``maxRetries`` times on
    transient failures. Progress goes to ``tracker`` and to a bar (on a terminal; never in
    ``silent_mode``). Returns what succeeded and what failed; never raises for a single datapoint.
    """
    cfg = rapidata_config.upload
    path = f"/dataset/{dataset_id}/datapoint"

    async def post(dp: Datapoint, uploader: AssetUploader, limiter: anyio.CapacityLimiter) -> None:
        body = await _build_body(dp, uploader)
        async with limiter:
            await ctx.transport.request(
                "POST",
                path,
                op_id="dataset_dataset_id_datapoint_post",
                json=body,
                response_type=wire.CreateDatapointOutput,
                retry=cfg.maxRetries,
                idempotent=True,  # the API answers a repeated sortIndex with the same datapoint
            )

    async def create(
        dp: Datapoint, uploader: AssetUploader, limiter: anyio.CapacityLimiter
    ) -> None:
        try:
            await post(dp, uploader, limiter)
        except BadRequestError:
            # A name from the upload cache that the server no longer knows: upload anew.
            if not await uploader.forget_cached((*dp.asset, *(dp.media_context or ()))):
                raise
            await post(dp, uploader, limiter)

    outcome = await run_uploads(
        ctx,
        datapoints,
        _urls_of(datapoints),
        create,
        limiter=limiter,
        tracker=tracker,
        show_bar=show_bar,
        desc="Uploading datapoints",
        unit="dp",
        stage="datapoint",
    )
    outcome.succeeded.sort(key=lambda d: d.sort_index)
    outcome.failed.sort(key=lambda f: f.item.sort_index)
    return outcome


async def run_uploads(
    ctx: ClientContext,
    items: Sequence[Item],
    urls: list[str],
    create: Callable[[Item, AssetUploader, anyio.CapacityLimiter], Awaitable[None]],
    *,
    limiter: anyio.CapacityLimiter | None = None,
    tracker: UploadTracker | None = None,
    show_bar: bool = True,
    desc: str,
    unit: str,
    stage: str,
) -> UploadOutcome[Item]:
    """The pipeline's engine, for any kind of item: the ``urls`` go up in batches while
    ``maxWorkers`` workers (or ``limiter``'s budget) run ``create(item, uploader, limiter)``
    for one item each; an item whose ``create`` raises an upload or API error becomes a
    ``FailedUpload`` (``stage`` names the item's own call). Settled in completion order."""
    workers = rapidata_config.upload.maxWorkers
    limiter = limiter or anyio.CapacityLimiter(workers)
    uploader = AssetUploader(ctx, limiter)
    outcome: UploadOutcome[Item] = UploadOutcome()
    total = len(items)

    def publish() -> None:
        progress = UploadProgress(
            total=total,
            created=len(outcome.succeeded),
            failed=len(outcome.failed),
            files_uploaded=uploader.files_uploaded,
            files_cached=uploader.files_cached,
        )
        if tracker is not None:
            tracker._publish(progress)
        if bar.active:
            bar.set(progress.done, **({"failed": progress.failed} if progress.failed else {}))

    async def settle(item: Item) -> None:
        try:
            await create(item, uploader, limiter)
        except (AssetUploadError, RapidataError) as exc:
            outcome.failed.append(_failure(item, exc, stage))
        else:
            outcome.succeeded.append(item)
        publish()

    # Workers pull from one shared iterator: a worker takes the next item only when it is
    # free, which bounds memory like a zero-buffer stream, with less scheduling per item.
    queue = iter(items)

    async def worker() -> None:
        for item in queue:
            await settle(item)

    with ProgressBar(total=total, desc=desc, unit=unit, enabled=show_bar, counts=True) as bar:
        try:
            async with anyio.create_task_group() as tg:
                claimed = uploader.claim_urls(urls)
                if claimed:
                    tg.start_soon(uploader.upload_url_batches, claimed)
                for _ in range(min(workers, max(total, 1))):
                    tg.start_soon(worker)
        finally:
            with anyio.CancelScope(shield=True):  # what was uploaded stays known if cancelled
                await ctx.asset_cache.flush()
            if tracker is not None:
                tracker._close()
    return outcome
