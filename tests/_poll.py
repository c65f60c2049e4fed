"""Wait for an event the test can observe, with a deadline instead of a fixed sleep."""

from __future__ import annotations

from collections.abc import Callable

import anyio


async def eventually(condition: Callable[[], bool], *, deadline: float = 10.0) -> None:
    """Return as soon as ``condition()`` holds; fail with TimeoutError after ``deadline`` s."""
    with anyio.fail_after(deadline):
        while True:
            if condition():
                return
            await anyio.sleep(0.005)  # the condition is plain state, nothing to wait on
