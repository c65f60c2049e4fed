"""A pairwise ranking session on the task board: the shared runner of ranking flows and MRI
leaderboards.

Interface
---------
The thing being ranked registers a **source** with the engine (``Engine.register_ranking``)
and describes each session by a **plan**; the engine's scanner leases every session the
source calls runnable (lease kind ``"ranking"``, key ``"<source kind>:<session id>"``) and
runs it here, so a session survives a restart or a killed process like a job does::

    class Pairs:                                   # a Matchups provider
        ids = ["a.png", "b.png", "c.png"]          # the items (vote rows name them by id)
        def task(self, i: int, j: int) -> tuple[TaskSpec, str | None]:
            spec = TaskSpec(f"my:{ids[i]}|{ids[j]}", "compare", [label_i, label_j],
                            context="Which is better?")
            return spec, None                      # context_key: e.g. an MRI prompt id

    class MySessions:                              # a RankingSource
        kind = "mine"
        async def runnable(self) -> list[str]: ...          # sessions that should run now
        async def plan(self, session_id) -> RankingPlan | None: ...   # None: nothing to do
        async def should_stop(self, session_id) -> bool: ...          # polled twice a second
        async def finished(self, session_id, outcome: RankingOutcome) -> None: ...
        async def failed(self, session_id, message: str) -> None: ...

    engine.register_ranking(MySessions())
    engine.start_ranking()                         # look for runnable sessions now

What a run does
---------------
It reads the session's stored votes (``store.votes``), opens up to ``plan.parallel``
(default: one per item) matchups on the task board for ``plan.audience_id`` (each a unique
task id — the ``datapoint_id`` of the board — with the provider's compare ``TaskSpec``,
marked ``pairwise``, open for ``plan.min_responses`` distinct labelers) and takes the
responses off the stream one at a time. Each becomes a ``VoteRecord`` (first / second / tie
for Both or Neither, the labeler's demographics, the provider's ``context_key``) and updates
the pair counts at once; once a quarter of the open matchups have their votes (or none is
left), ``matchmaking.next_pairs`` (the matchmaker; ``plan.matchmaker`` to swap it) picks the next
ones from the counts so far, never a pair already open (rounds, not one matchup at a time:
each change of the board wakes the audience's idle simulated labelers). Votes are stored in
batches (idempotent per session, task id and labeler).

It ends with an outcome handed to ``source.finished``:

- ``"completed"``: matchmaking has nothing left to ask (``plan.budget`` votes reached —
  counting votes promised to open matchups — or every pair at ``plan.max_per_pair``);
- ``"expired"``: ``plan.deadline`` (epoch seconds) passed first; ``plan.drain_seconds``
  before it no new matchup opens and open ones stop being handed out (answers in flight
  still count until the deadline);
- ``"stopped"``: ``source.should_stop`` said so.

``plan.validation_set_id``: the set's rapids are dealt among the matchups (the task board's
``ValidationDeck``, as for jobs); answers to them are checked (``_validation.Validator``),
never counted as votes, and recorded with ``store.validation_sets.record_answers`` under the
session id (before the votes of the same flush), so a restarted run resumes the scores.

``plan.serve_timeout``: a matchup still short of its votes that many seconds after it
opened is closed (answers arriving later are dropped) and matchmaking picks again. An error
goes to ``source.failed`` (by the engine) with its message.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import anyio
import anyio.to_thread
import numpy as np

from ..crowd.base import OpenWork, ResponseStream, TaskBoard
from ..domain.matchmaking import MatchState, next_pairs
from ..domain.ranking import PairCounts
from ..domain.tasks import TaskSpec
from ..store.base import ANY_OWNER, PairTally, ResponseRecord, Store, VoteOutcome, VoteRecord
from ._validation import Validator, load_validator

log = logging.getLogger("rapidata_async.local")

RankingOutcome = Literal["completed", "expired", "stopped"]
Matchmaker = Callable[[MatchState, int, np.random.Generator], list[tuple[int, int]]]

TICK = 0.1
"""Longest the run waits for responses before it looks at the clock and the stop flag."""
FLUSH_SECONDS = 0.2
FLUSH_VOTES = 1000
STOP_POLL = 0.5
INLINE_ITEMS = 64
"""Up to this many items matchmaking runs on the event loop (a few ms); beyond, in a thread."""
SMALL_BATCH = 64
LINGER_SECONDS = 0.01
"""After a small batch, wait this long before the next look: answers come one at a time, and
waking per answer would cost more than the matchmaking."""
_UNKNOWN = "Unknown"


class Matchups(Protocol):
    """What is being ranked: ``ids`` of the items (``n_items = len(ids)``), and the compare
    task that shows items ``i`` and ``j`` (options: their labels, ``i`` first) with the
    ``context_key`` its votes are stored under (None when there is none)."""

    @property
    def ids(self) -> Sequence[str]: ...

    def task(self, i: int, j: int) -> tuple[TaskSpec, str | None]: ...


@dataclass(frozen=True)
class RankingPlan:
    """One session's parameters (see the module docstring)."""

    session_id: str
    owner: str
    audience_id: str
    matchups: Matchups
    min_responses: int = 1
    budget: int | None = None
    max_per_pair: int | None = None
    deadline: float | None = None
    drain_seconds: float = 0.0
    serve_timeout: float | None = None
    parallel: int | None = None
    matchmaker: Matchmaker = next_pairs
    seed: int = 0
    validation_set_id: str | None = None


class RankingSource(Protocol):
    """Sessions of one kind (flow items, leaderboards) as the engine's scanner sees them."""

    kind: str

    async def runnable(self) -> list[str]: ...

    async def plan(self, session_id: str) -> RankingPlan | None: ...

    async def should_stop(self, session_id: str) -> bool: ...

    async def finished(self, session_id: str, outcome: RankingOutcome) -> None: ...

    async def failed(self, session_id: str, message: str) -> None: ...


def pair_counts(ids: Sequence[str], tallies: Sequence[PairTally]) -> PairCounts:
    """The votes among ``ids`` (tallies naming other items are left out)."""
    index = {item: k for k, item in enumerate(ids)}
    first: list[int] = []
    second: list[int] = []
    outcome: list[float] = []
    for t in tallies:
        a, b = index.get(t.first), index.get(t.second)
        if a is None or b is None or a == b:
            continue
        for won, count in ((1.0, t.first_won), (0.0, t.second_won), (0.5, t.ties)):
            first.extend([a] * count)
            second.extend([b] * count)
            outcome.extend([won] * count)
    return PairCounts.from_battles(max(len(ids), 1), first, second, outcome)


def session_key(kind: str, session_id: str) -> str:
    """The lease key of a session, and its id on the task board."""
    return f"{kind}:{session_id}"


class _Matchup:
    __slots__ = ("context_key", "first", "opened", "received", "retired", "second", "spec")

    def __init__(self, first: int, second: int, spec: TaskSpec, context_key: str | None) -> None:
        self.first = first
        self.second = second
        self.spec = spec
        self.context_key = context_key
        self.received = 0
        self.opened = time.monotonic()
        self.retired = False  # no longer handed out (drain, serve timeout)


class RankingRun:
    """One run of one session; ``run`` returns its outcome (or raises)."""

    def __init__(
        self, store: Store, board: TaskBoard, source: RankingSource, session_id: str
    ) -> None:
        self.store = store
        self.board = board
        self.source = source
        self.session_id = session_id
        self.key = session_key(source.kind, session_id)
        self._token = secrets.token_hex(4)
        self._next = 0

    async def run(self) -> RankingOutcome | None:
        plan = await self.source.plan(self.session_id)
        if plan is None:
            return None
        ids = list(plan.matchups.ids)
        tallies = await self.store.votes.tallies(plan.session_id, owner=ANY_OWNER)
        self.plan = plan
        self.ids = ids
        self._cells: dict[tuple[int, int], list[float]] = {}
        stored = pair_counts(ids, tallies)
        for (i, j), cell in zip(stored.pairs.tolist(), stored.cells.tolist(), strict=True):
            self._cells[(i, j)] = cell
        self._counts: PairCounts | None = stored
        self.rng = np.random.default_rng([plan.seed, len(tallies)])
        self.open: dict[str, _Matchup] = {}
        self.buffer: list[VoteRecord] = []
        self.draining = False
        self.validator: Validator | None = await load_validator(
            self.store, plan.session_id, plan.validation_set_id
        )
        deck = self.validator.deck(board_key=self.key) if self.validator is not None else None
        stream = self.board.publish(self.key, plan.audience_id, [], tenant=plan.owner, deck=deck)
        try:
            with stream:
                outcome = await self._loop(stream)
        finally:
            self.board.withdraw(self.key)
            with anyio.CancelScope(shield=True):
                await self._flush()
        await self.source.finished(self.session_id, outcome)
        return outcome

    # -- matchmaking --------------------------------------------------------------------------
    @property
    def counts(self) -> PairCounts:
        """The votes so far (built from the per-pair cells when matchmaking needs them)."""
        if self._counts is None:
            n = max(len(self.ids), 1)
            keys = sorted(self._cells)
            pairs = np.asarray(keys, dtype=np.int64).reshape(-1, 2)
            cells = np.asarray([self._cells[k] for k in keys], dtype=np.float64).reshape(-1, 3)
            self._counts = PairCounts(n, pairs, cells)
        return self._counts

    def _count(self, first: int, second: int, outcome: VoteOutcome) -> None:
        lo, hi = (first, second) if first < second else (second, first)
        cell = self._cells.get((lo, hi))
        if cell is None:
            cell = self._cells[(lo, hi)] = [0.0, 0.0, 0.0]
        if outcome == "tie":
            cell[2] += 1.0
        else:
            cell[0 if (outcome == "first") == (first == lo) else 1] += 1.0
        self._counts = None

    def _in_flight(self) -> int:
        return sum(
            self.plan.min_responses - m.received for m in self.open.values() if not m.retired
        )

    async def _refill(self) -> None:
        """Open matchups up to ``parallel``, most informative first, never a pair twice.

        Matchups open in rounds, once a quarter of the open ones are done (or none is left):
        every change of the board wakes the audience's idle labelers, and matchmaking refits
        the votes (a few ms for a few dozen items, seconds for hundreds: beyond
        ``INLINE_ITEMS`` it runs in a worker thread)."""
        plan = self.plan
        if self.draining or len(self.ids) < 2:
            return
        parallel = plan.parallel or len(self.ids)
        active = sum(1 for m in self.open.values() if not m.retired)
        want = parallel - active
        large = len(self.ids) > INLINE_ITEMS
        if want <= 0 or (active and want < max(1, parallel // 4)):
            return
        state = MatchState(
            self.counts,
            min_responses=plan.min_responses,
            budget=plan.budget,
            in_flight=self._in_flight(),
            max_per_pair=plan.max_per_pair,
        )
        busy = {(min(m.first, m.second), max(m.first, m.second)) for m in self.open.values()}
        if large:
            picks = await anyio.to_thread.run_sync(
                plan.matchmaker, state, want + len(busy), self.rng
            )
        else:
            picks = plan.matchmaker(state, want + len(busy), self.rng)
        self._open(picks, want, busy)

    def _open(self, picks: list[tuple[int, int]], want: int, busy: set[tuple[int, int]]) -> None:
        plan = self.plan
        work: list[OpenWork] = []
        for i, j in picks:
            if len(work) >= want:
                break
            if (min(i, j), max(i, j)) in busy:
                continue
            busy.add((min(i, j), max(i, j)))
            if self.rng.random() < 0.5:
                i, j = j, i  # which side an item is shown on is chance
            spec, context_key = plan.matchups.task(i, j)
            if spec.kind == "compare" and not spec.pairwise:
                spec = dataclasses.replace(spec, pairwise=True)
            task_id = f"{self.session_id}:{self._token}:{self._next}"
            self._next += 1
            self.open[task_id] = _Matchup(i, j, spec, context_key)
            work.append(OpenWork(task_id, spec, frozenset(), plan.min_responses))
        if work:
            self.board.add(self.key, work)

    async def _ended(self) -> RankingOutcome | None:
        """With nothing open: ``"expired"`` while draining (nothing more will be asked before
        the deadline), ``"completed"`` when matchmaking has nothing more to ask."""
        if self.open:
            return None
        if self.draining:
            return "expired"
        await self._refill()
        return None if self.open else "completed"

    # -- responses ----------------------------------------------------------------------------
    def _take(self, response: ResponseRecord) -> None:
        task_id = response.datapoint_id
        matchup = self.open.get(task_id)
        if matchup is None:
            if self.validator is not None and self.validator.take(response):
                return  # a validation answer: scored, never a vote
            self.board.settle(self.key, task_id, 0)
            return
        options = matchup.spec.options
        outcome: VoteOutcome
        if response.answer == options[0]:
            outcome = "first"
        elif response.answer == options[1]:
            outcome = "second"
        else:
            outcome = "tie"
        self.buffer.append(
            VoteRecord(
                self.session_id,
                task_id,
                response.labeler_id,
                self.ids[matchup.first],
                self.ids[matchup.second],
                outcome,
                matchup.context_key,
                _known(response.country),
                _known(response.language),
                _known(response.gender),
                _known(response.age),
                _known(response.occupation),
            )
        )
        self._count(matchup.first, matchup.second, outcome)
        matchup.received += 1
        room = self.plan.min_responses - matchup.received
        if room <= 0 or matchup.retired:
            del self.open[task_id]
            self.board.settle(self.key, task_id, 0)
        else:
            self.board.settle(self.key, task_id, room)

    def _retire(self, task_id: str, matchup: _Matchup, *, keep: bool) -> None:
        """Stop handing a matchup out; ``keep``: answers in flight still count."""
        self.board.retire(self.key, task_id)
        if keep:
            matchup.retired = True
        else:
            del self.open[task_id]

    def _clock(self, now: float) -> bool:
        """Drain and serve timeouts; True once the deadline passed."""
        plan = self.plan
        if plan.deadline is not None:
            if now >= plan.deadline:
                return True
            if not self.draining and now >= plan.deadline - plan.drain_seconds:
                self.draining = True
                for task_id, matchup in list(self.open.items()):
                    self._retire(task_id, matchup, keep=True)
        if plan.serve_timeout is not None:
            limit = time.monotonic() - plan.serve_timeout
            for task_id, matchup in list(self.open.items()):
                if matchup.opened <= limit:
                    self._retire(task_id, matchup, keep=False)
        return False

    async def _loop(self, stream: ResponseStream) -> RankingOutcome:
        last_flush = last_poll = time.monotonic()
        await self._refill()
        while True:
            if self._clock(time.time()):
                return "expired"
            ended = await self._ended()
            if ended is not None:
                return ended
            batch = stream.receive_batch_nowait()
            if not batch:
                with anyio.move_on_after(self._wait()):
                    batch = await stream.receive_batch()
            for response in batch:
                self._take(response)
            await self._refill()
            # Let the crowd and the requests run: with instant pace answers never stop coming.
            await anyio.sleep(LINGER_SECONDS if len(batch) < SMALL_BATCH else 0)
            now = time.monotonic()
            pending = self.buffer or (self.validator is not None and self.validator.pending)
            if len(self.buffer) >= FLUSH_VOTES or (pending and now - last_flush >= FLUSH_SECONDS):
                await self._flush()
                last_flush = now
            if now - last_poll >= STOP_POLL:
                last_poll = now
                if await self.source.should_stop(self.session_id):
                    return "stopped"

    def _wait(self) -> float:
        if self.plan.deadline is None:
            return TICK
        return max(0.0, min(TICK, self.plan.deadline - time.time()))

    async def _flush(self) -> None:
        answers = self.validator.drain() if self.validator is not None else []
        if answers:
            # before the votes whose labelers' scores they explain
            await self.store.validation_sets.record_answers(self.plan.session_id, answers)
        if self.buffer:
            votes, self.buffer = self.buffer, []
            await self.store.votes.record(votes, owner=self.plan.owner)


def _known(value: str) -> str | None:
    return None if not value or value == _UNKNOWN else value
