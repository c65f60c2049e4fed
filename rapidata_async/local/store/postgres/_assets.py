"""Uploaded assets and URL batch uploads (whose completed items become assets)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from ...._wire import asset as awire
from ...domain.errors import NotFound, check_known_assets
from ..base import BatchRow
from ..seeds import now_iso
from ._db import Db, encode

_items = msgspec.json.Decoder(list[awire.BatchUploadUrlOutput])
_BATCH_COLS = "id, correlation_id, status, created_at, items, owner"


async def check_assets(conn: Any, refs: Sequence[tuple[str, str]], owner: str) -> None:
    """Raise ``Invalid`` naming each field (``refs``: field path, asset name) whose asset
    ``owner`` never uploaded (another tenant's file is unknown here, like one never sent)."""
    if not refs:
        return
    names = sorted({name for _, name in refs})
    rows = await conn.fetch(
        "SELECT name FROM assets WHERE name = ANY($1) AND owner = $2", names, owner
    )
    known = {row[0] for row in rows}
    check_known_assets(refs, known)


class PgAssets:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def add(
        self,
        name: str,
        *,
        owner: str,
        original_name: str | None,
        source_url: str | None,
        size: int | None,
    ) -> None:
        # The same name again replaces what is known of it.
        await self._db.pool.execute(
            "INSERT INTO assets (name, original_name, source_url, size, created_at, owner) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO UPDATE SET "
            "original_name = EXCLUDED.original_name, source_url = EXCLUDED.source_url, "
            "size = EXCLUDED.size, created_at = EXCLUDED.created_at, owner = EXCLUDED.owner",
            name,
            original_name,
            source_url,
            size,
            now_iso(),
            owner,
        )

    async def missing(self, names: Sequence[str], *, owner: str | None) -> set[str]:
        """The names among ``names`` that ``owner`` never uploaded."""
        wanted = list(dict.fromkeys(names))
        rows = await self._db.pool.fetch(
            "SELECT name FROM assets WHERE name = ANY($1::text[]) "
            "AND ($2::text IS NULL OR owner = $2)",
            wanted,
            owner,
        )
        return set(wanted) - {row[0] for row in rows}

    async def originals(self, names: Sequence[str]) -> dict[str, str]:
        """Original file name per asset name, for the names uploaded as files."""
        rows = await self._db.pool.fetch(
            "SELECT name, original_name FROM assets WHERE name = ANY($1::text[]) "
            "AND original_name IS NOT NULL",
            list(dict.fromkeys(names)),
        )
        return {row[0]: row[1] for row in rows}

    async def urls(self, names: Sequence[str]) -> dict[str, str]:
        """Source URL per asset name, for the names that came from a URL."""
        rows = await self._db.pool.fetch(
            "SELECT name, source_url FROM assets WHERE name = ANY($1::text[]) "
            "AND source_url IS NOT NULL",
            list(dict.fromkeys(names)),
        )
        return {row[0]: row[1] for row in rows}


def _batch(row: Any) -> BatchRow:
    return BatchRow(row[0], row[1], row[2], row[3], _items.decode(row[4]), row[5])


class PgBatches:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def save(self, batch: BatchRow) -> None:
        """Insert or replace a batch; its ``Completed`` items become assets."""
        completed = [
            (item.file_name, item.url, batch.created_at, batch.owner)
            for item in batch.items
            if item.status == "Completed" and item.file_name
        ]
        async with self._db.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO batches (id, correlation_id, status, created_at, items, owner) "
                "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET "
                "correlation_id = EXCLUDED.correlation_id, status = EXCLUDED.status, "
                "created_at = EXCLUDED.created_at, items = EXCLUDED.items",
                batch.id,
                batch.correlation_id,
                batch.status,
                batch.created_at,
                encode(batch.items),
                batch.owner,
            )
            if completed:
                await conn.executemany(
                    "INSERT INTO assets (name, original_name, source_url, size, created_at, "
                    "owner) VALUES ($1, NULL, $2, NULL, $3, $4) ON CONFLICT (name) DO NOTHING",
                    completed,
                )

    async def get(self, batch_id: str, *, owner: str | None) -> BatchRow:
        row = await self._db.pool.fetchrow(
            f"SELECT {_BATCH_COLS} FROM batches WHERE id = $1 AND ($2::text IS NULL OR owner = $2)",
            batch_id,
            owner,
        )
        if row is None:
            raise NotFound("Batch upload", batch_id)
        return _batch(row)

    async def find(
        self, correlation_id: str | None, batch_ids: Sequence[str], *, owner: str | None
    ) -> list[BatchRow]:
        if not correlation_id and not batch_ids:
            return []
        rows = await self._db.pool.fetch(
            f"SELECT {_BATCH_COLS} FROM batches "
            "WHERE (correlation_id = $1 OR id = ANY($2::text[])) "
            "AND ($3::text IS NULL OR owner = $3) ORDER BY created_at, seq",
            correlation_id or None,
            list(batch_ids),
            owner,
        )
        return [_batch(row) for row in rows]

    async def in_status(self, status: str) -> list[str]:
        """Ids of batches in ``status`` (resume ``Processing`` ones after a crash)."""
        rows = await self._db.pool.fetch(
            "SELECT id FROM batches WHERE status = $1 ORDER BY created_at, seq", status
        )
        return [row[0] for row in rows]
