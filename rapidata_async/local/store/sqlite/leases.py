"""Leases on background work: ``(kind, key)`` held by one owner until it expires.

A single SQLite process always gets its own leases; they still expire and change hands as the
interface says, so the engine behaves the same on every store. Expiry uses wall-clock seconds,
which every process on a machine shares.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

from ._db import Database


class SqliteLeases:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def acquire(self, kind: str, keys: Sequence[str], owner: str, ttl: float) -> list[str]:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return []

        def run() -> list[str]:
            now = time.time()
            with self._db.tx() as conn:
                conn.executemany(
                    "INSERT INTO leases (kind, key, owner, expires_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (kind, key) DO UPDATE SET owner = excluded.owner, "
                    "expires_at = excluded.expires_at "
                    "WHERE leases.owner = excluded.owner OR leases.expires_at <= ?",
                    [(kind, key, owner, now + ttl, now) for key in wanted],
                )
                return _held(conn, kind, wanted, owner)

        return await self._db.run(run)

    async def renew(self, kind: str, keys: Sequence[str], owner: str, ttl: float) -> list[str]:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return []

        def run() -> list[str]:
            with self._db.tx() as conn:
                conn.executemany(
                    "UPDATE leases SET expires_at = ? WHERE kind = ? AND key = ? AND owner = ?",
                    [(time.time() + ttl, kind, key, owner) for key in wanted],
                )
                return _held(conn, kind, wanted, owner)

        return await self._db.run(run)

    async def release(self, kind: str, keys: Sequence[str], owner: str) -> None:
        await self._db.run(
            self._db.conn.executemany,
            "DELETE FROM leases WHERE kind = ? AND key = ? AND owner = ?",
            [(kind, key, owner) for key in dict.fromkeys(keys)],
        )


def _held(conn: sqlite3.Connection, kind: str, keys: list[str], owner: str) -> list[str]:
    held: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        held.update(
            row[0]
            for row in conn.execute(
                f"SELECT key FROM leases WHERE kind = ? AND owner = ? AND key IN ({marks})",
                [kind, owner, *chunk],
            )
        )
    return [key for key in keys if key in held]
