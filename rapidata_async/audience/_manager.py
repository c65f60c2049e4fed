"""``client.audience``: find, fetch and create audiences."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import _validate as check
from .._paging import Listing
from .._wire import audience as wire
from ._audience import RapidataAudience
from ._filters import RapidataFilter, check_filters, filters_from_wire

if TYPE_CHECKING:
    from .._context import ClientContext


class AudienceManager:
    """Audiences (``client.audience``)."""

    def __init__(self, ctx: ClientContext) -> None:
        self._ctx = ctx

    def find_audiences(
        self, name: str = "", amount: int = 10, page: int = 1
    ) -> Listing[RapidataAudience]:
        """Audiences whose name contains ``name`` (curated ones included), newest first.

        ``GET /audiences?name[contains]=…&sort=-created_at``. ``await`` it for one page of
        ``amount``; ``async for`` over it for all matches.
        """
        return Listing(
            self._ctx,
            path="/audiences",
            op_id="audiences_get",
            item_type=wire.AudienceListItem,
            wrap=self._wrap,
            name=name,
            amount=amount,
            page=page,
        )

    def _wrap(self, a: wire.AudienceOutput | wire.AudienceListItem) -> RapidataAudience:
        return RapidataAudience(
            self._ctx, id=a.id, name=a.name, filters=filters_from_wire(a.filters), status=a.status
        )

    async def get_audience_by_id(self, audience_id: str) -> RapidataAudience:
        """``GET /audience/{id}``; ``"global"`` is the global audience."""
        check.resource_id(audience_id, "audience_id")
        a = await self._ctx.transport.request(
            "GET",
            f"/audience/{audience_id}",
            op_id="audience_audience_id_get",
            response_type=wire.AudienceOutput,
        )
        return RapidataAudience(
            self._ctx, id=a.id, name=a.name, filters=filters_from_wire(a.filters), status=a.status
        )

    async def create_audience(
        self,
        name: str,
        filters: Sequence[RapidataFilter] | None = None,
        target_accuracy: float | None = None,
        min_tasks: int | None = None,
        max_tasks: int | None = None,
    ) -> RapidataAudience:
        """Create a custom audience (``POST /audience``); add >= 3 examples before assigning.

        ``filters`` (e.g. ``[CountryFilter(["US"]), LanguageFilter(["en"])]``) narrow who may
        qualify; all of them must pass.

        The graduation rule is sent only when one of its knobs is given (defaults 0.75 / 10).
        """
        check.name(name)
        chosen = check_filters(filters)
        if target_accuracy is not None and not 0 < target_accuracy <= 1:
            raise ValueError(f"target_accuracy: must be in (0, 1], got {target_accuracy!r}")
        rule = None
        if target_accuracy is not None or min_tasks is not None or max_tasks is not None:
            rule = wire.TaskAccuracyRule(
                target_accuracy=0.75 if target_accuracy is None else target_accuracy,
                min_tasks=10 if min_tasks is None else min_tasks,
                max_tasks=max_tasks,
            )
        out = await self._ctx.transport.request(
            "POST",
            "/audience",
            op_id="audience_post",
            json=wire.CreateAudienceInput(
                name=name, filters=[f._to_wire() for f in chosen], graduation_rule=rule
            ),
            response_type=wire.CreateAudienceOutput,
        )
        return RapidataAudience(
            self._ctx, id=out.audience_id, name=name, filters=chosen, status="Created"
        )
