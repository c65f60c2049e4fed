"""One job's run: publish its open datapoints on the task board, pass every response through
the referee, persist them in batches, and finish the job.

A run rebuilds everything from the store: the referee state of each datapoint is a fold over
its stored responses, and ``Jobs.record`` is idempotent per (job, datapoint, labeler), so a run
resumed after a crash (or taken over by another process) never counts a response twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any, Protocol

import anyio
import anyio.to_thread
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ..crowd.base import OpenWork, ResponseStream, TaskBoard
from ..crowd.clock import Pace
from ..domain.errors import NotFound
from ..domain.referee import RefereeRule, Tally
from ..domain.tasks import TaskError, TaskSpec, allows_unsure, rapid_of, task_for
from ..store.base import (
    ANY_OWNER,
    AudienceRow,
    DatapointRow,
    JobWork,
    ResponseRecord,
    Store,
    ValidationAnswer,
)
from ._validation import Validator, load_validator

log = logging.getLogger("rapidata_async.local")

FINAL_STATES = frozenset({"Completed", "Failed"})
FLUSH_SECONDS = 0.1
"""Longest a received response waits before it is persisted."""
FLUSH_RESPONSES = 2000
"""Responses persisted per ``Jobs.record`` call at most."""
FULL_FLUSH = 500
LAZY_FLUSH_SECONDS = 0.5
"""Fewer than FULL_FLUSH responses wait up to this long before they are persisted: with many
jobs at once each job's share of the answers is small, and a transaction per job every
FLUSH_SECONDS would cost the store more than the responses themselves. Instant pace only:
at realistic pace answers trickle in and progress should show them within FLUSH_SECONDS. A
job's last responses are persisted at once."""
SMALL_BATCH = 256
LINGER_SECONDS = 0.05
"""After a wake-up that found fewer than SMALL_BATCH responses, wait this long before the
next: with many jobs at once each job's share of the crowd's answers is small, and waking a
job per response or two would cost more than the referee's work."""
WRITES_AHEAD = 4
"""Batches waiting for the store before the referee waits too."""
REASON_SECONDS = 1.0
"""How often a running job checks whether it waits for labelers."""
PRECEDING_POLL = 0.25
PEOPLE_REASON = "waiting for people: they answer on the labeling page /label of this backend"
_NOBODY: frozenset[str] = frozenset()

Write = tuple[list[ResponseRecord], list[str], list[ValidationAnswer]]
"""One batch for the store: responses, datapoints closed, validation answers."""


def build_tasks(
    datapoints: Sequence[DatapointRow], work: JobWork
) -> tuple[list[TaskSpec], RefereeRule]:
    """Every datapoint's crowd task (``TaskError`` for the first that does not fit)."""
    definition = work.revision.body
    rapid = rapid_of(definition.workflow)
    if rapid is None:
        raise TaskError("the job definition's workflow has neither a rapid nor a blueprint")
    unsure = allows_unsure(definition.rapid_feature_flags)
    tasks = [
        task_for(dp.body, dp.sort_index, position, rapid, unsure)[0]
        for position, dp in enumerate(datapoints)
    ]
    return tasks, RefereeRule.of(definition.referee)


class Runs(Protocol):
    """What a job's run needs from the engine."""

    store: Store
    board: TaskBoard
    pace: Pace
    mode: str  # simulated | human | mixed

    async def ensure_ready(self, audience: AudienceRow, examples: Sequence[Any]) -> object: ...

    def pool_key(self, audience: AudienceRow, filters: Sequence[Any] | None) -> str: ...

    def qualified_so_far(self, audience_id: str) -> int | None: ...


class JobRun:
    """One run of one job; ``run`` returns once it is ``Completed`` (or raises)."""

    def __init__(self, engine: Runs, job_id: str) -> None:
        self.engine = engine
        self.job_id = job_id
        self.reason: str | None = None
        self.writing = False

    async def run(self) -> None:
        engine, job_id = self.engine, self.job_id
        jobs = engine.store.jobs
        work = await jobs.work(job_id)
        if work.job.state in FINAL_STATES:
            return
        if work.job.preceding_job_id:
            await self._wait_for(work.job.preceding_job_id)
        tasks, rule = await anyio.to_thread.run_sync(build_tasks, work.datapoints, work)
        await engine.ensure_ready(work.audience, work.examples)
        await jobs.set_state(job_id, "Running", total=len(work.datapoints))
        tallies: dict[str, Tally] = {}
        open_work: list[OpenWork] = []
        closed: list[str] = []
        for dp, task in zip(work.datapoints, tasks, strict=True):
            if dp.id in work.done:
                continue
            tally = rule.tally(task.options)
            stored = work.responses.get(dp.id, ())
            for response in stored:
                tally.add(response.answer, response.user_score)
            if tally.done:
                closed.append(dp.id)  # stored before a crash, not yet marked done
                continue
            tallies[dp.id] = tally
            answered = frozenset([r.labeler_id for r in stored]) if stored else _NOBODY
            open_work.append(OpenWork(dp.id, task, answered, tally.room()))
        audience, tenant = work.audience, work.job.tenant
        pool = engine.pool_key(audience, work.job.filters)
        validator = await load_validator(engine.store, job_id, work.revision.validation_set_id)
        # What the datapoints were is on the board now: the rows need not stay in memory (one
        # object fewer per field for the garbage collector to walk while responses come in).
        del work, tasks
        if closed:
            await jobs.record(job_id, [], closed)
        if tallies:
            deck = validator.deck() if validator is not None else None
            stream = engine.board.publish(job_id, pool, open_work, tenant=tenant, deck=deck)
            del open_work
            try:
                with stream:
                    await self._consume(stream, tallies, rule, audience, pool, validator)
            finally:
                engine.board.withdraw(job_id)
        await jobs.set_state(job_id, "Completed")

    async def _wait_for(self, job_id: str) -> None:
        jobs = self.engine.store.jobs
        while True:
            try:
                job = await jobs.get(job_id, owner=ANY_OWNER)
            except NotFound:
                return
            if job.state in FINAL_STATES:
                return
            await anyio.sleep(PRECEDING_POLL)

    async def _consume(
        self,
        stream: ResponseStream,
        tallies: dict[str, Tally],
        rule: RefereeRule,
        audience: AudienceRow,
        pool: str,
        validator: Validator | None,
    ) -> None:
        """Take responses off the stream until every datapoint is done. Batches go to a
        writer task, so the referee keeps working while the store writes."""
        send, receive = anyio.create_memory_object_stream[Write](WRITES_AHEAD)
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._writer, receive)
            with send:
                await self._referee(stream, send, tallies, rule, audience, pool, validator)
        if self.reason is not None:
            await self.engine.store.jobs.set_reason(self.job_id, None)

    async def _referee(
        self,
        stream: ResponseStream,
        writes: MemoryObjectSendStream[Write],
        tallies: dict[str, Tally],
        rule: RefereeRule,
        audience: AudienceRow,
        pool: str,
        validator: Validator | None,
    ) -> None:
        job_id, board = self.job_id, self.engine.board
        # Jobs with a validation set: answers to its rapids are checked (never a datapoint's
        # responses) and datapoint responses carry the labeler's score in this job.
        checked = validator.take if validator is not None else None
        adjust = validator.adjust if validator is not None else None
        drain = validator.drain if validator is not None else list
        settle = board.settle
        buffer: list[ResponseRecord] = []
        done: list[str] = []
        remaining = len(tallies)
        last_flush = last_reason = time.monotonic()
        lazy = LAZY_FLUSH_SECONDS if self.engine.pace.kind == "instant" else FLUSH_SECONDS
        receive_nowait = stream.receive_batch_nowait
        while remaining:
            # everything that arrived since the last look, in arrival order
            batch = receive_nowait()
            if not batch:
                with anyio.move_on_after(FLUSH_SECONDS):
                    batch = await stream.receive_batch()
            # The hot path: plain Python, a few operations per response.
            for response in batch:
                dp_id = response.datapoint_id
                tally = tallies.get(dp_id)
                if tally is None or tally.done:
                    if checked is not None and checked(response):
                        continue
                    settle(job_id, dp_id, 0)
                    continue
                if adjust is not None:
                    response = adjust(response)
                buffer.append(response)
                if tally.add(response.answer, response.user_score):
                    done.append(dp_id)
                    remaining -= 1
                    settle(job_id, dp_id, 0)
                else:
                    settle(job_id, dp_id, tally.room())
            now = time.monotonic()
            # While the store is still writing the previous batch, keep collecting: with many
            # jobs at once batches grow until the store keeps up, instead of queueing up tiny
            # transactions.
            waited = now - last_flush
            if len(buffer) >= FLUSH_RESPONSES or (
                (buffer or done)
                and not self.writing
                and waited >= FLUSH_SECONDS
                and (len(buffer) >= FULL_FLUSH or waited >= lazy)
            ):
                await writes.send((buffer, done, drain()))
                buffer, done = [], []
                last_flush = now
            if now - last_reason >= REASON_SECONDS:
                last_reason = now
                await self._update_reason(rule, audience, pool)
            if remaining and len(batch) < SMALL_BATCH:
                await anyio.sleep(LINGER_SECONDS)
        validations = drain()
        if buffer or done or validations:
            await writes.send((buffer, done, validations))

    async def _writer(self, batches: MemoryObjectReceiveStream[Write]) -> None:
        record = self.engine.store.jobs.record
        record_answers = self.engine.store.validation_sets.record_answers
        async with batches:
            async for buffer, done, validations in batches:
                self.writing = True
                if validations:
                    # before the responses whose scores they explain
                    await record_answers(self.job_id, validations)
                for start in range(0, max(len(buffer), 1), FLUSH_RESPONSES):
                    chunk = buffer[start : start + FLUSH_RESPONSES]
                    last = start + FLUSH_RESPONSES >= len(buffer)
                    # datapoints close with their last chunk, so `completed` never runs ahead
                    await record(self.job_id, chunk, done if last else [])
                self.writing = False

    async def _update_reason(self, rule: RefereeRule, audience: AudienceRow, pool: str) -> None:
        """Say why the job waits when some datapoint has been answered by every labeler who
        qualified so far; clear it once that is no longer so."""
        if self.engine.mode == "human":
            if self.reason is None:
                self.reason = PEOPLE_REASON
                await self.engine.store.jobs.set_reason(self.job_id, PEOPLE_REASON)
            return
        qualified = self.engine.qualified_so_far(pool)
        if qualified is None or (qualified >= rule.max_votes and self.reason is None):
            return  # enough labelers for any datapoint: nothing can be stuck
        stuck = sum(
            1
            for task in self.engine.board.open_tasks(self.job_id)
            if task.in_flight == 0 and len(task.answered) >= qualified
        )
        reason = None
        if stuck:
            needs = (
                f"need {rule.max_votes} responses"
                if rule.kind == "naive"
                else f"need more responses (up to {rule.max_votes})"
            )
            reason = (
                f"waiting for labelers: {stuck} datapoint(s) {needs}, {qualified} labeler(s) "
                f"of audience '{audience.name}' qualified so far"
            )
        if reason != self.reason:
            self.reason = reason
            await self.engine.store.jobs.set_reason(self.job_id, reason)
