"""``FlowItem``: one batch of a ranking flow; its state, results and win/loss matrix."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING

from .._context import poll
from .._exceptions import FlowItemFailedError
from .._types import FlowItemState
from .._wire import flow as wire
from ._results import FlowItemResult, flow_item_result, matrix_pandas, matrix_polars

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

    from .._context import ClientContext

TERMINAL: frozenset[FlowItemState] = frozenset({"Completed", "Failed", "Stopped", "Incomplete"})
"""States a flow item does not leave; results can be read in all of them but ``Failed``."""

POLL_CAP = 1.0
"""Seconds between two state polls at most (the official client polls every second)."""


class FlowItem:
    """One batch of datapoints ranked by a flow (``POST /flow/ranking/{flowId}/item``).

    It runs until enough responses came in (``Completed``) or its time to live ended
    (``Incomplete``: partial results), or it is stopped or fails.
    """

    def __init__(
        self,
        ctx: ClientContext,
        *,
        id: str,
        flow_id: str,
        dataset_id: str | None = None,
        created_at: datetime | None = None,
    ) -> None:
        self._ctx = ctx
        self.id: str = id
        """The flow item id."""
        self.flow_id: str = flow_id
        """The flow it belongs to."""
        self.dataset_id: str | None = dataset_id
        """The dataset holding its datapoints (None when not known yet)."""
        self.created_at: datetime | None = created_at
        """When the server created it (None when the answer did not say)."""

    def __repr__(self) -> str:
        return f"FlowItem(id={self.id!r}, flow_id={self.flow_id!r})"

    async def _get(self) -> wire.FlowItemOutput:
        out = await self._ctx.transport.request(
            "GET",
            f"/flow/ranking/item/{self.id}",
            op_id="flow_ranking_item_flow_item_id_get",
            response_type=wire.FlowItemOutput,
        )
        self.dataset_id, self.created_at = out.dataset_id, out.created_at
        return out

    async def get_status(self) -> FlowItemState:
        """The item's state (``GET /flow/ranking/item/{id}``): ``Pending``, ``Running``,
        ``Completed``, ``Failed``, ``Stopping``, ``Stopped`` or ``Incomplete``."""
        return (await self._get()).state

    async def progress(
        self,
        *,
        poll_cap: float | None = None,
        timeout: float | None = None,
    ) -> AsyncIterator[FlowItemState]:
        """The item's states as they change, ending with a final one (``Completed``,
        ``Failed``, ``Stopped`` or ``Incomplete``, which is yielded too)::

            async for state in item.progress(timeout=600):
                print(state)

        Polls ``GET /flow/ranking/item/{id}``, quickly at first, then every second at most
        (``poll_cap`` seconds). Polls that fail on a connection error, 5xx or 429 are logged
        and retried, as ``Job.progress()`` does. ``timeout`` is a deadline in seconds for
        the whole wait (``WaitTimeoutError``; the item goes on).
        """
        async for out in self._watch(poll_cap, timeout):
            yield out.state

    async def _watch(
        self,
        poll_cap: float | None,
        timeout: float | None,
    ) -> AsyncIterator[wire.FlowItemOutput]:
        """The item as polled, each time its state changed, until it is final."""
        last: FlowItemState | None = None

        def describe() -> str:
            seen = f" (last seen {last})" if last else ""
            return f"flow item {self.id} did not finish{seen}"

        async for out in poll(
            self._ctx,
            self._get,
            timeout=timeout,
            describe=describe,
            cap=POLL_CAP if poll_cap is None else poll_cap,
        ):
            if out.state != last:
                last = out.state
                yield out
            if out.state in TERMINAL:
                return

    async def wait(self, *, timeout: float | None = None) -> FlowItemState:
        """Poll as ``progress()`` until the item is in a final state and return that state;
        ``timeout`` is a deadline in seconds (``WaitTimeoutError``)."""
        return (await self._final(timeout)).state

    async def _final(self, timeout: float | None) -> wire.FlowItemOutput:
        final: wire.FlowItemOutput | None = None
        async for out in self._watch(None, timeout):
            final = out
        assert final is not None  # _watch() yields at least the final state
        return final

    async def _finished(self, timeout: float | None) -> None:
        final = await self._final(timeout)
        if final.state == "Failed":
            raise FlowItemFailedError(
                f"flow item {self.id} failed: {final.failure_message or 'no reason given'}"
            )

    async def get_results(self, *, timeout: float | None = None) -> FlowItemResult:
        """Wait until the item is final, then ``GET /flow/ranking/item/{id}/results``.

        Returns the datapoints ranked by Elo (``Incomplete`` items give partial results).
        Raises ``FlowItemFailedError`` when the item failed; ``timeout`` is a deadline in
        seconds for the wait (``WaitTimeoutError``).
        """
        await self._finished(timeout)
        out = await self._ctx.transport.request(
            "GET",
            f"/flow/ranking/item/{self.id}/results",
            op_id="flow_ranking_item_flow_item_id_results_get",
            response_type=wire.RankingResultsOutput,
        )
        return flow_item_result(out)

    async def _matrix(self, timeout: float | None) -> wire.VoteMatrixOutput:
        await self._finished(timeout)
        return await self._ctx.transport.request(
            "GET",
            f"/flow/ranking/item/{self.id}/vote-matrix",
            op_id="flow_ranking_item_flow_item_id_vote_matrix_get",
            response_type=wire.VoteMatrixOutput,
        )

    async def get_win_loss_matrix(self, *, timeout: float | None = None) -> pl.DataFrame:
        """Wait until the item is final, then ``GET /flow/ranking/item/{id}/vote-matrix``.

        A polars frame: the ``datapoint`` column holds the row labels, then one column per
        datapoint; the cell in row ``a``, column ``b`` is how often ``a`` was preferred over
        ``b``. Labels are the result keys (``FlowItemResult.ranking[i].key``).
        """
        return matrix_polars(await self._matrix(timeout))

    async def get_win_loss_matrix_pandas(self, *, timeout: float | None = None) -> pd.DataFrame:
        """As ``get_win_loss_matrix()``, as the official client's pandas frame indexed by the
        labels: ``matrix.loc[a, b]`` (needs the ``pandas`` extra)."""
        return matrix_pandas(await self._matrix(timeout))

    async def get_response_count(self, *, timeout: float | None = None) -> int:
        """Pairwise responses collected: the sum of the win/loss matrix (one
        ``GET …/vote-matrix`` after the item is final; there is no count endpoint)."""
        out = await self._matrix(timeout)
        return round(sum(sum(row) for row in out.data))
