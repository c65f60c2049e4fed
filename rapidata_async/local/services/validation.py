"""``/validation-set``: validation sets and their rapids (tasks with a known answer).

A job whose revision names a validation set shows its labelers these rapids among the real
tasks and weighs each labeler by how well they answer them (see ``engine`` and
``crowd.validation``). ``GET /validation-sets`` is not in the contract subset; the 3.27.1
client's ``find_validation_sets`` calls it, so it is served in the shape that client reads.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from ..._wire import validation as wire
from .._context import ctx, tenant
from .._datapoints import asset_labels
from .._errors import field_error
from .._http import list_query, no_content, page_of, read_json, respond
from ..domain import limits
from ..domain.tasks import check_answer_key
from ..store.base import ORGANIZATION_ID, OWNER_ID, ValidationSetRow
from ..store.seeds import parse_iso

routes: web.RouteTableDef = web.RouteTableDef()

_create_decoder = msgspec.json.Decoder(wire.CreateValidationSetInput)
_rapid_decoder = msgspec.json.Decoder(wire.AddValidationRapidInput)
_update_decoder = msgspec.json.Decoder(wire.UpdateValidationSetInput)

# Query field -> logical field of the store's listing.
_FILTERS = {name: name for name in ("id", "name", "created_at")}


class ValidationSetOut(wire.ValidationSetOutput, omit_defaults=False):
    """Every key written."""


class ValidationSetListItemOut(wire.ValidationSetListItem, omit_defaults=False):
    """Every key written (``dimensions`` is required though nullable)."""


def set_out(row: ValidationSetRow) -> ValidationSetOut:
    """``GET /validation-set/{id}``."""
    return ValidationSetOut(
        id=row.id,
        name=row.name,
        is_public=False,
        owner_mail=row.owner_mail,
        organization_id=ORGANIZATION_ID,
        owner_id=OWNER_ID,
        dimensions=row.dimensions,
        created_at=parse_iso(row.created_at),
    )


def _list_item(row: ValidationSetRow) -> ValidationSetListItemOut:
    return ValidationSetListItemOut(
        id=row.id,
        name=row.name,
        asset_type=[],
        modality=row.modalities,
        prompt_type=[],
        dimensions=row.dimensions,
        is_public=False,
        owner_id=OWNER_ID,
        owner_mail=row.owner_mail,
        organization_id=ORGANIZATION_ID,
        created_at=parse_iso(row.created_at),
    )


@routes.post("/validation-set")
async def create_set(request: web.Request) -> web.Response:
    body = await read_json(request, _create_decoder)
    limits.check_name("name", body.name, "validation set name")
    set_id = await ctx(request).store.validation_sets.create(body, owner=tenant(request))
    return respond(wire.CreateValidationSetOutput(validation_set_id=set_id))


@routes.get("/validation-set/{validationSetId}")
async def get_set(request: web.Request) -> web.Response:
    row = await ctx(request).store.validation_sets.get(
        request.match_info["validationSetId"], owner=tenant(request)
    )
    return respond(set_out(row))


@routes.get("/validation-sets")
async def list_sets(request: web.Request) -> web.Response:
    """The caller's sets, newest first by default."""
    query = list_query(request, filters=_FILTERS)
    rows, total = await ctx(request).store.validation_sets.list(query, owner=tenant(request))
    return respond(page_of([_list_item(row) for row in rows], total, query))


@routes.patch("/validation-set/{validationSetId}")
async def update_set(request: web.Request) -> web.Response:
    """``name`` and ``dimensions`` are kept; ``shouldAlert``, ``isPublic`` and
    ``isFlagOverruled`` are accepted and have no effect on a local backend."""
    body = await read_json(request, _update_decoder)
    if body.name is not None:
        limits.check_name("name", body.name, "validation set name")
    if body.dimensions is not None:
        limits.check_dimensions(body.dimensions)
    await ctx(request).store.validation_sets.update(
        request.match_info["validationSetId"],
        owner=tenant(request),
        name=body.name,
        dimensions=body.dimensions,
    )
    return no_content()


def check_rapid(body: wire.AddValidationRapidInput) -> None:
    """A compare rapid has 2 assets and a ``CompareTruth`` naming one of them; a
    classification has at least 2 categories and an ``AttachCategoryTruth`` among them."""
    p = body.random_correct_probability
    if p is not None and not 0.0 <= p <= 1.0:
        raise field_error("randomCorrectProbability", "Must be between 0 and 1.")
    payload, truth = body.payload, body.truth
    if truth is None:
        raise field_error("truth", "A validation rapid needs its correct answer.")
    if isinstance(payload, wire.ComparePayload):
        if not isinstance(truth, wire.CompareTruth):
            raise field_error("truth", "A compare rapid needs a CompareTruth.")
        check_answer_key("rapid", True, asset_labels(body.asset), [truth.winner_id])
        return
    if not isinstance(truth, wire.AttachCategoryTruth):
        raise field_error("truth", "A classification rapid needs an AttachCategoryTruth.")
    categories = [c.key for c in payload.categories]
    check_answer_key("rapid", False, categories, truth.correct_categories)


@routes.post("/validation-set/{validationSetId}/rapid")
async def add_rapid(request: web.Request) -> web.Response:
    body = await read_json(request, _rapid_decoder)
    check_rapid(body)
    store = ctx(request).store.validation_sets
    set_id, owner = request.match_info["validationSetId"], tenant(request)
    row = await store.get(set_id, owner=owner)
    limits.check_rapid_count(row.rapid_count)
    await store.add_rapid(set_id, body, owner=owner)
    return no_content()
