"""``RapidataOrder``: a legacy order (SDK 3.20.1); run it, follow it, get its results."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING

import anyio
import msgspec

from .._context import poll
from .._exceptions import JobBlockedError, JobFailedError
from .._logging import echo, show_link
from .._types import OrderState
from .._wire import order as wire
from ..results import JobResults

if TYPE_CHECKING:
    from .._context import ClientContext

FINAL = frozenset({"Completed", "Failed"})
BLOCKED = frozenset({"Paused", "ManualReview", "Cancelled"})
"""States an order does not leave on its own."""


class OrderProgress(msgspec.Struct, frozen=True, kw_only=True):
    """One snapshot of an order's progress, the shape of ``JobProgress``.

    The order API reports only the state (``GET /order/{id}``), so the percentage is 0 until
    the order is ``Completed`` (then 100) and the counts are 0.
    """

    state: OrderState
    """``Created``, ``Preview``, ``Submitted``, ``Processing``, ``Completed``, ``Failed``, …"""
    completion_percentage: float
    """0 until ``Completed``, then 100."""
    completed: int = 0
    """Not reported for orders: 0."""
    total: int = 0
    """Not reported for orders: 0."""
    response_count: int = 0
    """Not reported for orders: 0."""

    @property
    def done(self) -> bool:
        """Whether the state is final: ``Completed`` or ``Failed``."""
        return self.state in FINAL


class RapidataOrder:
    """A legacy order (``POST /order``): a job definition and its job on the global audience
    in one. Prefer ``client.job`` and ``client.audience`` (see "Migrating from orders")."""

    def __init__(
        self, ctx: ClientContext, *, id: str, name: str, dataset_id: str | None = None
    ) -> None:
        self._ctx = ctx
        self.id: str = id
        """The order id."""
        self.name: str = name
        """The order's name."""
        self.dataset_id: str | None = dataset_id
        """The dataset holding its datapoints (None for an order fetched by id)."""

    def __repr__(self) -> str:
        return f"RapidataOrder(name={self.name!r}, order_id={self.id!r})"

    @property
    def url(self) -> str:
        """The order's dashboard page, ``{app_url}/order/detail/{id}``."""
        return self._ctx.app_link(f"order/detail/{self.id}")

    async def view(self, *, open_browser: bool = False) -> str:
        """The dashboard page of this order; no API call. Prints and returns the URL."""
        return await show_link("Order in dashboard", self.url, open_browser=open_browser)

    async def _get(self) -> wire.OrderOutput:
        return await self._ctx.transport.request(
            "GET", f"/order/{self.id}", op_id="order_order_id_get", response_type=wire.OrderOutput
        )

    async def run(self, after: RapidataOrder | str | None = None) -> RapidataOrder:
        """Start collecting responses: ``PATCH /order/{id} {"precedingOrderId"}`` when
        ``after`` (an order or its id) is given, so this one starts once that one finished;
        then ``POST /order/{id}/submit``. Returns the order itself."""
        if after is not None:
            preceding = after.id if isinstance(after, RapidataOrder) else after
            if not isinstance(preceding, str) or not preceding.strip():
                raise ValueError(f"after: expected an order or an order id, got {after!r}")
            await self._ctx.transport.request(
                "PATCH",
                f"/order/{self.id}",
                op_id="order_order_id_patch",
                json=wire.UpdateOrderInput(preceding_order_id=preceding),
            )
        await self._ctx.transport.request(
            "POST",
            f"/order/{self.id}/submit",
            op_id="order_order_id_submit_post",
            json=wire.SubmitOrderInput(ignore_failed_datapoints=True),
            idempotent=False,
        )
        echo(f"Order '{self.name}' is now viewable under: {self.url}")
        return self

    async def get_status(self) -> OrderState:
        """The order's state (``GET /order/{id}``)."""
        return (await self._get()).state

    async def created_at(self) -> datetime:
        """When the order was placed (``orderDate`` of ``GET /order/{id}``)."""
        return (await self._get()).order_date

    def _check(self, order: wire.OrderOutput) -> None:
        if order.state == "Failed":
            reason = order.failure_message or "no reason given"
            raise JobFailedError(f"order {self.id} failed: {reason}")
        if order.state in BLOCKED:
            raise JobBlockedError(
                f"order {self.id} is {order.state}; it needs action in the dashboard before it "
                "can progress"
            )
        if order.state in ("Created", "Preview"):
            raise JobBlockedError(
                f"order {self.id} is {order.state}: it has not been run; call `await "
                "order.run()` first"
            )

    async def progress(
        self,
        *,
        poll_cap: float | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - a deadline over many polls
    ) -> AsyncIterator[OrderProgress]:
        """Progress snapshots (each new state once) until the order is Completed or Failed.

        Polls ``GET /order/{id}`` as ``Job.progress()`` polls a job (fast first, then every
        few seconds, at most every ``poll_cap``; through connection errors, 5xx and 429).
        Raises ``JobFailedError`` when the order fails, ``JobBlockedError`` when it is paused,
        in manual review, or was never run; ``WaitTimeoutError`` past ``timeout`` seconds.
        """
        last: OrderProgress | None = None

        async def fetch() -> OrderProgress:
            order = await self._get()
            self._check(order)
            pct = 100.0 if order.state == "Completed" else 0.0
            return OrderProgress(state=order.state, completion_percentage=pct)

        def describe() -> str:
            return f"order {self.id} did not finish" + (
                f" (last seen {last.state})" if last else ""
            )

        async for snapshot in poll(
            self._ctx, fetch, timeout=timeout, describe=describe, cap=poll_cap
        ):
            if snapshot != last:
                last = snapshot
                yield snapshot
            if snapshot.done:
                return

    async def display_progress_bar(
        self,
        refresh_rate: float | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a deadline over many polls
    ) -> None:
        """A progress bar on stderr until the order is done (drawn as ``Job``'s is: only on a
        terminal, never in ``silent_mode``); ``refresh_rate`` caps the seconds between polls."""
        from .._progress import ProgressBar

        with ProgressBar(total=100.0, desc=self.name, unit="%") as bar:
            async for p in self.progress(poll_cap=refresh_rate, timeout=timeout):
                bar.set(p.completion_percentage, state=p.state)

    async def get_results(self, *, timeout: float | None = None) -> JobResults:  # noqa: ASYNC109
        """Wait for completion, then ``GET /order/{id}/download-results``: the same results
        document (``JobResults``) as a job's. A ``StaleResults`` order is re-run first
        (``POST /order/{id}/retry``); ``timeout`` is a deadline in seconds for the whole call.
        """
        started = anyio.current_time()
        if await self.get_status() == "StaleResults":
            await self._ctx.transport.request(
                "POST", f"/order/{self.id}/retry", op_id="order_order_id_retry_post"
            )
        async for _ in self.progress(timeout=timeout):
            pass
        left = None if timeout is None else max(0.001, started + timeout - anyio.current_time())
        raw = await self._ctx.transport.request(
            "GET",
            f"/order/{self.id}/download-results",
            op_id="order_order_id_download_results_get",
            timeout=left,
        )
        return JobResults.from_bytes(raw)
