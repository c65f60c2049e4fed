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

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ..domain.tasks import TaskSpec
from ..store.base import ResponseRecord

__all__ = ["OpenTask", "ResponseSource", "TaskBoard"]

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


class _JobBoard:
    __slots__ = ("audience_id", "available", "job_id", "receive", "send", "tasks")

    def __init__(self, job_id: str, audience_id: str) -> None:
        self.job_id = job_id
        self.audience_id = audience_id
        self.tasks: dict[str, OpenTask] = {}
        self.available: deque[OpenTask] = deque()
        self.send: MemoryObjectSendStream[ResponseRecord]
        self.receive: MemoryObjectReceiveStream[ResponseRecord]
        self.send, self.receive = anyio.create_memory_object_stream[ResponseRecord](STREAM_BUFFER)


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
        self, job_id: str, audience_id: str, work: Iterable[OpenWork]
    ) -> MemoryObjectReceiveStream[ResponseRecord]:
        """Open a job's datapoints to the audience; returns the stream of their responses.
        A job published again replaces its earlier board (a resumed run)."""
        self.withdraw(job_id)
        board = _JobBoard(job_id, audience_id)
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
        return board.receive

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
        board.send.close()
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
            task = self._take(board, labeler_id)
            if task is not None:
                self._cursor[audience_id] = (start + i + 1) % n
                return task
        return None

    def _take(self, board: _JobBoard, labeler_id: str) -> OpenTask | None:
        available = board.available
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
            board.send.send_nowait(response)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            return False
        return True

    async def submit(self, task: OpenTask, response: ResponseRecord) -> bool:
        board = self._jobs.get(task.job_id)
        if board is None:
            return False
        try:
            await board.send.send(response)
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
