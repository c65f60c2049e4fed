"""``client.mri``: create, find and fetch benchmarks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import _validate as check
from .._logging import echo
from .._paging import Listing
from .._uploads import UploadTracker
from .._wire import mri as wire
from . import _checks as checks
from ._benchmark import RapidataBenchmark
from ._types import Origin, Tag

if TYPE_CHECKING:
    from .._context import ClientContext


class RapidataBenchmarkManager:
    """Benchmarks (``client.mri``): a benchmark holds prompts, the models evaluated on them
    and the leaderboards ranking those models."""

    def __init__(self, ctx: ClientContext) -> None:
        self._ctx = ctx

    async def create_new_benchmark(
        self,
        name: str,
        identifiers: list[str] | None = None,
        prompts: list[str | None] | list[str] | None = None,
        prompt_assets: list[list[str] | None] | list[list[str]] | list[str] | None = None,
        tags: Sequence[Sequence[str | Tag] | None] | None = None,
        origins: Sequence[str | Origin | None] | None = None,
        *,
        upload_progress: UploadTracker | None = None,
    ) -> RapidataBenchmark:
        """Create a benchmark, with its prompts when given (as ``add_prompts``).

        The prompts are checked first. On the wire: ``POST /benchmark {"name"}``, then the
        prompt assets and ``POST /benchmark/{id}/prompt`` per prompt, concurrently. Failed
        prompts raise ``FailedUploadException`` whose ``benchmark`` exists with the others.
        """
        check.name(name)
        given = (identifiers, prompts, prompt_assets, tags, origins)
        specs = checks.prompts(*given) if any(v is not None for v in given) else []
        out = await self._ctx.transport.request(
            "POST",
            "/benchmark",
            op_id="benchmark_post",
            json=wire.CreateBenchmarkInput(name=name),
            response_type=wire.CreateBenchmarkOutput,
        )
        benchmark = RapidataBenchmark(self._ctx, id=out.id, name=name)
        echo(f"Benchmark created: {name!r} ({benchmark.id})")
        if specs:
            await benchmark._add(specs, upload_progress, check_existing=False)
        return benchmark

    def find_benchmarks(
        self, name: str = "", amount: int = 10, page: int = 1
    ) -> Listing[RapidataBenchmark]:
        """Newest first: ``GET /benchmarks?name[contains]=…&sort=-created_at``; ``await`` it
        for one page, ``async for`` over it for all matches."""
        return Listing(
            self._ctx,
            path="/benchmarks",
            op_id="benchmarks_get",
            item_type=wire.BenchmarkListItem,
            wrap=lambda b: RapidataBenchmark(self._ctx, id=b.id, name=b.name),
            name=name,
            amount=amount,
            page=page,
        )

    async def get_benchmark_by_id(self, id: str) -> RapidataBenchmark:
        """``GET /benchmark/{id}``."""
        check.resource_id(id, "id")
        out = await self._ctx.transport.request(
            "GET",
            f"/benchmark/{id}",
            op_id="benchmark_benchmark_id_get",
            response_type=wire.BenchmarkOutput,
        )
        return RapidataBenchmark(self._ctx, id=out.id, name=out.name)
