"""``/dataset``: datasets, their datapoints (both wire shapes) and context shortening."""

from __future__ import annotations

import msgspec
from aiohttp import web

from ..._wire import dataset as wire
from .._context import ctx, tenant
from .._errors import field_error
from .._http import read_json, respond
from .._limits import LARGE_JSON_BYTES

routes: web.RouteTableDef = web.RouteTableDef()

CONTEXT_LIMIT = 400

_dataset_decoder = msgspec.json.Decoder(wire.CreateDatasetInput)
_datapoint_decoder = msgspec.json.Decoder(wire.CreateDatapointInput)
_shorten_decoder = msgspec.json.Decoder(wire.ShortenContextInput)


@routes.post("/dataset")
async def create_dataset(request: web.Request) -> web.Response:
    """``schema`` is optional (compare datasets send ``null``)."""
    body = await read_json(request, _dataset_decoder)
    if not body.name.strip():
        raise field_error("name", "The dataset name must not be empty.")
    dataset_id = await ctx(request).store.datasets.create(body, owner=tenant(request))
    return respond(wire.CreateDatasetOutput(dataset_id=dataset_id))


@routes.post("/dataset/{datasetId}/datapoint")
async def create_datapoint(request: web.Request) -> web.Response:
    """Idempotent on ``sortIndex``: sending the same index again answers the existing id, so
    retried uploads never duplicate a datapoint. Unknown assets are a 400 naming the segment."""
    body = await read_json(request, _datapoint_decoder)
    datasets = ctx(request).store.datasets
    datapoint_id, _ = await datasets.add_datapoint(
        request.match_info["datasetId"], body, owner=tenant(request)
    )
    return respond(wire.CreateDatapointOutput(datapoint_id=datapoint_id))


def shorten(context: str, limit: int = CONTEXT_LIMIT) -> str:
    """Cut ``context`` to at most ``limit`` characters at a word boundary, marked with '…'."""
    if len(context) <= limit:
        return context
    cut = context[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.") + "…"


@routes.post("/datasets/shorten-context")
async def shorten_context(request: web.Request) -> web.Response:
    body = await read_json(request, _shorten_decoder, max_bytes=LARGE_JSON_BYTES)
    return respond(
        wire.ShortenContextOutput(
            items=[
                wire.ShortenedContext(shortened_context=shorten(item.context))
                for item in body.items
            ]
        )
    )
