"""Prompts and samples through the upload pipeline (assets first, then one call per item)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import anyio

from .._config import rapidata_config
from .._datapoint import is_url
from .._exceptions import ConflictError
from .._uploads import UploadOutcome, UploadTracker, run_uploads
from .._uploads._assets import AssetUploader
from .._wire import mri as wire
from .._wire.common import AssetInput, ExistingAssetInput, MultiAssetInput, TextAssetInput
from ._types import BenchmarkPrompt, Sample

if TYPE_CHECKING:
    from .._context import ClientContext


async def _asset(names: Sequence[str], uploader: AssetUploader) -> AssetInput:
    resolved = [await uploader.resolve(a) for a in names]
    if len(resolved) == 1:
        return ExistingAssetInput(name=resolved[0])
    return MultiAssetInput(assets=[ExistingAssetInput(name=n) for n in resolved])


async def _post(
    ctx: ClientContext,
    path: str,
    op_id: str,
    body: object,
    out: type,
    limiter: anyio.CapacityLimiter,
) -> None:
    """One create call; 409 means the item is already there (a retry after a lost answer)."""
    try:
        async with limiter:
            await ctx.transport.request(
                "POST",
                path,
                op_id=op_id,
                json=body,
                response_type=out,
                retry=rapidata_config.upload.maxRetries,
                idempotent=True,  # a repeat is answered 409, read as success
            )
    except ConflictError:
        pass


async def upload_prompts(
    ctx: ClientContext,
    benchmark_id: str,
    prompts: Sequence[BenchmarkPrompt],
    *,
    tracker: UploadTracker | None = None,
) -> UploadOutcome[BenchmarkPrompt]:
    """Upload prompt assets and ``POST /benchmark/{id}/prompt`` per prompt, concurrently."""
    path = f"/benchmark/{benchmark_id}/prompt"

    async def create(
        p: BenchmarkPrompt, uploader: AssetUploader, limiter: anyio.CapacityLimiter
    ) -> None:
        segments = []
        if p.prompt is not None:
            segments.append(
                wire.PromptSegmentInput(key=wire.PROMPT_SEGMENT, kind="Text", text=p.prompt)
            )
        if p.prompt_asset:
            segments.append(
                wire.PromptSegmentInput(
                    key=wire.PROMPT_ASSET_SEGMENT,
                    kind="Asset",
                    asset=await _asset(p.prompt_asset, uploader),
                )
            )
        body = wire.CreatePromptInput(
            identifier=p.identifier,
            segments=segments,
            tags=[wire.Tag(value=t.value, category=t.category) for t in p.tags] or None,
            origin=wire.Origin(source=p.origin.source) if p.origin else None,
        )
        await _post(
            ctx, path, "benchmark_benchmark_id_prompt_post", body, wire.CreatePromptOutput, limiter
        )

    urls = list(dict.fromkeys(a for p in prompts for a in p.prompt_asset or () if is_url(a)))
    return await run_uploads(
        ctx,
        prompts,
        urls,
        create,
        tracker=tracker,
        desc="Uploading prompts",
        unit="prompt",
        stage="prompt",
    )


async def upload_samples(
    ctx: ClientContext,
    participant_id: str,
    samples: Sequence[Sample],
    *,
    tracker: UploadTracker | None = None,
) -> UploadOutcome[Sample]:
    """Upload the media and ``POST /participant/{id}/sample`` per sample, concurrently; a
    sample the participant already has (409) counts as uploaded."""
    path = f"/participant/{participant_id}/sample"

    async def create(s: Sample, uploader: AssetUploader, limiter: anyio.CapacityLimiter) -> None:
        asset: AssetInput = (
            TextAssetInput(text=s.asset)
            if s.data_type == "text"
            else await _asset([s.asset], uploader)
        )
        body = wire.CreateSampleInput(identifier=s.identifier, asset=asset)
        await _post(
            ctx,
            path,
            "participant_participant_id_sample_post",
            body,
            wire.CreateSampleOutput,
            limiter,
        )

    urls = list(
        dict.fromkeys(s.asset for s in samples if s.data_type == "media" and is_url(s.asset))
    )
    outcome = await run_uploads(
        ctx,
        samples,
        urls,
        create,
        tracker=tracker,
        desc="Uploading samples",
        unit="sample",
        stage="sample",
    )
    outcome.succeeded.sort(key=lambda s: s.index)
    outcome.failed.sort(key=lambda f: f.item.index)
    return outcome
