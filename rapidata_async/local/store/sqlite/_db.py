"""One SQLite connection and the queue that feeds it to a worker thread.

Every store call runs its SQL in a worker thread, one call at a time and in the order they
came, so the event loop never waits on disk and the single connection is never used by two
threads at once. Calls that arrive while the thread is busy go together on its next trip::

    db = Database(None)                      # or a file path
    await db.run(db.connect)
    count = await db.run(lambda: db.conn.execute("SELECT 1").fetchone()[0])
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")


class _Call:
    """One queued ``Database.run`` call. ``wake`` is set when it has run, or when its task is
    to drain the queue next (then ``finished`` is still false)."""

    __slots__ = ("args", "error", "finished", "fn", "value", "wake")

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.fn = fn
        self.args = args
        self.value: Any = None
        self.error: BaseException | None = RuntimeError("the store call did not run")
        self.finished = False
        self.wake = anyio.Event()


def _run_calls(calls: list[_Call]) -> None:
    """The worker thread's side: each call in order, each one's outcome kept apart."""
    for call in calls:
        try:
            call.value = call.fn(*call.args)
            call.error = None
        except BaseException as exc:  # handed to the caller's task, which re-raises it
            call.error = exc


class Database:
    """The connection (``path`` None: in memory) and its call queue."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._queue: list[_Call] = []
        self._draining = False

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the store is not open")
        return self._conn

    def connect(self) -> sqlite3.Connection:
        """Open the connection (worker thread); a file DB runs in WAL mode."""
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        target = str(self.path) if self.path is not None else ":memory:"
        # Autocommit (isolation_level=None): single statements commit on their own,
        # multi-statement writes use tx().
        conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._conn = conn
        if self.path is not None:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=OFF")
        return conn

    async def close(self) -> None:
        if self._conn is not None:
            await self.run(self._conn.close)
            self._conn = None

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (worker thread only)."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the worker thread, after every call queued before it.

        One request task at a time drains the queue: it runs everything queued so far in one
        thread trip, then hands over to the owner of the next queued call. Under load a trip
        carries many calls: the thread switch per call (and the GIL hand-offs around it), not
        SQLite, was what bounded the request rate.
        """
        call = _Call(fn, args)
        self._queue.append(call)
        if self._draining:
            try:
                await call.wake.wait()
            except BaseException:
                if not call.wake.is_set():
                    if call in self._queue:
                        self._queue.remove(call)  # never ran: drop it with its request
                elif not call.finished:
                    with anyio.CancelScope(shield=True):
                        await self._drain()  # handed the queue just now: pass it on
                raise
        else:
            self._draining = True
        if not call.finished:
            # Shielded: the other calls of this trip belong to other requests.
            with anyio.CancelScope(shield=True):
                await self._drain()
        if call.error is not None:
            raise call.error
        return call.value

    async def _drain(self) -> None:
        calls, self._queue = self._queue, []
        try:
            await anyio.to_thread.run_sync(_run_calls, calls)
        finally:
            for call in calls:
                call.finished = True
                call.wake.set()
            if self._queue:
                self._queue[0].wake.set()
            else:
                self._draining = False
