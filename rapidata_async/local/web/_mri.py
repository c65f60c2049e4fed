"""``GET /mri/benchmarks/{benchmarkId}`` and ``…/leaderboard/{leaderboardId}``: a benchmark's
prompts, participants and leaderboards, and a leaderboard's standings with their 95 %
intervals drawn as an inline SVG (computed here, no script).

Like the other pages they show one benchmark by its unguessable id (the link
``benchmark.view()`` hands out); a leaderboard only under its own benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from ..._wire import mri as wire
from .._context import ctx
from ..domain.errors import NotFound
from ..services._standings import StandingsFilter
from ..store.base import ANY_OWNER, BenchmarkRow, LeaderboardRow
from ._render import not_found, page

SHOWN_PROMPTS = 200
# The standings plot: a label column, then the score axis.
PLOT_WIDTH = 640
LABEL_WIDTH = 170
ROW_HEIGHT = 28
TOP = 24


@dataclass(frozen=True, slots=True)
class PlotRow:
    y: float
    name: str
    score: float
    x: float
    x_low: float
    x_high: float


@dataclass(frozen=True, slots=True)
class Plot:
    width: int
    height: int
    rows: list[PlotRow]
    ticks: list[tuple[float, int]]  # (x, score)
    axis_from: float
    axis_to: float


def _ticks(low: float, high: float) -> list[int]:
    span = max(high - low, 1.0)
    steps = (10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000)
    step = next((s for s in steps if span / s <= 6), 10_000)
    first = int(low // step + 1) * step
    return list(range(first, int(high) + 1, step))


def plot(items: list[wire.StandingItem]) -> Plot | None:
    """Each participant's score as a dot on its 95 % interval, best on top."""
    shown = [i for i in items if i.score is not None]
    if not shown:
        return None
    low = min(i.ci_low if i.ci_low is not None else i.score or 0.0 for i in shown)
    high = max(i.ci_high if i.ci_high is not None else i.score or 0.0 for i in shown)
    pad = max((high - low) * 0.08, 10.0)
    low, high = low - pad, high + pad
    span = PLOT_WIDTH - LABEL_WIDTH - 20

    def x(score: float) -> float:
        return round(LABEL_WIDTH + (score - low) / (high - low) * span, 1)

    rows = []
    for k, item in enumerate(shown):
        score = item.score or 0.0
        rows.append(
            PlotRow(
                y=TOP + k * ROW_HEIGHT + ROW_HEIGHT / 2,
                name=item.name,
                score=round(score, 1),
                x=x(score),
                x_low=x(item.ci_low if item.ci_low is not None else score),
                x_high=x(item.ci_high if item.ci_high is not None else score),
            )
        )
    height = TOP + len(rows) * ROW_HEIGHT + 8
    return Plot(
        width=PLOT_WIDTH,
        height=height,
        rows=rows,
        ticks=[(x(t), t) for t in _ticks(low, high)],
        axis_from=LABEL_WIDTH,
        axis_to=PLOT_WIDTH - 20,
    )


async def benchmark_page(request: web.Request) -> web.Response:
    store = ctx(request).store
    benchmark_id = request.match_info["benchmarkId"]
    try:
        benchmark = await store.benchmarks.get(benchmark_id, owner=ANY_OWNER)
    except NotFound:
        return not_found("Benchmark", f"No benchmark {benchmark_id}.")
    prompts, prompt_count = await store.benchmarks.prompts(benchmark.id, None, owner=ANY_OWNER)
    participants, _ = await store.benchmarks.participants(benchmark.id, None, owner=ANY_OWNER)
    boards, _ = await store.benchmarks.leaderboards(benchmark.id, None, owner=ANY_OWNER)
    return page(
        "mri.html",
        title=benchmark.name,
        benchmark=benchmark,
        prompts=prompts[:SHOWN_PROMPTS],
        prompt_count=prompt_count,
        participants=participants,
        leaderboards=boards,
    )


async def leaderboard_page(request: web.Request) -> web.Response:
    context = ctx(request)
    store = context.store
    benchmark_id = request.match_info["benchmarkId"]
    leaderboard_id = request.match_info["leaderboardId"]
    benchmark: BenchmarkRow | None = None
    board: LeaderboardRow | None = None
    try:
        benchmark = await store.benchmarks.get(benchmark_id, owner=ANY_OWNER)
        board = await store.benchmarks.leaderboard(leaderboard_id, owner=ANY_OWNER)
    except NotFound:
        pass
    if benchmark is None or board is None or board.benchmark_id != benchmark_id:
        return not_found(
            "Leaderboard", f"No leaderboard {leaderboard_id} in benchmark {benchmark_id}."
        )
    result = await context.standings.query(store, board, StandingsFilter())
    return page(
        "mri_leaderboard.html",
        title=board.spec.name,
        benchmark=benchmark,
        board=board,
        standings=result,
        plot=plot(result.items),
    )
