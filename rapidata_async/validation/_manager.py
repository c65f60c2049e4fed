"""``client.validation``: create, fetch and find validation sets.

Creating a set: ``POST /validation-set``, then every media asset of every rapid is uploaded
(URLs in batches, files as multipart, bounded by ``rapidata_config.upload.maxWorkers``) and
each rapid is added with ``POST /validation-set/{id}/rapid`` as soon as its own assets are in,
then ``PATCH /validation-set/{id}`` sets the dimensions. Rapids go up concurrently (bounded):
a set is served to labelers in a shuffled order, so the order they land in carries no meaning.
Every rapid is tried; those that failed are raised together afterwards
(``FailedValidationRapidsException``), the set holding the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from .. import _validate as check
from .._config import rapidata_config
from .._datapoint import is_url
from .._exceptions import (
    BadRequestError,
    FailedValidationRapid,
    FailedValidationRapidsException,
    RapidataError,
    RapidataStatusError,
)
from .._logging import echo
from .._paging import Listing
from .._progress import ProgressBar
from .._types import DataType
from .._uploads._assets import AssetUploader, AssetUploadError
from .._wire import validation as wire
from .._wire.common import AssetInput, ExistingAssetInput, MultiAssetInput, TextAssetInput
from ._set import RapidataValidationSet, check_dimensions

if TYPE_CHECKING:
    from .._context import ClientContext


@dataclass(frozen=True)
class _Rapid:
    """One rapid as given, checked; assets are uploaded when it is sent."""

    index: int
    datapoint: Any  # as the caller gave it, for error messages
    items: tuple[str, ...]
    data_type: str
    payload: wire.RapidPayload
    truth: tuple[str, ...]  # compare: the winning item; classify: the correct categories
    random_correct_probability: float
    context: str | None
    media_context: tuple[str, ...] | None
    explanation: str | None


def _explanations(values: Any, n: int) -> list[str | None]:
    out: list[str | None] = check.parallel(values, n, "explanations") or [None] * n
    for i, e in enumerate(out):
        if e is not None and not isinstance(e, str):
            raise ValueError(f"explanations[{i}]: must be a string or None, got {e!r}")
    return out


def _truth_list(truths: Any, n: int) -> list[Any]:
    if isinstance(truths, (str, bytes)) or not isinstance(truths, Sequence):
        raise ValueError("truths: must be a list with one truth per datapoint")
    if len(truths) != n:
        raise ValueError(f"truths: has {len(truths)} entries but there are {n} datapoints")
    return list(truths)


def _media(names: list[str]) -> AssetInput:
    if len(names) == 1:
        return ExistingAssetInput(name=names[0])
    return MultiAssetInput(assets=[ExistingAssetInput(name=n) for n in names])


class ValidationSetManager:
    """Validation sets (``client.validation``)."""

    def __init__(self, ctx: ClientContext) -> None:
        self._ctx = ctx

    # -- creation ---------------------------------------------------------------------------
    async def create_classification_set(
        self,
        name: str,
        instruction: str,
        answer_options: Sequence[str],
        datapoints: Sequence[str],
        truths: Sequence[Sequence[str]],
        data_type: DataType = "media",
        contexts: Sequence[str] | None = None,
        media_contexts: Sequence[str | Sequence[str]] | None = None,
        explanations: Sequence[str | None] | None = None,
        dimensions: Sequence[str] = (),
    ) -> RapidataValidationSet:
        """Create a classification validation set: each datapoint with its correct options.

        ``truths[i]`` lists the options that count as correct for ``datapoints[i]`` (each
        among ``answer_options``); ``contexts``, ``media_contexts`` and ``explanations`` (shown
        to a labeler who answers wrong) have one entry per datapoint. Every argument is checked
        before the first request. On the wire: ``POST /validation-set``, uploads,
        ``POST /validation-set/{id}/rapid`` per datapoint (``ClassifyPayload`` and
        ``AttachCategoryTruth``), ``PATCH /validation-set/{id}`` if ``dimensions``.
        Raises ``FailedValidationRapidsException`` naming every rapid that failed.
        """
        check.name(name)
        check.instruction(instruction)
        options = check.answer_options(answer_options)
        kind = check.data_type(data_type)
        items = check.singles(datapoints, kind)
        n = len(items)
        truth_lists = _truth_list(truths, n)
        for i, truth in enumerate(truth_lists):
            if isinstance(truth, (str, bytes)) or not isinstance(truth, Sequence) or not truth:
                raise ValueError(f"truths[{i}]: must be a non-empty list of options, got {truth!r}")
            for j, t in enumerate(truth):
                if t not in options:
                    raise ValueError(f"truths[{i}][{j}]: {t!r} is not one of answer_options")
        payload = wire.ClassifyPayload(
            title=instruction,
            categories=[wire.ClassifyPayloadCategory(label=o, value=o) for o in options],
        )
        rapids = self._rapids(
            [(item,) for item in items],
            list(datapoints),
            kind,
            payload,
            [tuple(t) for t in truth_lists],
            [len(t) / len(options) for t in truth_lists],
            contexts,
            media_contexts,
            explanations,
        )
        return await self._submit(name, rapids, check_dimensions(dimensions))

    async def create_compare_set(
        self,
        name: str,
        instruction: str,
        datapoints: Sequence[Sequence[str]],
        truths: Sequence[str],
        data_type: DataType = "media",
        contexts: Sequence[str] | None = None,
        media_contexts: Sequence[str | Sequence[str]] | None = None,
        explanation: Sequence[str | None] | None = None,
        dimensions: Sequence[str] = (),
    ) -> RapidataValidationSet:
        """Create a compare validation set: each datapoint a pair with its better item.

        ``truths[i]`` is the item of ``datapoints[i]`` that should win (sent as its uploaded
        name, or the text itself for ``data_type="text"``). ``explanation`` (the official
        client's name) holds one text per datapoint, shown to a labeler who answers wrong.
        On the wire as for classification, with ``ComparePayload`` and ``CompareTruth``.
        Raises ``FailedValidationRapidsException`` naming every rapid that failed.
        """
        check.name(name)
        check.instruction(instruction)
        kind = check.data_type(data_type)
        pairs = check.pairs(datapoints, kind)
        truth_list = _truth_list(truths, len(pairs))
        for i, (truth, pair) in enumerate(zip(truth_list, pairs, strict=True)):
            if not isinstance(truth, str) or truth not in pair:
                raise ValueError(
                    f"truths[{i}]: must be one of datapoints[{i}] {list(pair)}, got {truth!r}"
                )
        rapids = self._rapids(
            pairs,
            [list(p) for p in pairs],
            kind,
            wire.ComparePayload(criteria=instruction),
            [(t,) for t in truth_list],
            [0.5] * len(pairs),
            contexts,
            media_contexts,
            explanation,
        )
        return await self._submit(name, rapids, check_dimensions(dimensions))

    def _rapids(
        self,
        items: Sequence[tuple[str, ...]],
        shown: list[Any],
        kind: str,
        payload: wire.RapidPayload,
        truths: list[tuple[str, ...]],
        chances: list[float],
        contexts: Any,
        media_contexts: Any,
        explanations: Any,
    ) -> list[_Rapid]:
        n = len(items)
        ctxs = check.contexts(contexts, n) or [None] * n
        media = check.media_contexts(media_contexts, n) or [None] * n
        texts = _explanations(explanations, n)
        return [
            _Rapid(i, shown[i], tuple(items[i]), kind, payload, truths[i], chances[i], *extra)
            for i, extra in enumerate(zip(ctxs, media, texts, strict=True))
        ]

    async def _submit(
        self, name: str, rapids: list[_Rapid], dimensions: list[str]
    ) -> RapidataValidationSet:
        out = await self._ctx.transport.request(
            "POST",
            "/validation-set",
            op_id="validation_set_post",
            json=wire.CreateValidationSetInput(name=name),
            response_type=wire.CreateValidationSetOutput,
        )
        validation_set = RapidataValidationSet(self._ctx, id=out.validation_set_id, name=name)
        failures = await _add_rapids(self._ctx, validation_set.id, rapids)
        if dimensions:
            await validation_set.update_dimensions(dimensions)
        if failures:
            raise FailedValidationRapidsException(validation_set, failures)
        echo(f"Validation set {name!r} created ({validation_set.id}): {validation_set.url}")
        return validation_set

    # -- lookup -----------------------------------------------------------------------------
    async def get_validation_set_by_id(self, validation_set_id: str) -> RapidataValidationSet:
        """``GET /validation-set/{id}``: its name and dimensions."""
        set_id = check.resource_id(validation_set_id, "validation_set_id")
        out = await self._ctx.transport.request(
            "GET",
            f"/validation-set/{set_id}",
            op_id="validation_set_validation_set_id_get",
            response_type=wire.ValidationSetOutput,
        )
        return RapidataValidationSet(self._ctx, id=out.id, name=out.name, dimensions=out.dimensions)

    def find_validation_sets(
        self, name: str = "", amount: int = 10, page: int = 1
    ) -> Listing[RapidataValidationSet]:
        """Your validation sets whose name contains ``name``, newest first
        (``GET /validation-sets?name[contains]=…&sort=-created_at``). ``await`` it for one page
        of ``amount``; ``async for`` over it for all matches."""
        return Listing(
            self._ctx,
            path="/validation-sets",
            op_id="validation_sets_get",
            item_type=wire.ValidationSetListItem,
            wrap=lambda v: RapidataValidationSet(
                self._ctx, id=v.id, name=v.name, dimensions=v.dimensions or ()
            ),
            name=name,
            amount=amount,
            page=page,
        )


# -- adding the rapids ------------------------------------------------------------------------
def _failure(rapid: _Rapid, exc: BaseException) -> FailedValidationRapid:
    if isinstance(exc, AssetUploadError):
        message, error_type = f"Asset upload failed: {exc}", "AssetUploadFailed"
        trace_id = exc.trace_id
    else:
        message, error_type = str(exc), type(exc).__name__
        trace_id = exc.trace_id if isinstance(exc, RapidataStatusError) else None
        if isinstance(exc, RapidataStatusError) and exc.title:
            reasons = "; ".join(f"{k}: {' '.join(v)}" for k, v in (exc.errors or {}).items())
            message = f"{exc.title} ({reasons})" if reasons else exc.title
    return FailedValidationRapid(rapid.index, rapid.datapoint, message, error_type, exc, trace_id)


async def _body(rapid: _Rapid, uploader: AssetUploader) -> wire.AddValidationRapidInput:
    if rapid.data_type == "text":
        texts: list[AssetInput] = [TextAssetInput(text=t) for t in rapid.items]
        names = list(rapid.items)
        asset: AssetInput = texts[0] if len(texts) == 1 else MultiAssetInput(assets=texts)
    else:
        names = [await uploader.resolve(a) for a in rapid.items]
        asset = _media(names)
    truth: wire.ValidationTruth
    if isinstance(rapid.payload, wire.ComparePayload):
        truth = wire.CompareTruth(winner_id=names[rapid.items.index(rapid.truth[0])])
    else:
        truth = wire.AttachCategoryTruth(correct_categories=list(rapid.truth))
    context_asset = None
    if rapid.media_context:
        context_names = [await uploader.resolve(a) for a in rapid.media_context]
        context_asset = _media(context_names)
    return wire.AddValidationRapidInput(
        asset=asset,
        payload=rapid.payload,
        truth=truth,
        random_correct_probability=rapid.random_correct_probability,
        context=rapid.context,
        context_asset=context_asset,
        explanation=rapid.explanation,
    )


def _urls(rapids: Sequence[_Rapid]) -> list[str]:
    seen: dict[str, None] = {}
    for rapid in rapids:
        media = rapid.items if rapid.data_type == "media" else ()
        for item in (*media, *(rapid.media_context or ())):
            if is_url(item):
                seen[item] = None
    return list(seen)


async def _add_rapids(
    ctx: ClientContext, set_id: str, rapids: Sequence[_Rapid]
) -> list[FailedValidationRapid]:
    """Upload the rapids' assets and add every rapid; the ones that failed, in input order."""
    cfg = rapidata_config.upload
    limiter = anyio.CapacityLimiter(cfg.maxWorkers)
    uploader = AssetUploader(ctx, limiter)
    failures: list[FailedValidationRapid] = []
    path = f"/validation-set/{set_id}/rapid"
    done = 0

    async def post(rapid: _Rapid) -> None:
        body = await _body(rapid, uploader)
        async with limiter:
            await ctx.transport.request(
                "POST", path, op_id="validation_set_validation_set_id_rapid_post", json=body
            )

    async def add(rapid: _Rapid) -> None:
        nonlocal done
        try:
            try:
                await post(rapid)
            except BadRequestError:
                # A cached upload name the server no longer knows: upload anew, once.
                media = rapid.items if rapid.data_type == "media" else ()
                if not await uploader.forget_cached((*media, *(rapid.media_context or ()))):
                    raise
                await post(rapid)
        except (AssetUploadError, RapidataError) as exc:
            failures.append(_failure(rapid, exc))
        done += 1
        if bar.active:
            bar.set(done, **({"failed": len(failures)} if failures else {}))

    queue = iter(rapids)

    async def worker() -> None:
        for rapid in queue:
            await add(rapid)

    with ProgressBar(
        total=len(rapids), desc="Uploading validation rapids", unit="rapid", counts=True
    ) as bar:
        try:
            async with anyio.create_task_group() as tg:
                claimed = uploader.claim_urls(_urls(rapids))
                if claimed:
                    tg.start_soon(uploader.upload_url_batches, claimed)
                for _ in range(min(cfg.maxWorkers, max(len(rapids), 1))):
                    tg.start_soon(worker)
        finally:
            with anyio.CancelScope(shield=True):  # what was uploaded stays known if cancelled
                await ctx.asset_cache.flush()
    return sorted(failures, key=lambda f: f.index)
