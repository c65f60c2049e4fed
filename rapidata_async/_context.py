"""What every manager and resource object shares: the transport and the client's hosts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from ._transport import Transport

if TYPE_CHECKING:
    from ._uploads._cache import AssetCache

# Polling starts fast (the local backend answers in milliseconds) and backs off to the pace
# the real service recommends, so neither side is flooded.
POLL_FIRST = 0.05
POLL_MAX = 5.0


@dataclass(eq=False)
class ClientContext:
    transport: Transport
    environment: str
    app_url: str
    asset_cache: AssetCache
    poll_max: float = POLL_MAX

    def app_link(self, path: str) -> str:
        return f"{self.app_url.rstrip('/')}/{path.lstrip('/')}"


async def poll_delays(
    ctx: ClientContext, first: float = POLL_FIRST, cap: float | None = None
) -> AsyncIterator[None]:
    """Yield forever, sleeping between iterations with exponential backoff up to ``cap``
    (default ``poll_max``)."""
    ceiling = ctx.poll_max if cap is None else cap
    delay = min(first, ceiling)
    while True:
        yield
        await anyio.sleep(delay)
        delay = min(delay * 2, ceiling)
