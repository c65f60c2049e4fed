"""OAuth client credentials."""

from __future__ import annotations

from ._db import Database


class SqliteClients:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def default_client(self) -> tuple[str, str]:
        def run() -> tuple[str, str]:
            row = self._db.conn.execute(
                "SELECT client_id, client_secret FROM clients ORDER BY created_at, rowid LIMIT 1"
            ).fetchone()
            return row[0], row[1]

        return await self._db.run(run)

    async def client_secret(self, client_id: str) -> str | None:
        def run() -> str | None:
            row = self._db.conn.execute(
                "SELECT client_secret FROM clients WHERE client_id = ?", (client_id,)
            ).fetchone()
            return None if row is None else str(row[0])

        return await self._db.run(run)
