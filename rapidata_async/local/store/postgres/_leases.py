"""Leases on work several processes could do: one owner per ``(kind, key)`` until it expires.

Expiry is judged by the database clock, so processes on machines whose clocks disagree still
agree on who holds what. Keys are taken in sorted order so that two processes acquiring
overlapping sets lock the rows in the same order and never deadlock.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._db import Db


def _keys(keys: Sequence[str]) -> list[str]:
    return sorted(set(keys))


def _in_order(keys: Sequence[str], held: set[str]) -> list[str]:
    return [key for key in dict.fromkeys(keys) if key in held]


class PgLeases:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def acquire(self, kind: str, keys: Sequence[str], owner: str, ttl: float) -> list[str]:
        """Take the leases ``(kind, key)`` that are free, expired, or already ``owner``'s, for
        ``ttl`` seconds from now; returns the keys ``owner`` now holds."""
        if not keys:
            return []
        rows = await self._db.pool.fetch(
            "INSERT INTO leases (kind, key, owner, expires_at) "
            "SELECT $1, k, $3, clock_timestamp() + make_interval(secs => $4) "
            "FROM unnest($2::text[]) AS k "
            "ON CONFLICT (kind, key) DO UPDATE "
            "SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at "
            "WHERE leases.expires_at < clock_timestamp() OR leases.owner = EXCLUDED.owner "
            "RETURNING key",
            kind,
            _keys(keys),
            owner,
            ttl,
        )
        return _in_order(keys, {row[0] for row in rows})

    async def renew(self, kind: str, keys: Sequence[str], owner: str, ttl: float) -> list[str]:
        """Extend the leases ``owner`` still holds; returns those keys (a lost one is gone)."""
        if not keys:
            return []
        # An expired lease nobody took yet is still ours: no one else has started the work.
        rows = await self._db.pool.fetch(
            "UPDATE leases SET expires_at = clock_timestamp() + make_interval(secs => $4) "
            "WHERE kind = $1 AND key = ANY($2::text[]) AND owner = $3 RETURNING key",
            kind,
            _keys(keys),
            owner,
            ttl,
        )
        return _in_order(keys, {row[0] for row in rows})

    async def release(self, kind: str, keys: Sequence[str], owner: str) -> None:
        if keys:
            await self._db.pool.execute(
                "DELETE FROM leases WHERE kind = $1 AND key = ANY($2::text[]) AND owner = $3",
                kind,
                _keys(keys),
                owner,
            )
