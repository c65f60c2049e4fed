"""The connection pool every aggregate of the PostgreSQL store shares, and the body codecs.

asyncpg prepares each statement once per connection and keeps it in the connection's
statement cache, so repeated calls skip parsing and planning.
"""

from __future__ import annotations

from typing import Any

import msgspec

encode = msgspec.json.Encoder().encode


class Db:
    """Holds the pool between ``open`` and ``close``; aggregates reach it through ``pool``."""

    def __init__(self) -> None:
        self._pool: Any = None

    @property
    def pool(self) -> Any:
        if self._pool is None:
            raise RuntimeError("the store is not open")
        return self._pool

    def attach(self, pool: Any) -> None:
        self._pool = pool

    def detach(self) -> Any:
        pool, self._pool = self._pool, None
        return pool
