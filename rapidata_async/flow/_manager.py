"""``client.flow``: create, find and fetch ranking flows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import _validate as check
from .._logging import echo
from .._paging import Listing
from .._settings import RapidataSetting, feature_flags
from .._wire import flow as wire
from . import _checks
from ._flow import RankingFlow, config_of

if TYPE_CHECKING:
    from .._context import ClientContext


class FlowManager:
    """Ranking flows (``client.flow``)."""

    def __init__(self, ctx: ClientContext) -> None:
        self._ctx = ctx

    async def create_ranking_flow(
        self,
        name: str,
        instruction: str,
        max_response_threshold: int = 100,
        min_response_threshold: int | None = None,
        validation_set_id: str | None = None,
        settings: Sequence[RapidataSetting] | None = None,
        drain_duration: int | None = None,
        serve_timeout: int | None = None,
    ) -> RankingFlow:
        """Create a ranking flow: ``POST /flow/ranking`` with ``name``, ``criteria``
        (the instruction shown with every comparison), ``minResponses``/``maxResponses``,
        ``validationSetId``, ``featureFlags`` (the settings), ``drainDurationSeconds`` and
        ``serveTimeoutSeconds``.

        A flow item stops collecting after ``max_response_threshold`` responses and counts as
        completed from ``min_response_threshold`` on (default: the maximum).
        ``drain_duration`` is how many seconds before an item's time to live it stops being
        served to new labelers; ``serve_timeout`` how long a labeler has to answer. Every
        argument is checked before the request is sent.
        """
        check.name(name)
        check.instruction(instruction)
        maximum = _checks.count(max_response_threshold, "max_response_threshold")
        minimum = _checks.optional_count(min_response_threshold, "min_response_threshold")
        _checks.thresholds(minimum, maximum, "response_threshold")
        body = wire.CreateFlowInput(
            name=name,
            criteria=instruction,
            validation_set_id=_checks.optional_id(validation_set_id, "validation_set_id"),
            min_responses=maximum if minimum is None else minimum,
            max_responses=maximum,
            feature_flags=feature_flags(settings),
            drain_duration_seconds=_checks.optional_count(drain_duration, "drain_duration", 0),
            serve_timeout_seconds=_checks.optional_count(serve_timeout, "serve_timeout"),
        )
        out = await self._ctx.transport.request(
            "POST",
            "/flow/ranking",
            op_id="flow_ranking_post",
            json=body,
            response_type=wire.CreateFlowOutput,
        )
        echo(f"Ranking flow created: {name!r} ({out.flow_id})")
        return RankingFlow(self._ctx, id=out.flow_id, name=name)

    def find_flows(self, name: str = "", amount: int = 10, page: int = 1) -> Listing[RankingFlow]:
        """Your flows, newest first: ``GET /flow?name[contains]=…&sort=-created_at``.

        ``await`` it for one page (a list); ``async for`` over it for every match. Classify
        flows (``type`` ``Simple``, made by other clients) are left out.
        """
        return Listing(
            self._ctx,
            path="/flow",
            op_id="flow_get",
            item_type=wire.FlowListItem,
            wrap=lambda f: RankingFlow(self._ctx, id=f.id, name=f.name),
            keep=lambda f: f.type == "Ranking",
            name=name,
            amount=amount,
            page=page,
        )

    async def get_flow_by_id(self, flow_id: str) -> RankingFlow:
        """``GET /flow/{flowId}``; ``ValueError`` if it is a classify flow (``SimpleFlow``)."""
        check.resource_id(flow_id, "flow_id")
        out = await self._ctx.transport.request(
            "GET", f"/flow/{flow_id}", op_id="flow_flow_id_get", response_type=wire.FlowOutput
        )
        config_of(out)  # raises for a classify flow
        return RankingFlow(self._ctx, id=out.id, name=out.name)
