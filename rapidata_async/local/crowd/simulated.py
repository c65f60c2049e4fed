"""The simulated crowd as a response source: labelers of an audience's pool arrive over clock
time, take open tasks from the board one after another, and answer after their own latency.

One worker per audience with open jobs, so a heavy audience never holds up another. A worker
keeps its labelers in a heap by the crowd time of their next event:

- a labeler *arrives* (first after ``ready_at`` for custom audiences: the pool grows while a
  job runs; then after each break) and starts a session of a few tasks;
- for each task they ask the board for a datapoint they have not answered, in any open job of
  the audience, and their answer (``Crowd.answer``) arrives ``answer_ms`` later;
- nothing to take: they idle until the board changes (new job, a datapoint needing more).

With ``InstantClock`` no one waits: events are handled in time order as fast as the engine
takes the responses. Answers are deterministic per (seed, datapoint, labeler); which labeler
gets which datapoint follows the event order.
"""

from __future__ import annotations

import bisect
import heapq
import logging
import math
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

import anyio
import anyio.lowlevel
import anyio.to_thread

from ..store.base import ResponseRecord
from .base import OpenTask, TaskBoard
from .clock import Clock, InstantClock, Pace
from .population import AudienceSpec, Crowd, Prepared, Qualification, _unit

__all__ = ["Pool", "SimulatedCrowd", "labeler_key"]

log: logging.Logger = logging.getLogger("rapidata_async.local")

ARRIVAL_SPREAD = 600.0
"""Crowd seconds over which a pool's labelers first show up."""
SESSION_TASKS = (5, 30)
"""Tasks per session (uniform)."""
BREAK_SECONDS = (600.0, 3600.0)
"""Pause between sessions (uniform)."""
QUALIFY_STEPS_PER_CALL = 4
"""Qualification chunks per worker-thread call (see ``Crowd.qualification_steps``)."""
_PREPARED_CACHE = 50_000


def labeler_key(labeler_id: int) -> str:
    """The stored ``labeler_id`` of a simulated labeler."""
    return f"sim:{labeler_id}"


@dataclass(frozen=True, slots=True)
class Pool:
    """Who may answer an audience's tasks, and since when (wall-clock epoch seconds; the
    custom audiences' ``ready_at`` count from there)."""

    qualification: Qualification
    recruiting_started: float | None = None


PoolLookup = Callable[[str], Awaitable[Pool]]


def _advance(steps: Iterator[None], n: int) -> bool:
    for _ in range(n):
        if next(steps, StopIteration) is StopIteration:
            return True
    return False


class SimulatedCrowd:
    """The simulated crowd behind the task board (a ``ResponseSource``)."""

    def __init__(self, crowd: Crowd, pools: PoolLookup, pace: Pace | None = None) -> None:
        self.crowd = crowd
        self.pace: Pace = pace or Pace()
        self._pools = pools
        self._workers: set[str] = set()
        self._ready: dict[str, tuple[Clock, list[float]]] = {}
        self._locks: dict[str, anyio.Lock] = {}
        self._prepared: dict[str, Prepared] = {}

    # -- qualification -----------------------------------------------------------------------
    async def qualify(
        self, audience: AudienceSpec, *, target_accuracy: float = 0.75, min_tasks: int = 10
    ) -> Qualification:
        """``Crowd.qualify`` in a worker thread, a few bounded chunks per call, so a huge
        custom audience neither blocks the event loop nor outlives a cancellation by long.
        Concurrent calls for one audience compute it once."""
        crowd = self.crowd
        cached = crowd.qualify_cached(audience, target_accuracy, min_tasks)
        if cached is not None:
            return cached
        lock = self._locks.setdefault(audience.id, anyio.Lock())
        async with lock:
            steps = crowd.qualification_steps(
                audience, target_accuracy=target_accuracy, min_tasks=min_tasks
            )
            while not await anyio.to_thread.run_sync(_advance, steps, QUALIFY_STEPS_PER_CALL):
                pass
        result = crowd.qualify_cached(audience, target_accuracy, min_tasks)
        assert result is not None
        return result

    def qualified(self, audience_id: str) -> int | None:
        """Labelers of the audience's pool who have qualified by now (custom audiences grow
        over clock time); None when no worker serves the audience."""
        entry = self._ready.get(audience_id)
        if entry is None:
            return None
        clock, ready = entry
        return bisect.bisect_right(ready, clock.now())

    # -- the source --------------------------------------------------------------------------
    async def run(self, board: TaskBoard) -> None:
        """Serve every audience with open jobs until cancelled."""
        async with anyio.create_task_group() as tg:
            while True:
                for audience_id in board.audiences():
                    if audience_id not in self._workers:
                        self._workers.add(audience_id)
                        tg.start_soon(self._serve_audience, board, audience_id)
                await board.wait_published()

    async def _serve_audience(self, board: TaskBoard, audience_id: str) -> None:
        try:
            pool = await self._pools(audience_id)
            await self._work(board, audience_id, pool)
        except Exception:
            log.exception("simulated crowd of audience %s failed", audience_id)
        finally:
            self._workers.discard(audience_id)
            self._ready.pop(audience_id, None)

    async def _work(self, board: TaskBoard, audience_id: str, pool: Pool) -> None:
        crowd, seed = self.crowd, self.crowd.seed
        clock = self.pace.clock()
        qual = pool.qualification
        started = clock.now()
        if pool.recruiting_started is not None:
            started = min(started, clock.from_wall(pool.recruiting_started))
        now = clock.now()
        ready = {lid: started + qual.ready_at.get(lid, 0.0) for lid in qual.pool}
        if clock.instant:
            ready = dict.fromkeys(qual.pool, now)
        self._ready[audience_id] = (clock, sorted(ready.values()))
        # (crowd time, tie-break, labeler): one event per labeler at a time. What an answer
        # in flight belongs to lives beside the heap, so the heap's tuples hold only numbers
        # and the garbage collector stops tracking them (a million of them otherwise end up
        # in the oldest generation, and every full collection walks them).
        heap: list[tuple[float, int, int]] = []
        holding: list[OpenTask | None] = [None] * len(crowd.labelers)
        answers: list[ResponseRecord | None] = [None] * len(crowd.labelers)
        seq = 0
        for lid in qual.pool:
            arrive = max(now, ready[lid]) + _unit(seed, "arrive", audience_id, lid) * (
                ARRIVAL_SPREAD
            )
            heap.append((arrive, seq, lid))
            seq += 1
        heapq.heapify(heap)
        # per labeler id: tasks left in the current session (-1: not started), sessions done
        left = [-1] * len(crowd.labelers)
        sessions = [0] * len(crowd.labelers)
        idle: list[int] = []
        seen = board.version(audience_id)
        labelers = crowd.labelers
        scores = qual.user_scores
        keys = [labeler_key(lid) for lid in range(len(labelers))]
        # what every response of a labeler carries besides the answer, built once
        profiles = {
            lid: (
                keys[lid],
                scores[lid],
                labelers[lid].country,
                labelers[lid].language,
                labelers[lid].age,
                labelers[lid].gender,
                labelers[lid].occupation,
            )
            for lid in qual.pool
        }
        next_task, version = board.next_task, board.version
        submit_nowait, answer_of = board.submit_nowait, crowd.answer
        prepared_of, prepare = self._prepared.get, self._prepare
        push, pop, replace = heapq.heappush, heapq.heappop, heapq.heapreplace
        # instant pace: time jumps without a coroutine per event (the hot path of tests)
        advance = clock.advance if isinstance(clock, InstantClock) else None
        checkpoint = anyio.lowlevel.checkpoint
        while True:
            if idle and version(audience_id) != seen:
                seen = version(audience_id)
                t = clock.now()
                for lid in idle:
                    push(heap, (t, seq, lid))
                    seq += 1
                idle.clear()
            if not heap:
                if not board.has_work(audience_id):
                    return
                with anyio.move_on_after(1.0):
                    await board.wait_changed(audience_id)
                seen = -1  # wake the idle labelers and look again
                continue
            # The labeler's event stays on the heap until their next one replaces it (one sift
            # instead of two); the heap is this task's own, so awaiting in between is fine.
            t, _, lid = heap[0]
            if advance is None:
                await clock.sleep_until(t)
            elif advance(t):
                await checkpoint()
            task, record = holding[lid], answers[lid]
            if task is not None and record is not None:
                holding[lid] = answers[lid] = None
                try:
                    submit_nowait(task, record)
                except anyio.WouldBlock:
                    await board.submit(task, record)
            n_left = left[lid]
            if n_left <= 0:
                if n_left == 0:
                    # session over: a break, then a new session
                    sessions[lid] += 1
                    low, high = BREAK_SECONDS
                    pause = low + (high - low) * _unit(seed, "break", lid, sessions[lid])
                    left[lid] = self._session_length(lid, sessions[lid])
                    replace(heap, (t + pause, seq, lid))
                    seq += 1
                    continue
                left[lid] = n_left = self._session_length(lid, 0)
            key, score, country, language, age, gender, occupation = profiles[lid]
            open_task = next_task(audience_id, key)
            if open_task is None:
                pop(heap)
                idle.append(lid)
                continue
            prepared = prepared_of(open_task.task.key) or prepare(open_task)
            if prepared is None:
                # a task no one can answer stays handed out: offering it again would loop
                pop(heap)
                idle.append(lid)
                continue
            answer, ms = answer_of(prepared, lid)
            record = ResponseRecord(
                open_task.job_id,
                open_task.datapoint_id,
                key,
                answer,
                score,
                country,
                language,
                age,
                gender,
                occupation,
            )
            left[lid] = n_left - 1
            holding[lid], answers[lid] = open_task, record
            replace(heap, (t + ms / 1000.0, seq, lid))
            seq += 1

    def _session_length(self, lid: int, session: int) -> int:
        low, high = SESSION_TASKS
        return low + math.floor((high - low + 1) * _unit(self.crowd.seed, "session", lid, session))

    def _prepare(self, task: OpenTask) -> Prepared | None:
        key = task.task.key
        prepared = self._prepared.get(key)
        if prepared is None:
            try:
                prepared = self.crowd.prepare(task.task)
            except ValueError as exc:
                log.warning("job %s: %s", task.job_id, exc)
                return None
            if len(self._prepared) >= _PREPARED_CACHE:
                self._prepared.clear()
            self._prepared[key] = prepared
        return prepared
