"""API credentials (client id and secret pairs)."""

from __future__ import annotations

from ._db import Db


class PgClients:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def default_client(self) -> tuple[str, str]:
        """``(client_id, client_secret)`` of the first credential (created on first open)."""
        row = await self._db.pool.fetchrow(
            "SELECT client_id, client_secret FROM clients ORDER BY created_at, seq LIMIT 1"
        )
        if row is None:
            raise RuntimeError("the store has no credential: open() creates the first one")
        return row[0], row[1]

    async def client_secret(self, client_id: str) -> str | None:
        secret = await self._db.pool.fetchval(
            "SELECT client_secret FROM clients WHERE client_id = $1", client_id
        )
        return None if secret is None else str(secret)
