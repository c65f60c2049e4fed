"""People on the labeling page as a response source beside the simulated crowd.

A person asks for work (``take``): the datapoint they hold, or the next one of the audiences
they belong to, from jobs of the tenant that invited them. They hold it for ``hold_seconds``;
an answer (``answer``) goes onto the job's response stream through the board, so the engine's
referee counts it exactly like a simulated one. A task not answered in time goes back to the
board (``give_back``) for someone else, swept once a second by ``run``.

Qualification (custom audiences): a person answers the audience's examples in an order of
their own, cycling them until ``min_tasks`` answers (at least every example once), and passes
with the simulated crowd's rule: difficulty-weighted accuracy (harder examples weigh more) of
at least the audience's ``target_accuracy`` (``grade``).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import anyio

from ..domain.tasks import ExampleSpec
from ..store.base import ResponseRecord
from .base import OpenTask, TaskBoard

__all__ = ["HOLD_SECONDS", "People", "grade", "labeler_key", "trial_order"]

HOLD_SECONDS = 300.0
"""How long a person holds a task before it goes back to the board."""
SWEEP_SECONDS = 1.0
PERSON_SCORE = 0.75
"""The user score of an invited person on the global and curated audiences (the owner
vouches for them); a custom audience's graduates get their example accuracy instead."""
UNKNOWN = "unknown"


def labeler_key(labeler_id: str) -> str:
    """The stored ``labeler_id`` of a person (``ResponseRecord.labeler_id``)."""
    return f"human:{labeler_id}"


def trial_order(n_examples: int, min_tasks: int, seed: str) -> list[int]:
    """Which example a person answers at each step: every example once in an order of
    their own, cycled until ``min_tasks`` answers."""
    order = list(range(n_examples))
    random.Random(seed).shuffle(order)
    trials = max(min_tasks, n_examples)
    return [order[t % n_examples] for t in range(trials)] if order else []


def grade(
    examples: Sequence[ExampleSpec],
    difficulties: Sequence[float],
    answers: Sequence[tuple[int, str]],
    target_accuracy: float,
) -> tuple[bool, float]:
    """``(passed, accuracy)`` of ``answers`` ((example index, answer) pairs) against the
    examples' truth; each answer weighs ``0.5 + difficulty`` of its example."""
    right = shown = 0.0
    for index, answer in answers:
        weight = 0.5 + difficulties[index]
        shown += weight
        right += weight * (answer in examples[index].truth)
    accuracy = right / shown if shown else 0.0
    return accuracy >= target_accuracy, round(accuracy, 4)


@dataclass(slots=True)
class _Held:
    task: OpenTask
    audience_id: str
    until: float


@dataclass(frozen=True, slots=True)
class Person:
    """Who answers: the stored labeler key, the tenant whose jobs they see, and the user
    score per audience they belong to (in the order their work is looked for)."""

    key: str
    tenant: str
    scores: dict[str, float]


class People:
    """The people of the labeling page (a ``ResponseSource``)."""

    def __init__(self, board: TaskBoard, *, hold_seconds: float = HOLD_SECONDS) -> None:
        self.board = board
        self.hold_seconds = hold_seconds
        self._held: dict[str, _Held] = {}
        self.answered: Counter[str] = Counter()
        """Answers handed to the board per person since this process started."""

    def holding(self, key: str) -> OpenTask | None:
        """The task ``key`` holds, if its hold has not run out."""
        held = self._held.get(key)
        return held.task if held is not None and held.until >= time.monotonic() else None

    def take(self, person: Person) -> tuple[OpenTask, str] | None:
        """The task ``person`` holds (its hold renewed), else the next open one of their
        audiences, now held by them; with the audience it came from. None: nothing to do."""
        now = time.monotonic()
        held = self._held.get(person.key)
        if held is not None:
            if held.until >= now and self.board.is_open(held.task):
                held.until = now + self.hold_seconds
                return held.task, held.audience_id
            self.give_back(person.key)
        for audience_id in person.scores:
            task = self.board.next_task(audience_id, person.key, tenant=person.tenant)
            if task is not None:
                self._held[person.key] = _Held(task, audience_id, now + self.hold_seconds)
                return task, audience_id
        return None

    async def answer(self, person: Person, job_id: str, datapoint_id: str, answer: str) -> bool:
        """Hand ``person``'s answer to the task they hold back to the board. False when they
        hold no such task (it timed out and went to someone else, or the job ended)."""
        held = self._held.get(person.key)
        if held is None or (held.task.job_id, held.task.datapoint_id) != (job_id, datapoint_id):
            return False
        del self._held[person.key]
        if not self.board.is_open(held.task):
            return False
        record = ResponseRecord(
            job_id,
            datapoint_id,
            person.key,
            answer,
            person.scores.get(held.audience_id, PERSON_SCORE),
            UNKNOWN,
            UNKNOWN,
            UNKNOWN,
            UNKNOWN,
            UNKNOWN,
        )
        if not await self.board.submit(held.task, record):
            return False
        self.answered[person.key] += 1
        return True

    def give_back(self, key: str) -> None:
        """``key`` stops holding their task: it may go to someone else."""
        held = self._held.pop(key, None)
        if held is not None:
            self.board.give_back(held.task, key)

    def expire(self) -> int:
        """Give back every task held past its time; how many."""
        now = time.monotonic()
        late = [key for key, held in self._held.items() if held.until < now]
        for key in late:
            self.give_back(key)
        return len(late)

    async def run(self, board: TaskBoard) -> None:
        """Sweep expired holds until cancelled."""
        while True:
            await anyio.sleep(SWEEP_SECONDS)
            self.expire()
