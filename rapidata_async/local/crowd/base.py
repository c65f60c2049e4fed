"""The crowd seam: a task board the engine publishes open work on, and the responses that come
back one at a time.

The engine publishes a job's open datapoints (``TaskBoard.publish``) and reads the job's
responses as an async stream::

    responses = board.publish(job_id, audience_id, open_tasks)
    async for response in responses:           # ResponseRecord, one at a time
        ...
        board.settle(job_id, response.datapoint_id, tally.room())

Anyone who answers is a *response source*: the simulated crowd (``simulated.SimulatedCrowd``)
or, later, people on a labeling page. Each asks the board for the next task of an audience
(``next_task``, never one the same labeler already answered), answers it, and hands the
answer back (``submit`` / ``submit_nowait``), which routes it into the job's stream; the
engine ``settle``s each response it takes off the stream.

``room`` is how many more answers a datapoint may be handed out for right now (the referee's
``Tally.room()``): the board never has more people working on a datapoint than could count,
so early stopping does not waste answers. Every board call does bounded work.
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import anyio

from ..domain.tasks import TaskSpec
from ..store.base import ResponseRecord

__all__ = ["OpenTask", "ResponseSource", "ResponseStream", "TaskBoard", "ValidationDeck"]

STREAM_BUFFER = 4096
"""Responses a job's stream holds before a source has to wait for the engine."""
SCAN = 32
"""Datapoints of one job a labeler looks at per ``next_task`` before trying the next job."""


class OpenTask:
    """One datapoint of one job that wants answers. ``answered``: labelers who answered or
    are answering it; ``in_flight``: handed out, not back yet; ``room``: how many more may be
    handed out in total right now (0: closed)."""

    __slots__ = ("answered", "datapoint_id", "in_flight", "job_id", "listed", "room", "task")

    def __init__(
        self, job_id: str, datapoint_id: str, task: TaskSpec, answered: Iterable[str], room: int
    ) -> None:
        self.job_id: str = job_id
        self.datapoint_id: str = datapoint_id
        self.task: TaskSpec = task
        self.answered: set[str] = set(answered)
        self.in_flight: int = 0
        self.room: int = room
        self.listed: bool = False

    def wants_more(self) -> bool:
        return self.in_flight < self.room


@dataclass(frozen=True, slots=True)
class OpenWork:
    """What the engine publishes for one datapoint."""

    datapoint_id: str
    task: TaskSpec
    answered: frozenset[str]
    room: int


class ResponseStream:
    """A job's responses in arrival order, from the sources to the engine.

    Like a memory object stream of ``ResponseRecord``, but built for a million responses a
    minute: a send is a list append (the engine's task is only woken when it waits), and the
    engine takes everything that arrived in one go (``receive_batch``), still in order and
    still one response at a time through its referee. Holds ``capacity`` responses before a
    source has to wait (``send_nowait`` raises ``anyio.WouldBlock``, ``send`` waits).

    ``end()`` (the board withdrew the job): receiving raises ``anyio.EndOfStream`` once the
    rest is taken. ``close()`` (the engine stopped reading): sending raises
    ``anyio.BrokenResourceError``.
    """

    __slots__ = ("_capacity", "_closed", "_ended", "_head", "_items", "_readable", "_writable")

    def __init__(self, capacity: int = STREAM_BUFFER) -> None:
        self._capacity = capacity
        self._items: list[ResponseRecord] = []
        self._head = 0  # items before it were taken by `receive`
        self._closed = False
        self._ended = False
        self._readable: anyio.Event | None = None  # set when the engine waits for responses
        self._writable: anyio.Event | None = None  # set when a source waits for room

    def __len__(self) -> int:
        return len(self._items) - self._head

    # -- the sources' side -----------------------------------------------------------------
    def send_nowait(self, response: ResponseRecord) -> None:
        if self._closed:
            raise anyio.BrokenResourceError
        if self._ended:
            raise anyio.ClosedResourceError
        items = self._items
        if len(items) - self._head >= self._capacity:
            raise anyio.WouldBlock
        items.append(response)
        readable = self._readable
        if readable is not None:
            self._readable = None
            readable.set()

    async def send(self, response: ResponseRecord) -> None:
        while True:
            try:
                self.send_nowait(response)
                return
            except anyio.WouldBlock:
                if self._writable is None:
                    self._writable = anyio.Event()
                await self._writable.wait()

    def end(self) -> None:
        """No more responses will come (the job left the board)."""
        self._ended = True
        self._wake()

    # -- the engine's side -----------------------------------------------------------------
    def receive_batch_nowait(self) -> list[ResponseRecord]:
        """Every response that arrived and was not taken yet, oldest first (maybe none).
        Raises ``anyio.EndOfStream`` when there are none and none will come."""
        items, head = self._items, self._head
        if head:
            batch = items[head:]
            items.clear()
            self._head = 0
        elif items:
            batch, self._items = items, []
        else:
            if self._ended or self._closed:
                raise anyio.EndOfStream
            return items[:0]
        writable = self._writable
        if writable is not None:
            self._writable = None
            writable.set()
        return batch

    async def receive_batch(self) -> list[ResponseRecord]:
        """Wait until at least one response arrived, then take everything that did."""
        while True:
            batch = self.receive_batch_nowait()
            if batch:
                return batch
            if self._readable is None:
                self._readable = anyio.Event()
            await self._readable.wait()

    def receive_nowait(self) -> ResponseRecord:
        """The oldest response not taken yet (``anyio.WouldBlock`` when there is none)."""
        items, head = self._items, self._head
        if head >= len(items):
            if self._ended or self._closed:
                raise anyio.EndOfStream
            raise anyio.WouldBlock
        response = items[head]
        head += 1
        if head == len(items):
            items.clear()
            head = 0
        self._head = head
        writable = self._writable
        if writable is not None:
            self._writable = None
            writable.set()
        return response

    async def receive(self) -> ResponseRecord:
        """Wait for the oldest response not taken yet."""
        while True:
            try:
                return self.receive_nowait()
            except anyio.WouldBlock:
                if self._readable is None:
                    self._readable = anyio.Event()
                await self._readable.wait()

    def __aiter__(self) -> ResponseStream:
        return self

    async def __anext__(self) -> ResponseRecord:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    def close(self) -> None:
        """The engine stops reading: sources' sends fail from now on."""
        self._closed = True
        self._items.clear()
        self._head = 0
        self._wake()

    def __enter__(self) -> ResponseStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _wake(self) -> None:
        for event in (self._readable, self._writable):
            if event is not None:
                event.set()
        self._readable = self._writable = None


class ValidationDeck:
    """A job's validation rapids on the board (``domain.validation``): a labeler gets one
    before their first task of the job and then one after every ``every`` real tasks, each
    rapid at most once, starting at a place of their own in the deck. Their answers come back
    through the job's stream like any other, under the rapid's key as ``datapoint_id``.

    ``shown``: rapids each labeler was shown already (a resumed run passes what was stored);
    ``limit``: rapids one labeler is shown at most.
    """

    __slots__ = ("_real", "_shown", "every", "limit", "tasks")

    def __init__(
        self,
        job_id: str,
        rapids: Sequence[tuple[str, TaskSpec]],
        every: int,
        shown: Mapping[str, int] | None = None,
        limit: int | None = None,
    ) -> None:
        self.tasks: list[OpenTask] = [OpenTask(job_id, key, spec, (), 0) for key, spec in rapids]
        self.every: int = max(1, every)
        self.limit: int = len(self.tasks) if limit is None else min(limit, len(self.tasks))
        self._shown: dict[str, int] = dict(shown or {})
        # real tasks handed out per labeler; a resumed labeler is due after `every` more
        self._real: dict[str, int] = {lid: n * self.every for lid, n in self._shown.items()}

    def due(self, labeler_id: str) -> OpenTask | None:
        """The validation rapid to hand ``labeler_id`` now, or None (then a real task)."""
        shown = self._shown.get(labeler_id, 0)
        tasks = self.tasks
        if shown >= self.limit or shown * self.every > self._real.get(labeler_id, 0):
            return None
        self._shown[labeler_id] = shown + 1
        start = zlib.crc32(labeler_id.encode())
        return tasks[(start + shown) % len(tasks)]

    def counted(self, labeler_id: str) -> None:
        """``labeler_id`` was handed a real task of the job."""
        self._real[labeler_id] = self._real.get(labeler_id, 0) + 1


class _JobBoard:
    __slots__ = ("audience_id", "available", "deck", "job_id", "stream", "tasks")

    def __init__(self, job_id: str, audience_id: str, deck: ValidationDeck | None) -> None:
        self.job_id = job_id
        self.audience_id = audience_id
        self.tasks: dict[str, OpenTask] = {}
        self.available: deque[OpenTask] = deque()
        self.stream = ResponseStream(STREAM_BUFFER)
        self.deck = deck


class TaskBoard:
    """Open tasks per audience and the response streams per job."""

    def __init__(self) -> None:
        self._jobs: dict[str, _JobBoard] = {}
        self._audiences: dict[str, list[_JobBoard]] = {}
        self._version: dict[str, int] = {}
        self._changed: dict[str, anyio.Event] = {}
        self._cursor: dict[str, int] = {}
        self._published = anyio.Event()

    # -- the engine's side -------------------------------------------------------------------
    def publish(
        self,
        job_id: str,
        audience_id: str,
        work: Iterable[OpenWork],
        deck: ValidationDeck | None = None,
    ) -> ResponseStream:
        """Open a job's datapoints to the audience, with its validation rapids mixed in when
        it has a ``deck``; returns the stream of their responses. A job published again
        replaces its earlier board (a resumed run)."""
        self.withdraw(job_id)
        board = _JobBoard(job_id, audience_id, deck)
        for item in work:
            task = OpenTask(job_id, item.datapoint_id, item.task, item.answered, item.room)
            board.tasks[item.datapoint_id] = task
            if task.wants_more():
                task.listed = True
                board.available.append(task)
        self._jobs[job_id] = board
        self._audiences.setdefault(audience_id, []).append(board)
        self._touch(audience_id)
        self._published.set()
        self._published = anyio.Event()
        return board.stream

    def settle(self, job_id: str, datapoint_id: str, room: int) -> None:
        """The engine took one response of the datapoint off the stream (counted or not) and
        the referee says ``room`` more may be handed out now: 0 closes the datapoint."""
        board = self._jobs.get(job_id)
        if board is None:
            return
        task = board.tasks.get(datapoint_id)
        if task is None:
            return
        task.in_flight -= 1
        task.room = room
        if room <= 0:
            del board.tasks[datapoint_id]
        elif not task.listed and task.wants_more():
            task.listed = True
            # to the front: finish what is started before opening more datapoints
            board.available.appendleft(task)
            self._touch(board.audience_id)

    def withdraw(self, job_id: str) -> None:
        """Take a job off the board (done, failed or cancelled) and end its stream."""
        board = self._jobs.pop(job_id, None)
        if board is None:
            return
        boards = self._audiences.get(board.audience_id, [])
        if board in boards:
            boards.remove(board)
        if not boards:
            self._audiences.pop(board.audience_id, None)
        board.stream.end()
        self._touch(board.audience_id)

    def open_tasks(self, job_id: str) -> list[OpenTask]:
        """The job's datapoints still open (bounded by the job's size)."""
        board = self._jobs.get(job_id)
        return list(board.tasks.values()) if board is not None else []

    # -- the sources' side -------------------------------------------------------------------
    def audiences(self) -> list[str]:
        """Audiences with open jobs."""
        return list(self._audiences)

    def has_work(self, audience_id: str) -> bool:
        return bool(self._audiences.get(audience_id))

    def version(self, audience_id: str) -> int:
        """Changes whenever new work may have opened for the audience."""
        return self._version.get(audience_id, 0)

    async def wait_changed(self, audience_id: str) -> None:
        event = self._changed.get(audience_id)
        if event is None:
            event = self._changed[audience_id] = anyio.Event()
        await event.wait()

    async def wait_published(self) -> None:
        await self._published.wait()

    def next_task(self, audience_id: str, labeler_id: str) -> OpenTask | None:
        """A datapoint of any open job of the audience that ``labeler_id`` has not answered,
        now handed out to them; None when there is none they may take (bounded scan). The
        answer goes back through ``submit``, or ``give_back`` if none comes."""
        boards = self._audiences.get(audience_id)
        if not boards:
            return None
        n = len(boards)
        # round robin over the audience's jobs, so several jobs progress together
        start = self._cursor.get(audience_id, 0)
        for i in range(n):
            board = boards[(start + i) % n]
            if not board.available:
                continue
            deck = board.deck
            if deck is not None:
                task = deck.due(labeler_id)
                if task is not None:
                    return task
            task = self._take(board, labeler_id)
            if task is not None:
                if deck is not None:
                    deck.counted(labeler_id)
                self._cursor[audience_id] = (start + i + 1) % n
                return task
        return None

    def _take(self, board: _JobBoard, labeler_id: str) -> OpenTask | None:
        available = board.available
        # The common case, without touching the queue: the first datapoint is still open and
        # new to this labeler (what follows is the general case, which does the same).
        task = available[0]
        if (
            0 < task.room
            and task.in_flight < task.room
            and labeler_id not in task.answered
            and task.datapoint_id in board.tasks
        ):
            task.answered.add(labeler_id)
            task.in_flight += 1
            if task.in_flight >= task.room:
                available.popleft()
                task.listed = False
            return task
        skipped: list[OpenTask] = []
        found = None
        for _ in range(min(SCAN, len(available))):
            task = available.popleft()
            if task.room <= 0 or not task.wants_more() or task.datapoint_id not in board.tasks:
                task.listed = False
                continue
            if labeler_id in task.answered:
                skipped.append(task)
                continue
            found = task
            break
        # what this labeler could not take goes to the back, so the next scan sees others
        available.extend(skipped)
        if found is None:
            return None
        found.answered.add(labeler_id)
        found.in_flight += 1
        if found.wants_more():
            available.appendleft(found)
        else:
            found.listed = False
        return found

    def give_back(self, task: OpenTask, labeler_id: str) -> None:
        """A labeler left without answering: the datapoint may go to someone else."""
        task.in_flight -= 1
        task.answered.discard(labeler_id)
        self._relist(task)

    def submit_nowait(self, task: OpenTask, response: ResponseRecord) -> bool:
        """Hand an answer to ``task`` back. False when the job is gone (the answer is
        dropped). Raises ``anyio.WouldBlock`` when the job's stream is full: then ``submit``."""
        board = self._jobs.get(task.job_id)
        if board is None:
            return False
        try:
            board.stream.send_nowait(response)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            return False
        return True

    async def submit(self, task: OpenTask, response: ResponseRecord) -> bool:
        board = self._jobs.get(task.job_id)
        if board is None:
            return False
        try:
            await board.stream.send(response)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            return False
        return True

    def _relist(self, task: OpenTask) -> None:
        board = self._jobs.get(task.job_id)
        if board is None or task.datapoint_id not in board.tasks:
            return
        if not task.listed and task.wants_more():
            task.listed = True
            board.available.appendleft(task)
            self._touch(board.audience_id)

    def _touch(self, audience_id: str) -> None:
        self._version[audience_id] = self._version.get(audience_id, 0) + 1
        event = self._changed.pop(audience_id, None)
        if event is not None:
            event.set()


class ResponseSource(Protocol):
    """Something that answers the board's open tasks until cancelled."""

    async def run(self, board: TaskBoard) -> None: ...
