"""URL batch uploads; their completed items are assets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from ...._wire import asset as awire
from ...domain.errors import NotFound
from ..base import BatchRow
from ._db import Database

_enc = msgspec.json.Encoder()
_items = msgspec.json.Decoder(list[awire.BatchUploadUrlOutput])
_COLS = "id, correlation_id, status, created_at, items, owner"


def _row(row: Sequence[Any]) -> BatchRow:
    return BatchRow(row[0], row[1], row[2], row[3], _items.decode(row[4]), row[5])


class SqliteBatches:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, batch: BatchRow) -> None:
        encoded = _enc.encode(batch.items)

        def run() -> None:
            with self._db.tx() as conn:
                conn.execute(
                    f"INSERT OR REPLACE INTO batches ({_COLS}) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        batch.id,
                        batch.correlation_id,
                        batch.status,
                        batch.created_at,
                        encoded,
                        batch.owner,
                    ),
                )
                conn.executemany(
                    "INSERT OR IGNORE INTO assets (name, original_name, source_url, size, "
                    "created_at, owner) VALUES (?, NULL, ?, NULL, ?, ?)",
                    [
                        (item.file_name, item.url, batch.created_at, batch.owner)
                        for item in batch.items
                        if item.status == "Completed" and item.file_name
                    ],
                )

        await self._db.run(run)

    async def get(self, batch_id: str, *, owner: str | None) -> BatchRow:
        def run() -> BatchRow:
            row = self._db.conn.execute(
                f"SELECT {_COLS} FROM batches WHERE id = ? AND (? IS NULL OR owner = ?)",
                (batch_id, owner, owner),
            ).fetchone()
            if row is None:
                raise NotFound("Batch upload", batch_id)
            return _row(row)

        return await self._db.run(run)

    async def find(
        self, correlation_id: str | None, batch_ids: Sequence[str], *, owner: str | None
    ) -> list[BatchRow]:
        def run() -> list[BatchRow]:
            params: list[str] = []
            clauses = []
            if correlation_id:
                clauses.append("correlation_id = ?")
                params.append(correlation_id)
            if batch_ids:
                clauses.append(f"id IN ({', '.join('?' * len(batch_ids))})")
                params.extend(batch_ids)
            if not clauses:
                return []
            rows = self._db.conn.execute(
                f"SELECT {_COLS} FROM batches WHERE ({' OR '.join(clauses)}) "
                "AND (? IS NULL OR owner = ?) ORDER BY created_at, rowid",
                [*params, owner, owner],
            )
            return [_row(row) for row in rows]

        return await self._db.run(run)

    async def in_status(self, status: str) -> list[str]:
        def run() -> list[str]:
            rows = self._db.conn.execute(
                "SELECT id FROM batches WHERE status = ? ORDER BY created_at, rowid", (status,)
            )
            return [r[0] for r in rows]

        return await self._db.run(run)
