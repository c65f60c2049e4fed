"""The crowd seam without a store: the simulated crowd answers a task board one response at a
time, paced by a clock; a small pool leaves datapoints open instead of finishing them."""

from __future__ import annotations

import time

import anyio
import pytest

from rapidata_async.local.crowd.base import OpenWork, TaskBoard
from rapidata_async.local.crowd.clock import InstantClock, Pace, RealisticClock
from rapidata_async.local.crowd.population import AudienceSpec, Crowd, ExampleSpec
from rapidata_async.local.crowd.simulated import Pool, SimulatedCrowd
from rapidata_async.local.domain.referee import RefereeRule, Tally
from rapidata_async.local.domain.tasks import TaskSpec
from rapidata_async.local.store.base import ResponseRecord


def _sim(crowd: Crowd, pace: Pace | None = None) -> SimulatedCrowd:
    async def pools(audience_id: str) -> Pool:
        kind = "global" if audience_id == "global" else "curated"
        return Pool(crowd.qualify(AudienceSpec(audience_id, kind, audience_id)))  # type: ignore[arg-type]

    return SimulatedCrowd(crowd, pools, pace)


async def _run_job(
    board: TaskBoard,
    job_id: str,
    audience_id: str,
    rule: RefereeRule,
    n: int,
    *,
    until_idle: float | None = None,
) -> tuple[list[ResponseRecord], dict[str, Tally]]:
    """What the engine does with a job's stream, minus the store: referee, settle, done."""
    tasks = [TaskSpec(f"{job_id}-{i}", "classify", ["a", "b", "c"]) for i in range(n)]
    tallies = {f"dp{i}": rule.tally(t.options) for i, t in enumerate(tasks)}
    work = [OpenWork(f"dp{i}", t, frozenset(), rule.max_votes) for i, t in enumerate(tasks)]
    stream = board.publish(job_id, audience_id, work)
    got: list[ResponseRecord] = []
    remaining = n
    while remaining:
        if until_idle is None:
            response = await stream.receive()
        else:
            with anyio.move_on_after(until_idle) as scope:
                response = await stream.receive()
            if scope.cancelled_caught:
                break
        tally = tallies[response.datapoint_id]
        if tally.done:
            board.settle(job_id, response.datapoint_id, 0)
            continue
        got.append(response)
        done = tally.add(response.answer, response.user_score)
        remaining -= done
        board.settle(job_id, response.datapoint_id, 0 if done else tally.room())
    board.withdraw(job_id)
    return got, tallies


async def test_naive_job_gets_exactly_its_votes_from_distinct_labelers() -> None:
    crowd = Crowd(seed=0, size=300)
    board = TaskBoard()
    async with anyio.create_task_group() as tg:
        tg.start_soon(_sim(crowd).run, board)
        got, tallies = await _run_job(board, "j1", "global", RefereeRule("naive", 7), 50)
        tg.cancel_scope.cancel()
    assert len(got) == 50 * 7
    per_dp: dict[str, set[str]] = {}
    for r in got:
        per_dp.setdefault(r.datapoint_id, set()).add(r.labeler_id)
        assert r.answer in ("a", "b", "c") and r.labeler_id.startswith("sim:")
    assert all(len(labelers) == 7 for labelers in per_dp.values())
    assert all(t.done and t.count == 7 for t in tallies.values())


async def test_same_seed_same_answers_per_labeler_and_datapoint() -> None:
    results = []
    for _ in range(2):
        board = TaskBoard()
        async with anyio.create_task_group() as tg:
            tg.start_soon(_sim(Crowd(seed=4, size=200)).run, board)
            got, _ = await _run_job(board, "j", "global", RefereeRule("naive", 5), 20)
            tg.cancel_scope.cancel()
        results.append([(r.datapoint_id, r.labeler_id, r.answer, r.user_score) for r in got])
    assert results[0] == results[1]


async def test_early_stopping_wastes_no_answers() -> None:
    """The board hands a datapoint to one labeler at a time under early stopping, so no answer
    arrives after its datapoint closed."""
    crowd = Crowd(seed=0, size=500)
    board = TaskBoard()
    rule = RefereeRule("early_stopping", 30, 0.99)
    async with anyio.create_task_group() as tg:
        tg.start_soon(_sim(crowd).run, board)
        got, tallies = await _run_job(board, "es", "global", rule, 40)
        tg.cancel_scope.cancel()
    assert len(got) == sum(t.count for t in tallies.values())
    assert sum(t.count for t in tallies.values()) < 40 * 30


async def test_small_pool_leaves_datapoints_open() -> None:
    """10 responses wanted, 4 labelers exist: each datapoint gets 4 and stays open."""
    crowd = Crowd(seed=2, size=4)
    board = TaskBoard()
    async with anyio.create_task_group() as tg:
        tg.start_soon(_sim(crowd).run, board)
        got, tallies = await _run_job(
            board, "small", "global", RefereeRule("naive", 10), 5, until_idle=0.5
        )
        tg.cancel_scope.cancel()
    assert len(got) == 5 * 4
    assert not any(t.done for t in tallies.values())


async def test_one_audience_does_not_hold_up_another() -> None:
    """A job on a second audience finishes while a big one on the first is still running."""
    crowd = Crowd(seed=0, size=300)
    board = TaskBoard()
    finished: list[str] = []

    async def job(job_id: str, audience: str, n: int) -> None:
        await _run_job(board, job_id, audience, RefereeRule("naive", 5), n)
        finished.append(job_id)

    async with anyio.create_task_group() as tg:
        tg.start_soon(_sim(crowd).run, board)
        async with anyio.create_task_group() as jobs:
            jobs.start_soon(job, "big", "global", 1000)
            await anyio.sleep(0.05)
            jobs.start_soon(job, "small", "alignment", 3)
        tg.cancel_scope.cancel()
    assert finished == ["small", "big"]


async def test_realistic_pace_takes_crowd_time() -> None:
    """At speed 2000 the 50 labelers show up over 0.3 s (600 crowd seconds): 15 answers take
    a noticeable but short wall time."""
    crowd = Crowd(seed=0, size=50)
    board = TaskBoard()
    started = time.monotonic()
    async with anyio.create_task_group() as tg:
        tg.start_soon(_sim(crowd, Pace("realistic", 2000)).run, board)
        got, _ = await _run_job(board, "slow", "global", RefereeRule("naive", 3), 5)
        tg.cancel_scope.cancel()
    assert len(got) == 15
    # labelers arrive within ARRIVAL_SPREAD (600 crowd seconds) and answer in seconds
    assert 0.02 < time.monotonic() - started < 10


async def test_clocks() -> None:
    clock = InstantClock(yield_every=2)
    await clock.sleep_until(5.0)
    await clock.sleep_until(3.0)
    assert clock.now() == 5.0
    real = RealisticClock(1000.0)
    before = time.monotonic()
    await real.sleep_until(real.now() + 50.0)  # 50 crowd seconds = 0.05 s
    assert time.monotonic() - before >= 0.04
    with pytest.raises(ValueError, match="speed"):
        Pace("realistic", 0)
    with pytest.raises(ValueError, match="pace"):
        Pace("fast")


def test_custom_qualification_in_bounded_steps_with_graduation_times() -> None:
    crowd = Crowd(seed=0, size=600)
    examples = [ExampleSpec("compare", ["a", "b"], ["a"], f"e{i}") for i in range(4)]
    spec = AudienceSpec("c", "custom", None, examples)
    steps = crowd.qualification_steps(spec, min_tasks=20)
    n_steps = sum(1 for _ in steps)
    assert n_steps == 3  # 600 candidates, 200 per step
    qual = crowd.qualify_cached(spec, 0.75, 20)
    assert qual is not None and qual.user_scores
    # graduating takes about min_tasks answers of a few seconds each
    assert set(qual.ready_at) == set(qual.user_scores)
    assert all(20 * 0.5 < t < 20 * 30 for t in qual.ready_at.values())
