"""``RankingFlow``: a standing ranking task that batches of datapoints are handed to."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import anyio
import msgspec

from .. import _validate as check
from .._datapoint import Datapoint
from .._exceptions import FailedUploadException
from .._logging import logger
from .._paging import Listing
from .._settings import RapidataSetting
from .._types import DataType
from .._uploads import UploadTracker, upload_datapoints
from .._uploads._assets import AssetUploader, AssetUploadError
from .._wire import dataset as dataset_wire
from .._wire import flow as wire
from .._wire.common import AssetInput, ExistingAssetInput, MultiAssetInput
from ..job import RapidataDataset
from . import _checks
from ._item import FlowItem

if TYPE_CHECKING:
    from .._context import ClientContext


class RankingFlowConfig(msgspec.Struct, frozen=True, kw_only=True):
    """A ranking flow's configuration as the server holds it (``GET /flow/{flowId}``)."""

    instruction: str | None
    """The question shown with every comparison (the API's ``criteria``)."""
    starting_elo: int
    """The Elo every new datapoint starts from."""
    min_responses: int
    """Responses a flow item needs at least to count as completed."""
    max_responses: int | None
    """Responses after which a flow item stops collecting (None: no limit)."""
    drain_duration: int | None
    """Seconds before an item's time to live at which it stops serving new labelers."""
    serve_timeout: int | None
    """Seconds a labeler has to answer a served comparison (None: the server's default)."""
    settings: tuple[RapidataSetting, ...]
    """The feature flags sent with the comparisons."""
    flow_item_count: int
    """Flow items (batches) created in this flow so far."""
    created_at: datetime
    """When the flow was created."""


def config_of(out: wire.FlowOutput) -> RankingFlowConfig:
    if not isinstance(out, wire.RankingFlowOutput):
        raise ValueError(
            f"flow {out.id} is a classify flow (SimpleFlow); rapidata_async handles ranking "
            "flows only"
        )
    return RankingFlowConfig(
        instruction=out.criteria,
        starting_elo=out.starting_elo,
        min_responses=out.min_responses,
        max_responses=out.max_responses,
        drain_duration=out.drain_duration_seconds,
        serve_timeout=out.serve_timeout_seconds,
        settings=tuple(RapidataSetting(f.key, f.value) for f in out.feature_flags),
        flow_item_count=out.flow_item_count,
        created_at=out.created_at,
    )


class RankingFlow:
    """A ranking flow (``POST /flow/ranking``): each batch handed to it with
    ``create_new_flow_batch`` is ranked by pairwise human comparisons into Elo scores."""

    def __init__(self, ctx: ClientContext, *, id: str, name: str) -> None:
        self._ctx = ctx
        self.id: str = id
        """The flow id."""
        self.name: str = name
        """The flow's name; each batch's dataset is named ``<name>_dataset``."""

    def __repr__(self) -> str:
        return f"RankingFlow(id={self.id!r}, name={self.name!r})"

    # -- batches ----------------------------------------------------------------------------
    async def create_new_flow_batch(
        self,
        datapoints: Sequence[str],
        context: str | None = None,
        context_assets: Sequence[str] | None = None,
        data_type: DataType = "media",
        private_metadata: Sequence[dict[str, str]] | None = None,
        accept_failed_uploads: bool = False,
        time_to_live: int | None = None,
        *,
        upload_progress: UploadTracker | None = None,
    ) -> FlowItem:
        """Hand a batch of datapoints to the flow to be ranked; returns its ``FlowItem``.

        On the wire: ``context_assets`` are uploaded one by one (``POST /asset/file`` or
        ``/asset/url``); ``POST /dataset`` (``<flow name>_dataset``); the datapoints' uploads
        and one ``POST /dataset/{id}/datapoint`` each (a single ``asset`` segment, concurrent,
        bounded by ``maxWorkers``); then ``POST /flow/ranking/{flowId}/item`` with the dataset,
        ``context``, the context asset and ``timeToLiveInSeconds``.

        Every argument is checked before the first request: at least two distinct
        ``datapoints`` (paths or URLs, or texts with ``data_type="text"``), 1 to 10
        ``context_assets``, ``time_to_live`` from 10 to 3600 seconds (an item whose time runs
        out ends ``Incomplete`` with partial results). When a datapoint fails to upload,
        ``FailedUploadException`` is raised and no flow item exists yet; its ``retry()``
        uploads the failed ones again and then creates the item. With
        ``accept_failed_uploads=True`` the item is created from the datapoints that landed
        (a warning names how many did not). Pass an ``UploadTracker`` as ``upload_progress``
        to follow the upload from another task.
        """
        kind = check.data_type(data_type)
        items = _checks.ranking_datapoints(datapoints, kind)
        meta = check.private_metadata(private_metadata, len(items)) or [None] * len(items)
        text = _checks.context(context)
        media = _checks.context_assets(context_assets)
        accept = _checks.flag(accept_failed_uploads, "accept_failed_uploads")
        ttl = _checks.time_to_live(time_to_live)
        dps = [
            Datapoint(asset=(item,), sort_index=i, data_type=kind, private_metadata=m)
            for i, (item, m) in enumerate(zip(items, meta, strict=True))
        ]
        context_asset = await self._context_asset(media)
        dataset = await self._dataset()
        body = wire.CreateFlowItemInput(
            dataset_id=dataset.id,
            context=text,
            context_asset=context_asset,
            time_to_live_in_seconds=ttl,
        )
        total, landed = len(dps), 0

        async def upload(pending: list[Datapoint]) -> FlowItem:
            nonlocal landed
            outcome = await upload_datapoints(
                self._ctx, dataset.id, pending, tracker=upload_progress
            )
            landed += len(outcome.succeeded)
            if landed and (accept or not outcome.failed):
                if outcome.failed:
                    logger.warning(
                        f"{total - landed} of {total} datapoints failed to upload: the flow "
                        "batch is created without them (accept_failed_uploads=True)",
                        failed=total - landed,
                        total=total,
                    )
                return await self._create_item(body)
            exc = FailedUploadException(
                failed_uploads=[f.item for f in outcome.failed],
                detailed_failures=outcome.failed,
                dataset=dataset,
            )
            exc._retry = lambda: upload([f.item for f in outcome.failed])
            raise exc

        return await upload(dps)

    async def _context_asset(self, assets: list[str] | None) -> AssetInput | None:
        """Upload the context assets one at a time; one asset is sent as itself."""
        if not assets:
            return None
        uploader = AssetUploader(self._ctx, anyio.CapacityLimiter(1))
        names: list[AssetInput] = []
        for i, asset in enumerate(assets):
            try:
                names.append(ExistingAssetInput(name=await uploader.resolve(asset)))
            except AssetUploadError as exc:
                raise ValueError(f"context_assets[{i}]: could not upload {asset!r}: {exc}") from exc
        return names[0] if len(names) == 1 else MultiAssetInput(assets=names)

    async def _dataset(self) -> RapidataDataset:
        name = f"{self.name}_dataset"
        out = await self._ctx.transport.request(
            "POST",
            "/dataset",
            op_id="dataset_post",
            json=dataset_wire.CreateDatasetInput(name=name),
            response_type=dataset_wire.CreateDatasetOutput,
        )
        return RapidataDataset(self._ctx, id=out.dataset_id, name=name)

    async def _create_item(self, body: wire.CreateFlowItemInput) -> FlowItem:
        out = await self._ctx.transport.request(
            "POST",
            f"/flow/ranking/{self.id}/item",
            op_id="flow_ranking_flow_id_item_post",
            json=body,
            response_type=wire.CreateFlowItemOutput,
        )
        return FlowItem(self._ctx, id=out.flow_item_id, flow_id=self.id, dataset_id=body.dataset_id)

    def get_flow_items(self, amount: int = 10, page: int = 1) -> Listing[FlowItem]:
        """This flow's items, newest first:
        ``GET /flow/ranking/{flowId}/item?sort=-created_at&page=&page_size=``.

        ``await`` it for one page (a list); ``async for`` over it for every item.
        """
        return Listing(
            self._ctx,
            path=f"/flow/ranking/{self.id}/item",
            op_id="flow_ranking_flow_id_item_get",
            item_type=wire.FlowItemListItem,
            wrap=lambda i: FlowItem(
                self._ctx,
                id=i.id,
                flow_id=self.id,
                dataset_id=i.dataset_id,
                created_at=i.created_at,
            ),
            name=None,
            amount=amount,
            page=page,
        )

    # -- configuration ----------------------------------------------------------------------
    async def get_config(self) -> RankingFlowConfig:
        """The flow's configuration as the server holds it (``GET /flow/{flowId}``)."""
        out = await self._ctx.transport.request(
            "GET", f"/flow/{self.id}", op_id="flow_flow_id_get", response_type=wire.FlowOutput
        )
        return config_of(out)

    async def update_config(
        self,
        instruction: str | None = None,
        starting_elo: int | None = None,
        min_responses: int | None = None,
        max_responses: int | None = None,
        drain_duration: int | None = None,
        serve_timeout: int | None = None,
    ) -> None:
        """Change the flow's configuration: ``PATCH /flow/ranking/{flowId}`` with only the
        fields given (``criteria``, ``startingElo``, ``minResponses``, ``maxResponses``,
        ``drainDurationSeconds``, ``serveTimeoutSeconds``). Applies to flow items created
        afterwards; running ones keep their configuration. At least one field must be given.
        """
        body = wire.UpdateConfigInput(
            criteria=None if instruction is None else check.instruction(instruction),
            starting_elo=_checks.optional_count(starting_elo, "starting_elo", 0),
            min_responses=_checks.optional_count(min_responses, "min_responses"),
            max_responses=_checks.optional_count(max_responses, "max_responses"),
        )
        _checks.thresholds(min_responses, max_responses, "responses")
        if drain_duration is not None:
            body.drain_duration_seconds = _checks.count(drain_duration, "drain_duration", 0)
        if serve_timeout is not None:
            body.serve_timeout_seconds = _checks.count(serve_timeout, "serve_timeout")
        if body == wire.UpdateConfigInput():
            raise ValueError(
                "update_config: nothing to update; pass at least one of instruction, "
                "starting_elo, min_responses, max_responses, drain_duration, serve_timeout"
            )
        await self._ctx.transport.request(
            "PATCH", f"/flow/ranking/{self.id}", op_id="flow_ranking_flow_id_patch", json=body
        )

    async def delete(self) -> None:
        """Delete the flow (``DELETE /flow/{flowId}``, a soft delete): it is no longer
        listed or fetched, and takes no new batches."""
        await self._ctx.transport.request("DELETE", f"/flow/{self.id}", op_id="flow_flow_id_delete")
