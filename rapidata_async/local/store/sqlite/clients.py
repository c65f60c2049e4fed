"""OAuth client credentials: ids, tenants and scrypt hashes of their secrets."""

from __future__ import annotations

import builtins

from ..base import ClientRow
from ..seeds import now_iso
from ._db import Database


class SqliteClients:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        client_id: str,
        secret_hash: str,
        *,
        tenant: str | None = None,
        join_first: bool = False,
    ) -> str:
        own = tenant or client_id
        # One statement: no other writer comes between reading the first tenant and the insert.
        first = "(SELECT tenant FROM clients ORDER BY created_at, rowid LIMIT 1)"
        chosen = f"COALESCE({first}, ?)" if join_first and tenant is None else "?"

        def run() -> str:
            conn = self._db.conn
            conn.execute(
                "INSERT INTO clients (client_id, client_secret, created_at, tenant) "
                f"SELECT ?, ?, ?, {chosen}",
                (client_id, secret_hash, now_iso(), own),
            )
            row = conn.execute(
                "SELECT tenant FROM clients WHERE client_id = ?", (client_id,)
            ).fetchone()
            return str(row[0])

        return await self._db.run(run)

    async def get(self, client_id: str) -> tuple[ClientRow, str] | None:
        def run() -> tuple[ClientRow, str] | None:
            row = self._db.conn.execute(
                "SELECT client_id, tenant, created_at, client_secret FROM clients "
                "WHERE client_id = ?",
                (client_id,),
            ).fetchone()
            return None if row is None else (ClientRow(row[0], row[1], row[2]), row[3])

        return await self._db.run(run)

    async def list(self) -> builtins.list[ClientRow]:
        def run() -> builtins.list[ClientRow]:
            rows = self._db.conn.execute(
                "SELECT client_id, tenant, created_at FROM clients ORDER BY created_at, rowid"
            )
            return [ClientRow(*row) for row in rows]

        return await self._db.run(run)

    async def remove(self, client_id: str) -> bool:
        def run() -> bool:
            cur = self._db.conn.execute("DELETE FROM clients WHERE client_id = ?", (client_id,))
            return cur.rowcount == 1

        return await self._db.run(run)
