"""``client.order``: the legacy order API of SDK 3.20.1, kept for code being migrated.

``create_compare_order`` / ``create_classification_order`` take the job definitions'
arguments (checked and uploaded by the very same code) plus ``validation_set_id``, ``filters``
and ``selections``. The first use on a client warns (``DeprecationWarning``): new code uses
``client.job`` and ``client.audience`` ("Migrating from orders" in the docs).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import _validate as check
from .._exceptions import RapidataStatusError
from .._logging import echo, logger
from .._paging import Listing
from .._settings import RapidataSetting
from .._types import DataType
from .._uploads import UploadTracker
from .._wire import job as job_wire
from .._wire import order as wire
from ..audience import RapidataFilter
from ..audience._filters import check_filters
from ..job._dataset import Dataset
from ..job._manager import TaskSpec, classification_spec, compare_spec, upload_within_tolerance
from ._order import RapidataOrder
from ._selections import RapidataSelection, check_selections

if TYPE_CHECKING:
    from .._context import ClientContext

DEPRECATION = (
    "client.order is the legacy order API: create job definitions with client.job and assign "
    "them to an audience (client.audience) instead; see 'Migrating from orders' in the docs"
)


def _blueprint(rapid: job_wire.RapidSpec, options: Sequence[str] | None) -> job_wire.Blueprint:
    """The order form (Aug-2026 ``blueprint``) of a definition's rapid."""
    if isinstance(rapid, job_wire.CompareRapid):
        return job_wire.CompareBlueprint(
            criteria=rapid.criteria.literal or "", index_identifiers=rapid.index_identifiers
        )
    categories = [job_wire.ClassifyCategory(label=o, value=o) for o in options or ()]
    return job_wire.ClassifyBlueprint(title=rapid.title.literal or "", categories=categories)


class OrderManager:
    """Legacy orders (``client.order``); warns once per client that the API is legacy."""

    def __init__(self, ctx: ClientContext) -> None:
        self._ctx = ctx
        self._warned = False

    def _warn(self) -> None:
        if not self._warned:
            self._warned = True
            warnings.warn(DEPRECATION, DeprecationWarning, stacklevel=3)

    async def create_compare_order(
        self,
        name: str,
        instruction: str,
        datapoints: Sequence[Sequence[str]],
        data_type: DataType = "media",
        responses_per_datapoint: int = 10,
        contexts: Sequence[str] | None = None,
        media_contexts: Sequence[str | Sequence[str]] | None = None,
        a_b_names: Sequence[str] | None = None,
        validation_set_id: str | None = None,
        confidence_threshold: float | None = None,
        quorum_threshold: int | None = None,
        filters: Sequence[RapidataFilter] | None = None,
        settings: Sequence[RapidataSetting] | None = None,
        selections: Sequence[RapidataSelection] | None = None,
        private_metadata: Sequence[dict[str, str]] | None = None,
        *,
        failure_tolerance: float | None = None,
        upload_progress: UploadTracker | None = None,
    ) -> RapidataOrder:
        """Create a compare order (arguments in 3.20.1's order); run it with ``run()``.

        On the wire: ``GET /validation-set/{id}`` when ``validation_set_id`` is given (it must
        exist), ``POST /order`` (``CompareBlueprint``, referee, ``userFilters``,
        ``validationSetId``, ``selections``) answering the order's dataset, the uploads and
        ``POST /dataset/{id}/datapoint`` per pair as for ``create_compare_job_definition``,
        then ``POST /order/{id}/preview``. Every argument is checked before the first request.
        When more datapoints failed than ``failure_tolerance`` allows, ``FailedUploadException``
        carries the order (it exists) as ``e.order``; ``e.retry()`` uploads the failed ones
        into the same dataset and returns the order.
        """
        self._warn()
        spec = compare_spec(
            name,
            instruction,
            datapoints,
            data_type,
            responses_per_datapoint,
            contexts,
            media_contexts,
            a_b_names,
            confidence_threshold,
            quorum_threshold,
            settings,
            failure_tolerance,
            private_metadata,
        )
        return await self._create(
            spec, validation_set_id, filters, selections, upload_progress, None
        )

    async def create_classification_order(
        self,
        name: str,
        instruction: str,
        answer_options: Sequence[str],
        datapoints: Sequence[str],
        data_type: DataType = "media",
        responses_per_datapoint: int = 10,
        contexts: Sequence[str] | None = None,
        media_contexts: Sequence[str | Sequence[str]] | None = None,
        validation_set_id: str | None = None,
        confidence_threshold: float | None = None,
        quorum_threshold: int | None = None,
        filters: Sequence[RapidataFilter] | None = None,
        settings: Sequence[RapidataSetting] | None = None,
        selections: Sequence[RapidataSelection] | None = None,
        private_metadata: Sequence[dict[str, str]] | None = None,
        *,
        failure_tolerance: float | None = None,
        upload_progress: UploadTracker | None = None,
    ) -> RapidataOrder:
        """Create a classification order (``ClassifyBlueprint``); otherwise as
        ``create_compare_order``."""
        self._warn()
        spec = classification_spec(
            name,
            instruction,
            answer_options,
            datapoints,
            data_type,
            responses_per_datapoint,
            contexts,
            media_contexts,
            confidence_threshold,
            quorum_threshold,
            settings,
            failure_tolerance,
            private_metadata,
        )
        return await self._create(
            spec, validation_set_id, filters, selections, upload_progress, answer_options
        )

    async def _create(
        self,
        spec: TaskSpec,
        validation_set_id: str | None,
        filters: Sequence[RapidataFilter] | None,
        selections: Sequence[RapidataSelection] | None,
        tracker: UploadTracker | None,
        options: Sequence[str] | None,
    ) -> RapidataOrder:
        chosen = check_filters(filters)
        picked = check_selections(selections)
        if validation_set_id is not None:
            check.resource_id(validation_set_id, "validation_set_id")
            await self._ctx.transport.request(
                "GET",
                f"/validation-set/{validation_set_id}",
                op_id="validation_set_validation_set_id_get",
            )
        blueprint = _blueprint(spec.rapid, options)
        out = await self._ctx.transport.request(
            "POST",
            "/order",
            op_id="order_post",
            json=wire.CreateOrderInput(
                order_name=spec.name,
                workflow=job_wire.SimpleWorkflow(blueprint=blueprint),
                referee=spec.referee,
                user_filters=[f._to_user_filter() for f in chosen],
                validation_set_id=validation_set_id,
                rapid_feature_flags=spec.flags,
                selections=[s._to_wire() for s in picked] or None,
            ),
            response_type=wire.CreateOrderOutput,
            idempotent=False,
        )
        if not out.dataset_id:
            raise RuntimeError(f"POST /order answered no dataset for order {out.order_id}")
        order = RapidataOrder(self._ctx, id=out.order_id, name=spec.name, dataset_id=out.dataset_id)
        dataset = Dataset(self._ctx, id=out.dataset_id, name=f"{spec.name}_dataset")

        async def preview() -> RapidataOrder:
            try:
                await self._ctx.transport.request(
                    "POST", f"/order/{order.id}/preview", op_id="order_order_id_preview_post"
                )
            except RapidataStatusError as exc:  # as 3.20.1: the order is usable without it
                logger.warning(
                    "setting the order to preview failed", order=order.id, error=str(exc)
                )
            echo(f"Order created: {spec.name!r} ({order.id}); view it at {order.url}")
            return order

        return await upload_within_tolerance(
            self._ctx, dataset, spec, tracker, preview, order=order
        )

    async def get_order_by_id(self, order_id: str) -> RapidataOrder:
        """``GET /order/{id}``."""
        self._warn()
        check.resource_id(order_id, "order_id")
        out = await self._ctx.transport.request(
            "GET", f"/order/{order_id}", op_id="order_order_id_get", response_type=wire.OrderOutput
        )
        return RapidataOrder(self._ctx, id=order_id, name=out.order_name)

    def find_orders(
        self, name: str = "", amount: int = 10, page: int = 1
    ) -> Listing[RapidataOrder]:
        """Newest first: ``GET /orders?order_name[contains]=…&sort=-order_date``. ``await`` it
        for one page of ``amount``; ``async for`` over it for all matches."""
        self._warn()
        return Listing(
            self._ctx,
            path="/orders",
            op_id="orders_get",
            item_type=wire.OrderListItem,
            wrap=lambda o: RapidataOrder(self._ctx, id=o.id, name=o.order_name),
            name=name,
            amount=amount,
            page=page,
            name_field="order_name",
            sort="-order_date",
        )
