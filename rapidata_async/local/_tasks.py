"""Keyed background tasks of the backend (job runs, recruiting, URL fetches).

Each task runs in the backend's task group under its own cancel scope, so a test reset can
cancel everything in flight and wait until it has really stopped before wiping the store::

    tasks = TaskManager(task_group)
    tasks.spawn("job:abc", run_job, "abc")      # no-op while "job:abc" still runs
    await tasks.cancel_all()
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from anyio.abc import TaskGroup

log = logging.getLogger("rapidata_async.local")


class _Entry:
    __slots__ = ("done", "scope")

    def __init__(self) -> None:
        self.scope = anyio.CancelScope()
        self.done = anyio.Event()


class TaskManager:
    def __init__(self, task_group: TaskGroup) -> None:
        self._tg = task_group
        self._tasks: dict[str, _Entry] = {}

    def running(self, key: str) -> bool:
        return key in self._tasks

    def spawn(self, key: str, fn: Callable[..., Awaitable[Any]], *args: Any) -> bool:
        """Start ``fn(*args)`` unless a task under ``key`` is still running. Errors are logged,
        never propagated: one failing job must not take the server down."""
        if key in self._tasks:
            return False
        entry = _Entry()
        self._tasks[key] = entry

        async def run() -> None:
            try:
                with entry.scope:
                    await fn(*args)
            except Exception:
                log.exception("background task %s failed", key)
            finally:
                self._tasks.pop(key, None)
                entry.done.set()

        self._tg.start_soon(run, name=key)
        return True

    async def wait(self, key: str) -> None:
        entry = self._tasks.get(key)
        if entry is not None:
            await entry.done.wait()

    async def cancel(self, key: str) -> None:
        """Cancel the task under ``key`` (if any) and wait until it has stopped."""
        entry = self._tasks.get(key)
        if entry is not None:
            entry.scope.cancel()
            await entry.done.wait()

    async def cancel_all(self) -> None:
        entries = list(self._tasks.values())
        for entry in entries:
            entry.scope.cancel()
        for entry in entries:
            await entry.done.wait()
