"""The connection pool every aggregate of the PostgreSQL store shares, and the body codecs.

asyncpg prepares each statement once per connection and keeps it in the connection's
statement cache, so repeated calls skip parsing and planning.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import msgspec

encode = msgspec.json.Encoder().encode


def redact(dsn: str) -> str:
    """``dsn`` without its password (in the user part or a ``password=`` parameter), for
    banners, logs and error messages."""
    try:
        parts = urlsplit(dsn)
    except ValueError:
        return "postgresql://(unparsable URL)"
    userinfo, at, hosts = parts.netloc.rpartition("@")
    netloc = f"{userinfo.partition(':')[0]}@{hosts}" if at else hosts
    kept = [(k, v) for k, v in parse_qsl(parts.query) if k.lower() != "password"]
    query = f"?{urlencode(kept, safe='/,')}" if kept else ""
    return f"{parts.scheme}://{netloc}{parts.path}{query}"


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
