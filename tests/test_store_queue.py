"""The SQLite store's call queue: calls from concurrent requests share worker-thread trips but
still run one at a time, in order, each with its own result, and a cancelled request neither
runs its call late nor stalls the others."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from rapidata_async.local.store.sqlite import _db
from rapidata_async.local.store.sqlite._db import Database


async def until(condition: Callable[[], bool]) -> None:
    with anyio.fail_after(5):
        while not condition():
            await anyio.lowlevel.checkpoint()


async def test_calls_run_in_order_with_their_own_outcome(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trips: list[int] = []
    run_calls = _db._run_calls

    def counted(calls: list[Any]) -> None:
        trips.append(len(calls))
        run_calls(calls)

    monkeypatch.setattr(_db, "_run_calls", counted)
    store = Database()
    seen: list[int] = []
    threads: set[int] = set()

    def work(i: int) -> int:
        seen.append(i)
        threads.add(threading.get_ident())
        if i % 7 == 3:
            raise ValueError(f"bad {i}")
        return i * i

    outcomes: dict[int, Any] = {}

    async def call(i: int) -> None:
        try:
            outcomes[i] = await store.run(work, i)
        except ValueError as exc:
            outcomes[i] = str(exc)

    async with anyio.create_task_group() as tg:
        for i in range(60):
            tg.start_soon(call, i)
    assert seen == list(range(60))
    assert sum(trips) == 60 and len(trips) < 60  # calls shared thread trips
    assert outcomes == {i: f"bad {i}" if i % 7 == 3 else i * i for i in range(60)}
    assert threading.get_ident() not in threads


async def test_a_cancelled_waiter_drops_its_call_and_the_queue_moves_on() -> None:
    store = Database()
    gate = threading.Event()
    ran: list[str] = []

    def blocking() -> str:
        gate.wait(10)
        ran.append("first")
        return "first"

    def record(name: str) -> str:
        ran.append(name)
        return name

    results: dict[str, str] = {}

    async def call(name: str, fn: Any, *args: Any) -> None:
        results[name] = await store.run(fn, *args)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(call, "first", blocking)
            await until(lambda: store._draining and not store._queue)  # first holds the thread
            with anyio.CancelScope() as dropped:
                dropped.cancel()
                await store.run(record, "dropped")  # queued, then cancelled while waiting
            tg.start_soon(call, "last", record, "last")
            await until(lambda: len(store._queue) == 1)
            gate.set()
    assert ran == ["first", "last"]
    assert results == {"first": "first", "last": "last"}


class _CancelOnSet:
    """Wraps a queued call's ``wake``: cancels its task just before handing it the queue, so
    the task resumes with the queue handed over *and* a pending cancellation."""

    def __init__(self, event: anyio.Event, scope: anyio.CancelScope) -> None:
        self.event = event
        self.scope = scope

    def set(self) -> None:
        self.scope.cancel()
        self.event.set()

    def is_set(self) -> bool:
        return self.event.is_set()

    async def wait(self) -> None:
        await self.event.wait()


async def test_cancelling_the_next_drainer_does_not_stall_the_queue() -> None:
    store = Database()
    gate = threading.Event()
    ran: list[str] = []

    def step(name: str) -> None:
        if name == "first":
            gate.wait(10)
        ran.append(name)

    async def call(name: str, scope: anyio.CancelScope | None = None) -> None:
        with scope or anyio.CancelScope():
            await store.run(step, name)

    promoted = anyio.CancelScope()
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(call, "first")
            await until(lambda: store._draining and not store._queue)
            tg.start_soon(call, "second", promoted)
            await until(lambda: len(store._queue) == 1)
            second = store._queue[0]
            second.wake = _CancelOnSet(second.wake, promoted)  # type: ignore[assignment]
            tg.start_soon(call, "third")
            await until(lambda: len(store._queue) == 2)
            gate.set()
    # "second" was cancelled as the queue reached it: it still drained (its call ran with the
    # trip), and "third", queued behind it, was not left waiting.
    assert promoted.cancel_called
    assert ran == ["first", "second", "third"]
    assert not store._draining and not store._queue
