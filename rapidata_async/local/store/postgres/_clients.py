"""API credentials: client ids, their tenants and scrypt hashes of their secrets."""

from __future__ import annotations

import builtins

from ..base import ClientRow
from ..seeds import now_iso
from ._db import Db

_LOCK = (
    "SELECT pg_advisory_xact_lock("
    "hashtext('rapidata_async.clients:' || coalesce(current_schema(), '')))"
)


class PgClients:
    def __init__(self, db: Db) -> None:
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
        async with self._db.pool.acquire() as conn, conn.transaction():
            if join_first and tenant is None:
                # Serialises first credentials: processes starting together share a tenant.
                await conn.execute(_LOCK)
                first = await conn.fetchval(
                    "SELECT tenant FROM clients ORDER BY created_at, seq LIMIT 1"
                )
                own = first or own
            await conn.execute(
                "INSERT INTO clients (client_id, client_secret, created_at, tenant) "
                "VALUES ($1, $2, $3, $4)",
                client_id,
                secret_hash,
                now_iso(),
                own,
            )
        return own

    async def get(self, client_id: str) -> tuple[ClientRow, str] | None:
        row = await self._db.pool.fetchrow(
            "SELECT client_id, tenant, created_at, client_secret FROM clients WHERE client_id = $1",
            client_id,
        )
        return None if row is None else (ClientRow(row[0], row[1], row[2]), row[3])

    async def list(self) -> builtins.list[ClientRow]:
        rows = await self._db.pool.fetch(
            "SELECT client_id, tenant, created_at FROM clients ORDER BY created_at, seq"
        )
        return [ClientRow(row[0], row[1], row[2]) for row in rows]

    async def remove(self, client_id: str) -> bool:
        removed = await self._db.pool.fetchval(
            "DELETE FROM clients WHERE client_id = $1 RETURNING 1", client_id
        )
        return removed is not None
