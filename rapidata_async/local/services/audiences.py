"""``/audience``: the seeded global and curated audiences, custom audiences, their
qualification examples, recruiting and the user funnel.

Lifecycle of a custom audience: ``Created`` (examples can be added) -> ``Recruiting`` (on
``POST /audience/{id}/recruit`` or when a job is assigned and it has at least 3 examples) ->
``Ready`` once the simulated crowd has qualified. Global and curated audiences are always
``Ready`` and report an empty funnel (``usersPerState: {}``).
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from aiohttp import web

from ..._wire import audience as wire
from ..._wire.common import AssetInput, ExistingAssetInput, TextAssetInput
from .._context import ctx, tenant
from .._datapoints import asset_labels
from .._errors import BadRequest, field_error
from .._http import list_query, no_content, page_of, read_json, respond
from ..domain import limits
from ..domain.limits import MIN_EXAMPLES
from ..domain.tasks import check_answer_key
from ..engine import Engine
from ..store.base import ORGANIZATION_ID, OWNER_ID, AudienceRow
from ..store.seeds import DEFAULT_RULE, parse_iso

routes: web.RouteTableDef = web.RouteTableDef()

SUFFICIENT_GRADUATES = 50

_create_decoder = msgspec.json.Decoder(wire.CreateAudienceInput)
_example_decoder = msgspec.json.Decoder(wire.AddExampleInput)

# Query field -> logical field of the store's audience listing.
_FILTERS = {
    name: name for name in ("id", "name", "status", "is_public", "owner_mail", "created_at")
}


class AudienceOut(wire.AudienceOutput, omit_defaults=False):
    """Every key written, so optional counts and texts are never dropped as defaults."""


class AudienceListItemOut(wire.AudienceListItem, omit_defaults=False):
    """Every key written, as for ``AudienceOut``."""


async def _core(runner: Engine, row: AudienceRow) -> dict[str, Any]:
    qualified = row.qualified_count
    if row.kind != "custom":
        qualified = len((await runner.qualification(row)).user_scores)
    return {
        "id": row.id,
        "name": row.name,
        "status": row.status,
        "qualified_user_count": qualified,
        "filters": list(row.body.filters or ()),
        "created_at": parse_iso(row.created_at),
        "owner_mail": row.owner_mail,
        "organization_id": ORGANIZATION_ID,
        "is_public": row.is_public,
        "is_distilling": row.status == "Recruiting",
        "graduation_rule": row.body.graduation_rule or DEFAULT_RULE,
        "description": row.body.description,
        "graduated": row.graduated,
        "dropped": row.dropped,
    }


async def audience_out(runner: Engine, row: AudienceRow) -> AudienceOut:
    """``GET /audience/{id}``."""
    return AudienceOut(
        **await _core(runner, row),
        base_audience_id=row.id,
        owner_id=OWNER_ID,
        distilling_campaign_id=f"{row.id}-distilling",
        distilling_retrieval_mode="Shuffled",
        boost_level="None",
    )


async def audience_list_item(runner: Engine, row: AudienceRow) -> AudienceListItemOut:
    """An item of ``GET /audiences``."""
    return AudienceListItemOut(**await _core(runner, row), is_shared=False)


@routes.post("/audience")
async def create_audience(request: web.Request) -> web.Response:
    body = await read_json(request, _create_decoder)
    if not body.name.strip():
        raise field_error("name", "The audience name must not be empty.")
    limits.check_graduation_rule(body.graduation_rule)
    audience_id = await ctx(request).store.audiences.create(body, owner=tenant(request))
    return respond(wire.CreateAudienceOutput(audience_id=audience_id))


@routes.get("/audiences")
async def list_audiences(request: web.Request) -> web.Response:
    """Curated and public audiences are listed before custom ones matching the same query,
    then newest first (see ``Audiences.list``)."""
    query = list_query(request, filters=_FILTERS, booleans=frozenset({"is_public"}))
    context = ctx(request)
    rows, total = await context.store.audiences.list(query, owner=tenant(request))
    items = [await audience_list_item(context.runner, row) for row in rows]
    return respond(page_of(items, total, query))


@routes.get("/audience/{audienceId}")
async def get_audience(request: web.Request) -> web.Response:
    context = ctx(request)
    row = await context.store.audiences.get(request.match_info["audienceId"], owner=tenant(request))
    return respond(await audience_out(context.runner, row))


def _check_example(body: wire.AddExampleInput) -> None:
    if not 0.0 <= body.random_correct_probability <= 1.0:
        raise field_error("randomCorrectProbability", "Must be between 0 and 1.")
    payload, truth = body.payload, body.truth
    if isinstance(payload, wire.CompareExamplePayload):
        if truth is not None and not isinstance(truth, wire.CompareExampleTruth):
            raise field_error("truth", "A compare example needs a CompareExampleTruth.")
        winner = [truth.winner_id] if truth is not None else None
        check_answer_key("example", True, asset_labels(body.asset), winner)
        return
    if truth is not None and not isinstance(truth, wire.ClassifyExampleTruth):
        raise field_error("truth", "A classification example needs a ClassifyExampleTruth.")
    correct = truth.correct_categories if truth is not None else None
    check_answer_key("example", False, [c.value for c in payload.categories], correct)


@routes.post("/audience/{audienceId}/example")
async def add_example(request: web.Request) -> web.Response:
    body = await read_json(request, _example_decoder)
    _check_example(body)
    context = ctx(request)
    audience_id = request.match_info["audienceId"]
    owner = tenant(request)
    row = await context.store.audiences.get(audience_id, owner=owner)
    if row.kind != "custom":
        raise field_error(
            "audienceId",
            f"'{row.name}' is a curated audience; add examples to your own audiences only.",
        )
    limits.check_example_count(row.example_count)
    await context.store.audiences.add_example(audience_id, body, owner=owner)
    return respond(wire.AddExampleOutput())


async def start_recruiting(runner: Engine, row: AudienceRow) -> bool:
    """Move a custom audience from ``Created`` to ``Recruiting`` and qualify it in the
    background. True if recruiting started now. 400 if it has fewer than 3 examples."""
    if row.kind != "custom" or row.status != "Created":
        return False
    if row.example_count < MIN_EXAMPLES:
        raise BadRequest(
            f"Audience '{row.name}' has {row.example_count} qualification example(s); add at "
            f"least {MIN_EXAMPLES} before recruiting or assigning a job.",
            errors={
                "audienceId": [
                    f"The audience needs at least {MIN_EXAMPLES} qualification examples, "
                    f"has {row.example_count}."
                ]
            },
        )
    started = await runner.store.audiences.set_status(row.id, "Recruiting", only_if="Created")
    runner.recruit(row.id)
    return started


@routes.post("/audience/{audienceId}/recruit")
async def recruit(request: web.Request) -> web.Response:
    context = ctx(request)
    row = await context.store.audiences.get(request.match_info["audienceId"], owner=tenant(request))
    await start_recruiting(context.runner, row)
    return no_content()


@routes.get("/audience/{audienceId}/user-metrics")
async def user_metrics(request: web.Request) -> web.Response:
    """Global/curated: ``{}`` and Sufficient. Custom: the qualification funnel (all zero while
    the audience is still ``Created``)."""
    context = ctx(request)
    row = await context.store.audiences.get(request.match_info["audienceId"], owner=tenant(request))
    if row.kind != "custom":
        return respond(wire.UserMetricsOutput(users_per_state={}, capacity="Sufficient"))
    if row.status == "Created":
        states = {"Graduated": 0, "Distilling": 0, "Dropped": 0}
    else:
        states = dict((await context.runner.qualification(row)).users_per_state)
    graduated = states.get("Graduated", 0)
    capacity: Literal["None", "Low", "Sufficient"] = "None"
    if graduated:
        capacity = "Sufficient" if graduated >= SUFFICIENT_GRADUATES else "Low"
    return respond(wire.UserMetricsOutput(users_per_state=states, capacity=capacity))


def _asset_out(asset: AssetInput | None) -> wire.AssetOutput | None:
    if asset is None:
        return None
    if isinstance(asset, ExistingAssetInput):
        return wire.FileAsset(file_name=asset.name, identifier=asset.identifier or asset.name)
    if isinstance(asset, TextAssetInput):
        return wire.TextAsset(text=asset.text, identifier=asset.identifier or "")
    parts = [_asset_out(a) for a in asset.assets]
    return wire.MultiAsset(assets=[p for p in parts if p is not None])


@routes.get("/audience/{audienceId}/examples")
async def list_examples(request: web.Request) -> web.Response:
    """An audience's qualification examples in the order they were added, paged. Ids are the
    audience id and the example's position; answer counts stay 0 (the crowd does not keep
    them per example)."""
    query = list_query(request, filters={}, default_sort="sort_index")
    context = ctx(request)
    audience_id = request.match_info["audienceId"]
    bodies = await context.store.audiences.examples(audience_id, owner=tenant(request))
    items = [
        wire.ExampleOutput(
            id=f"{audience_id}-example-{i}",
            asset=_asset_out(body.asset) or wire.NullAsset(),
            payload=body.payload,
            truth=body.truth,
            correct_count=0,
            incorrect_count=0,
            context=body.context,
            context_asset=_asset_out(body.context_asset),
            explanation=body.explanation,
            random_correct_probability=body.random_correct_probability,
            flag_if_incorrect=body.flag_if_incorrect,
            sort_index=i if body.sort_index is None else body.sort_index,
            visibility="Private",
        )
        for i, body in enumerate(bodies)
    ]
    page = items[query.offset : query.offset + query.page_size]
    return respond(page_of(page, len(items), query))
