"""``/order``, ``/orders``: the legacy orders of SDK 3.20.1 (CALLS.md section 10).

An order is a job definition and a job on the global audience in one: ``POST /order`` checks
the workflow and referee and makes the order and its empty dataset (filled through the dataset
endpoints); ``POST /order/{id}/submit`` creates an internal job definition over that dataset
and a job on the global audience narrowed by the order's user filters, carrying its validation
set, so the same engine, crowd and referee answer it. From then on the order's state, results
and retries are its job's. ``precedingOrderId`` (at creation or by ``PATCH``) makes the job
wait until the preceding order's job has finished.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from ..._wire import audience as auwire
from ..._wire import dataset as dwire
from ..._wire import job as jwire
from ..._wire import order as wire
from .._context import ctx, tenant
from .._errors import BadRequest, field_error
from .._http import decode_json, list_query, no_content, page_of, read_body, read_json, respond
from .._limits import DEFAULT_JSON_BYTES
from ..domain import limits
from ..domain.errors import Conflict
from ..store.base import OWNER_MAIL, OrderRow, Store
from ..store.seeds import parse_iso
from .jobs import check_workflow, new_definition

routes: web.RouteTableDef = web.RouteTableDef()

_create_decoder = msgspec.json.Decoder(wire.CreateOrderInput)
_update_decoder = msgspec.json.Decoder(wire.UpdateOrderInput)
_submit_decoder = msgspec.json.Decoder(wire.SubmitOrderInput | None)
GLOBAL_AUDIENCE = "global"
# Query field -> logical field of the store's listing.
_FILTERS = {"order_name": "order_name", "state": "state", "order_date": "order_date", "id": "id"}
_EDITABLE = ("Created", "Preview")


class CreateOrderOut(wire.CreateOrderOutput, omit_defaults=False):
    pass


class OrderOut(wire.OrderOutput, omit_defaults=False):
    pass


class OrderListItemOut(wire.OrderListItem, omit_defaults=False):
    pass


def audience_filters(filters: list[wire.UserFilter] | None) -> list[auwire.AudienceFilter]:
    """An order's user filters in the crowd's terms (age and gender are demographics); the
    ones the simulated crowd does not model (new users, user scores, response counts,
    campaigns) are left out, as unmodelled audience filters have no effect."""
    out = []
    for f in filters or ():
        converted = _audience_filter(f)
        if converted is not None:
            out.append(converted)
    return out


def _audience_filter(f: wire.UserFilter) -> auwire.AudienceFilter | None:
    if isinstance(f, wire.AgeUserFilter):
        return auwire.DemographicFilter(identifier="age", values=list(f.age_groups))
    if isinstance(f, wire.GenderUserFilter):
        return auwire.DemographicFilter(identifier="gender", values=list(f.genders))
    if isinstance(f, wire.CustomUserFilter):
        return auwire.DemographicFilter(identifier=f.identifier, values=list(f.values))
    if isinstance(f, wire.CountryUserFilter):
        return auwire.CountryFilter(countries=list(f.countries))
    if isinstance(f, wire.LanguageUserFilter):
        return auwire.LanguageFilter(languages=list(f.languages))
    if isinstance(f, wire.DeviceUserFilter):
        return auwire.DeviceFilter(device_types=list(f.device_types))
    if isinstance(f, wire.NotUserFilter):
        inner = _audience_filter(f.filter)
        return None if inner is None else auwire.NotFilter(filter=inner)
    if isinstance(f, wire.AndUserFilter | wire.OrUserFilter):
        parts = audience_filters(f.filters)
        if not parts:
            return None
        if isinstance(f, wire.AndUserFilter):
            return auwire.AndFilter(filters=parts)
        return auwire.OrFilter(filters=parts)
    return None


def _selection_sets(selections: list[wire.Selection] | None) -> list[str]:
    """The validation set ids the selections name."""
    found: list[str] = []
    for s in selections or ():
        if isinstance(s, wire.ValidationSelection):
            found.append(s.validation_set_id)
        elif isinstance(s, wire.CappedSelection | wire.ShufflingSelection):
            found += _selection_sets(s.selections)
    return found


async def _check_validation_set(store: Store, set_id: str, *, owner: str, field: str) -> None:
    """404 naming ``field`` unless ``owner`` has that validation set."""
    await store.validation_sets.get(set_id, owner=owner, field=field)


def _order_out(row: OrderRow) -> OrderOut:
    return OrderOut(
        order_name=row.name,
        customer_mail=OWNER_MAIL,
        order_date=parse_iso(row.created_at),
        state=row.state,  # type: ignore[arg-type]
        pipeline_id=row.pipeline_id,
        is_locked=row.job_id is not None,
        is_public=False,
        failure_message=row.failure_message,
    )


@routes.post("/order")
async def create_order(request: web.Request) -> web.Response:
    """Check the order, create its dataset and the order (``Created``)."""
    body = await read_json(request, _create_decoder)
    if not body.order_name.strip():
        raise field_error("orderName", "The order name must not be empty.")
    check_workflow(body.workflow, body.referee)
    store, owner = ctx(request).store, tenant(request)
    if body.validation_set_id:
        await _check_validation_set(
            store, body.validation_set_id, owner=owner, field="validationSetId"
        )
    for set_id in _selection_sets(body.selections):
        await _check_validation_set(store, set_id, owner=owner, field="selections")
    if body.preceding_order_id:
        await store.orders.get(body.preceding_order_id, owner=owner, field="precedingOrderId")
    dataset_id = await store.datasets.create(
        dwire.CreateDatasetInput(name=f"{body.order_name}_dataset"), owner=owner
    )
    row = await store.orders.create(body, owner=owner, dataset_id=dataset_id)
    return respond(
        CreateOrderOut(order_id=row.id, pipeline_id=row.pipeline_id, dataset_id=dataset_id)
    )


@routes.get("/orders")
async def list_orders(request: web.Request) -> web.Response:
    query = list_query(request, filters=_FILTERS, default_sort="-order_date")
    rows, total = await ctx(request).store.orders.list(query, owner=tenant(request))
    items = [
        OrderListItemOut(
            id=row.id,
            pipeline_id=row.pipeline_id,
            order_date=parse_iso(row.created_at),
            customer_mail=OWNER_MAIL,
            state=row.state,  # type: ignore[arg-type]
            order_name=row.name,
            is_public=False,
            failure_message=row.failure_message,
        )
        for row in rows
    ]
    return respond(page_of(items, total, query))


@routes.get("/order/{orderId}")
async def get_order(request: web.Request) -> web.Response:
    row = await ctx(request).store.orders.get(request.match_info["orderId"], owner=tenant(request))
    return respond(_order_out(row))


@routes.patch("/order/{orderId}")
async def update_order(request: web.Request) -> web.Response:
    """Rename the order and/or set its preceding order (``null`` clears it) before it runs."""
    raw = await read_body(request, DEFAULT_JSON_BYTES)
    body = decode_json(raw, _update_decoder)
    store, owner = ctx(request).store, tenant(request)
    order = await store.orders.get(request.match_info["orderId"], owner=owner)
    # absent and null read alike on the struct; only an explicit null clears
    clear = body.preceding_order_id is None and "precedingOrderId" in msgspec.json.decode(raw)
    if body.preceding_order_id is not None or clear:
        if order.job_id is not None:
            raise Conflict(f"Order '{order.id}' runs already; its preceding order is fixed.")
    if body.preceding_order_id is not None:
        if body.preceding_order_id == order.id:
            raise field_error("precedingOrderId", "An order cannot precede itself.")
        await store.orders.get(body.preceding_order_id, owner=owner, field="precedingOrderId")
    if body.name is not None and not body.name.strip():
        raise field_error("name", "The order name must not be empty.")
    await store.orders.update(
        order.id,
        owner=owner,
        name=body.name,
        preceding_order_id=body.preceding_order_id,
        clear_preceding=clear,
    )
    return no_content()


async def _optional_body(request: web.Request) -> None:
    """``/submit`` and ``/preview`` take an optional ``{"ignoreFailedDatapoints"}``."""
    raw = await read_body(request, DEFAULT_JSON_BYTES)
    if raw.strip():
        decode_json(raw, _submit_decoder)


@routes.post("/order/{orderId}/preview")
async def preview_order(request: web.Request) -> web.Response:
    """``Created`` -> ``Preview`` (a later state stays as it is)."""
    await _optional_body(request)
    store, owner = ctx(request).store, tenant(request)
    order = await store.orders.get(request.match_info["orderId"], owner=owner)
    await store.orders.move(order.id, "Preview", owner=owner, only_from=("Created",))
    return no_content()


@routes.post("/order/{orderId}/submit")
async def submit_order(request: web.Request) -> web.Response:
    """Create the order's job definition and its job on the global audience, and start it."""
    await _optional_body(request)
    context = ctx(request)
    store, owner = context.store, tenant(request)
    order = await store.orders.get(request.match_info["orderId"], owner=owner)
    preceding_job = None
    if order.preceding_order_id:
        preceding = await store.orders.get(
            order.preceding_order_id, owner=owner, field="precedingOrderId"
        )
        if preceding.job_id is None:
            raise Conflict(
                f"The preceding order '{preceding.id}' has not been submitted; submit it first."
            )
        preceding_job = preceding.job_id
    total = await store.datasets.datapoint_count(order.dataset_id)
    if total == 0:
        raise BadRequest(
            f"Order '{order.id}' has no datapoints; add some to dataset '{order.dataset_id}'.",
            errors={"datasetId": ["The dataset is empty."]},
        )
    limits.check_datapoint_count(total)
    previous = order.state
    if not await store.orders.move(order.id, "Submitted", owner=owner, only_from=_EDITABLE):
        raise Conflict(f"Order '{order.id}' was submitted already (state {order.state}).")
    try:
        job_id = await _start_job(context.store, order, owner=owner, preceding_job=preceding_job)
    except BaseException:
        await store.orders.move(order.id, previous, owner=owner, only_from=("Submitted",))
        raise
    context.runner.start(job_id)
    return no_content()


async def _start_job(
    store: Store, order: OrderRow, *, owner: str, preceding_job: str | None
) -> str:
    body = order.body
    definition_id, _ = await new_definition(
        store,
        jwire.CreateJobDefinitionInput(
            definition_name=order.name,
            workflow=body.workflow,
            referee=body.referee,
            dataset_id=order.dataset_id,
            rapid_feature_flags=body.rapid_feature_flags,
            campaign_feature_flags=body.campaign_feature_flags,
            aggregator_type=body.aggregator,
        ),
        owner=owner,
        validation_set_id=body.validation_set_id,
    )
    revision = await store.definitions.revision(definition_id, owner=owner)
    total = await store.datasets.datapoint_count(order.dataset_id)
    job = await store.jobs.create(
        jwire.CreateJobInput(
            job_definition_id=definition_id,
            audience_id=GLOBAL_AUDIENCE,
            name=order.name,
            preceding_job_id=preceding_job,
        ),
        owner=owner,
        name=order.name,
        revision=revision,
        total=total,
        filters=audience_filters(body.user_filters),
    )
    await store.orders.attach_job(order.id, job.id, owner=owner)
    return job.id


@routes.post("/order/{orderId}/retry")
async def retry_order(request: web.Request) -> web.Response:
    """Run a ``Failed`` (or ``StaleResults``) order's job again; collected responses stay."""
    context = ctx(request)
    order = await context.store.orders.get(request.match_info["orderId"], owner=tenant(request))
    if order.job_id is not None and order.state in ("Failed", "StaleResults"):
        await context.store.jobs.set_state(order.job_id, "Submitted")
        context.runner.start(order.job_id)
    return no_content()


@routes.get("/order/{orderId}/download-results")
async def download_results(request: web.Request) -> web.Response:
    """The results JSON of the order's job once it is ``Completed`` (the same as a job's)."""
    context = ctx(request)
    order = await context.store.orders.get(request.match_info["orderId"], owner=tenant(request))
    if order.job_id is None:
        raise Conflict(
            f"Order '{order.id}' is {order.state}; submit it, its results can be downloaded "
            "once it is Completed."
        )
    document = await context.runner.results_document(order.job_id)
    return web.Response(
        body=document,
        content_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{order.id}_results.json"'},
    )
