"""``/flow``: the HTTP side of ranking flows (the rules live in ``services.flows``).

``POST /flow/ranking``, ``GET /flow``, ``GET``/``DELETE /flow/{flowId}``,
``PATCH /flow/ranking/{flowId}`` (3.27.1) and ``…/config`` (Aug 2026),
``POST``/``GET /flow/ranking/{flowId}/item``, ``GET /flow/ranking/item/{flowItemId}`` and its
``/results`` and ``/vote-matrix`` (409 until the item is finished). Every id is checked
against the caller's tenant: another tenant's flow or item answers 404.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import msgspec
from aiohttp import web

from ..._wire import flow as wire
from ..._wire.common import ExistingAssetInput, FeatureFlag, MultiAssetInput
from .._context import ctx, tenant
from .._errors import field_error
from .._http import list_query, no_content, page_of, read_json, respond
from ..domain.errors import Invalid
from ..store.base import ORGANIZATION_ID, OWNER_ID, OWNER_MAIL, FlowItemRow, FlowRow
from ..store.seeds import parse_iso
from . import flows

routes: web.RouteTableDef = web.RouteTableDef()

_create_decoder = msgspec.json.Decoder(wire.CreateFlowInput)
_update_decoder = msgspec.json.Decoder(wire.UpdateConfigInput)
_item_decoder = msgspec.json.Decoder(wire.CreateFlowItemInput)
_FLOW_FILTERS = {"id": "id", "name": "name", "created_at": "created_at"}
_ITEM_FILTERS = {"id": "id", "state": "state", "created_at": "created_at"}


def _flow_out(row: FlowRow) -> wire.RankingFlowOutput:
    config = row.config
    return wire.RankingFlowOutput(
        id=row.id,
        name=row.name,
        campaign_id=f"campaign-{row.id}",
        flow_item_count=row.item_count,
        target_response_count=config.target_response_count,
        # The API's PID defaults: the local crowd is not rate-controlled.
        pid_proportional_gain=0.0,
        pid_integral_gain=0.003,
        pid_derivative_gain=0.0,
        pid_output_offset=25.0,
        pid_min_sessions_per_minute=20,
        pid_max_sessions_per_minute=50,
        pid_batch_mode="Total",
        serve_timeout_seconds=config.serve_timeout_seconds,
        drain_duration_seconds=config.drain_duration_seconds,
        serve_to_response_ratio=config.serve_to_response_ratio,
        min_responses=config.min_responses,
        feature_flags=[FeatureFlag(key=k, value=v) for k, v in config.feature_flags],
        owner_id=OWNER_ID,
        owner_mail=OWNER_MAIL,
        organization_id=ORGANIZATION_ID,
        created_at=parse_iso(row.created_at),
        criteria=config.criteria,
        starting_elo=config.starting_elo,
        max_responses=config.max_responses,
        serve_responses=config.serve_responses,
    )


def _when(value: str | None) -> datetime | None:
    return parse_iso(value) if value else None


def _context_asset(row: FlowItemRow) -> wire.Asset | None:
    asset = flows.context_asset(row)
    return flows.asset_out(asset, {}, {}) if asset is not None else None


def _item_fields(row: FlowItemRow) -> dict[str, Any]:
    """What an item's answer and its listing entry both show."""
    return {
        "id": row.id,
        "dataset_id": row.dataset_id,
        "state": row.state,
        "created_at": parse_iso(row.created_at),
        "workflow_id": f"workflow-{row.id}",
        "context": row.context,
        "context_asset": _context_asset(row),
        "failure_message": row.failure_message,
        "started_at": _when(row.started_at),
        "completed_at": _when(row.completed_at),
        "failed_at": _when(row.failed_at),
    }


def _item_out(row: FlowItemRow) -> wire.FlowItemOutput:
    expires = datetime.fromtimestamp(flows.expires_at(row), timezone.utc)
    return wire.FlowItemOutput(flow_id=row.flow_id, expires_at=expires, **_item_fields(row))


def _item_list_out(row: FlowItemRow) -> wire.FlowItemListItem:
    return wire.FlowItemListItem(**_item_fields(row))


@routes.post("/flow/ranking")
async def create_flow(request: web.Request) -> web.Response:
    """A ranking flow with its settings (the counts default as the 3.27.1 client's do)."""
    body = await read_json(request, _create_decoder)
    if not body.name.strip():
        raise field_error("name", "The flow name must not be empty.")
    config = flows.config_of(body)
    store, owner = ctx(request).store, tenant(request)
    await flows.check_audience(store, config.audience_id, owner)
    row = await store.flows.create(body.name, config, owner=owner)
    return respond(wire.CreateFlowOutput(flow_id=row.id))


@routes.get("/flow")
async def list_flows(request: web.Request) -> web.Response:
    query = list_query(request, filters=_FLOW_FILTERS)
    rows, total = await ctx(request).store.flows.list(query, owner=tenant(request))
    items = [
        wire.FlowListItem(
            id=row.id,
            name=row.name,
            type="Ranking",
            owner_id=OWNER_ID,
            owner_mail=OWNER_MAIL,
            organization_id=ORGANIZATION_ID,
            created_at=parse_iso(row.created_at),
        )
        for row in rows
    ]
    return respond(page_of(items, total, query))


@routes.get("/flow/{flowId}")
async def get_flow(request: web.Request) -> web.Response:
    row = await ctx(request).store.flows.get(request.match_info["flowId"], owner=tenant(request))
    return respond(_flow_out(row))


@routes.delete("/flow/{flowId}")
async def delete_flow(request: web.Request) -> web.Response:
    """Soft delete: the flow is gone from every read, its running items stop."""
    context = ctx(request)
    await context.store.flows.delete(request.match_info["flowId"], owner=tenant(request))
    context.runner.start_ranking()
    return no_content()


async def _update(request: web.Request) -> web.Response:
    body = await read_json(request, _update_decoder)
    store, owner = ctx(request).store, tenant(request)
    row = await store.flows.get(request.match_info["flowId"], owner=owner)
    config = flows.updated(row.config, body)
    if config.audience_id != row.config.audience_id:
        await flows.check_audience(store, config.audience_id, owner)
    await store.flows.update_config(row.id, config, owner=owner)
    return no_content()


@routes.patch("/flow/ranking/{flowId}")
async def update_config(request: web.Request) -> web.Response:
    """Change the settings given (3.27.1); items created later use them."""
    return await _update(request)


@routes.patch("/flow/ranking/{flowId}/config")
async def update_config_aug(request: web.Request) -> web.Response:
    """The Aug-2026 path of the same update."""
    return await _update(request)


@routes.get("/flow/ranking/item/{flowItemId}")
async def get_item(request: web.Request) -> web.Response:
    row = await ctx(request).store.flows.item(
        request.match_info["flowItemId"], owner=tenant(request)
    )
    return respond(_item_out(row))


@routes.get("/flow/ranking/item/{flowItemId}/results")
async def item_results(request: web.Request) -> web.Response:
    store = ctx(request).store
    row = await store.flows.item(request.match_info["flowItemId"], owner=tenant(request))
    return respond(await flows.results(store, row))


@routes.get("/flow/ranking/item/{flowItemId}/vote-matrix")
async def item_vote_matrix(request: web.Request) -> web.Response:
    store = ctx(request).store
    row = await store.flows.item(request.match_info["flowItemId"], owner=tenant(request))
    return respond(await flows.vote_matrix(store, row))


@routes.post("/flow/ranking/{flowId}/item")
async def create_item(request: web.Request) -> web.Response:
    """Rank the datapoints of a dataset of the caller on the flow (a ``Pending`` item that
    the engine starts at once)."""
    body = await read_json(request, _item_decoder)
    item = flows.new_item(body)
    context = ctx(request)
    store, owner = context.store, tenant(request)
    flow = await store.flows.get(request.match_info["flowId"], owner=owner)
    await store.datasets.get(body.dataset_id, owner=owner, field="datasetId")
    datapoints = await store.datasets.datapoints(body.dataset_id, owner=owner)
    flows.item_assets(datapoints)
    if body.context_asset is not None:
        names = _names(body.context_asset)
        if await store.assets.missing(names, owner=owner):
            raise Invalid.field(
                "contextAsset", "Unknown asset: upload it first (POST /asset/file or /asset/url)."
            )
    row = await store.flows.add_item(flow.id, item, owner=owner)
    context.runner.start_ranking()
    return respond(wire.CreateFlowItemOutput(flow_item_id=row.id))


def _names(asset: object) -> list[str]:
    if isinstance(asset, ExistingAssetInput):
        return [asset.name]
    if isinstance(asset, MultiAssetInput):
        return [name for inner in asset.assets for name in _names(inner)]
    return []


@routes.get("/flow/ranking/{flowId}/item")
async def list_items(request: web.Request) -> web.Response:
    query = list_query(request, filters=_ITEM_FILTERS)
    rows, total = await ctx(request).store.flows.items(
        request.match_info["flowId"], query, owner=tenant(request)
    )
    return respond(page_of([_item_list_out(row) for row in rows], total, query))
