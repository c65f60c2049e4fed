"""What every manager and resource object shares: the transport and the client's hosts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import anyio

from ._exceptions import (
    InternalServerError,
    RapidataConnectionError,
    RateLimitError,
    WaitTimeoutError,
)
from ._logging import logger
from ._transport import Transport

if TYPE_CHECKING:
    from ._uploads._cache import AssetCache

# Polling starts fast (the local backend answers in milliseconds) and backs off to the pace
# the real service recommends, so neither side is flooded.
POLL_FIRST = 0.05
POLL_MAX = 5.0

OUTAGE_TOLERANCE = 300.0
"""Seconds a wait without a deadline keeps polling through failures before it gives up."""

TRANSIENT_ERRORS = (RapidataConnectionError, InternalServerError, RateLimitError)
"""Failures a poll survives: the server was unreachable, overloaded or restarting."""

T = TypeVar("T")


@dataclass(eq=False)
class ClientContext:
    transport: Transport
    environment: str
    app_url: str
    asset_cache: AssetCache
    poll_max: float = POLL_MAX

    def app_link(self, path: str) -> str:
        return f"{self.app_url.rstrip('/')}/{path.lstrip('/')}"


async def poll(
    ctx: ClientContext,
    fetch: Callable[[], Awaitable[T]],
    *,
    timeout: float | None,  # noqa: ASYNC109 - a deadline over many calls, checked between them
    describe: Callable[[], str],
    first: float = POLL_FIRST,
    cap: float | None = None,
    started: float | None = None,
) -> AsyncIterator[T]:
    """Yield ``await fetch()`` again and again, sleeping between calls as ``poll_delays``.

    A transient failure (connection error, timeout, 5xx, 429: the transport's own retries
    already spent) is logged and the next poll tried, until ``timeout`` seconds have passed
    since the first call; without a timeout, until the failures have lasted
    ``OUTAGE_TOLERANCE`` seconds (then the last failure is raised). Past the deadline raises
    ``WaitTimeoutError`` with ``describe()`` as the message's subject. ``started`` (anyio
    time) dates the timeout from an earlier moment, for a wait that is part of a longer call.
    """
    started = anyio.current_time() if started is None else started
    deadline = None if timeout is None else started + timeout
    ceiling = ctx.poll_max if cap is None else cap
    delay = min(first, ceiling)
    failing_since: float | None = None
    while True:
        remaining = None if deadline is None else deadline - anyio.current_time()
        if remaining is not None and remaining <= 0:
            raise WaitTimeoutError(f"{describe()} within {timeout:g} s")
        try:
            with anyio.fail_after(remaining):
                value = await fetch()
        except TimeoutError:
            raise WaitTimeoutError(f"{describe()} within {timeout:g} s") from None
        except TRANSIENT_ERRORS as exc:
            now = anyio.current_time()
            failing_since = now if failing_since is None else failing_since
            if deadline is None and now - failing_since > OUTAGE_TOLERANCE:
                raise
            logger.warning(
                "poll failed, polling on",
                waiting_for=describe(),
                error=str(exc),
                failing_for_s=round(now - failing_since, 1),
            )
        else:
            failing_since = None
            yield value
        if deadline is not None:
            # One last poll at the deadline rather than a sleep past it.
            await anyio.sleep(max(0.0, min(delay, deadline - anyio.current_time())))
        else:
            await anyio.sleep(delay)
        delay = min(delay * 2, ceiling)
