"""Datasets and their datapoints."""

from __future__ import annotations

import hashlib
import sqlite3

import msgspec

from ...._wire import dataset as dwire
from ..._datapoints import asset_refs, check_schema, check_shape
from ...domain.errors import NotFound
from ..base import DatapointRow, DatasetRow
from ..seeds import new_id, now_iso
from ._db import Database
from .assets import check_known

_enc = msgspec.json.Encoder()
_dataset_body = msgspec.json.Decoder(dwire.CreateDatasetInput)
_datapoint_body = msgspec.json.Decoder(dwire.CreateDatapointInput)


# Appended to a query on ``datasets`` with the owner twice: any owner's rows for None.
SCOPE = " AND (? IS NULL OR owner = ?)"


def datapoints(conn: sqlite3.Connection, dataset_id: str) -> list[DatapointRow]:
    rows = conn.execute(
        "SELECT id, sort_index, body FROM datapoints WHERE dataset_id = ? "
        "ORDER BY sort_index IS NULL, sort_index, rowid",
        (dataset_id,),
    )
    return [DatapointRow(r[0], r[1], _datapoint_body.decode(r[2])) for r in rows]


def exists(conn: sqlite3.Connection, dataset_id: str, owner: str | None) -> bool:
    row = conn.execute(f"SELECT 1 FROM datasets WHERE id = ?{SCOPE}", (dataset_id, owner, owner))
    return row.fetchone() is not None


class SqliteDatasets:
    def __init__(self, db: Database) -> None:
        self._db = db
        # Owner and schema of datasets seen by datapoint inserts (neither ever changes);
        # only touched in the worker thread.
        self._schemas: dict[str, tuple[str, list[dwire.DatasetSegmentDefinition] | None]] = {}

    def forget(self) -> None:
        """Drop cached schemas (after a reset)."""
        self._schemas.clear()

    async def create(self, body: dwire.CreateDatasetInput, *, owner: str) -> str:
        dataset_id = new_id()
        await self._db.run(
            self._db.conn.execute,
            "INSERT INTO datasets (id, name, created_at, body, owner) VALUES (?, ?, ?, ?, ?)",
            (dataset_id, body.name, now_iso(), _enc.encode(body), owner),
        )
        return dataset_id

    async def get(
        self, dataset_id: str, *, owner: str | None, field: str | None = None
    ) -> DatasetRow:
        def run() -> DatasetRow:
            row = self._db.conn.execute(
                f"SELECT id, name, created_at, body FROM datasets WHERE id = ?{SCOPE}",
                (dataset_id, owner, owner),
            ).fetchone()
            if row is None:
                raise NotFound("Dataset", dataset_id, field=field)
            return DatasetRow(row[0], row[1], row[2], _dataset_body.decode(row[3]).schema)

        return await self._db.run(run)

    async def add_datapoint(
        self, dataset_id: str, body: dwire.CreateDatapointInput, *, owner: str
    ) -> tuple[str, bool]:
        check_shape(body)
        refs = asset_refs(body)
        encoded = _enc.encode(body)
        return await self._db.run(self._add_datapoint, dataset_id, body, refs, encoded, owner)

    def _add_datapoint(
        self,
        dataset_id: str,
        body: dwire.CreateDatapointInput,
        refs: list[tuple[str, str]],
        encoded: bytes,
        owner: str,
    ) -> tuple[str, bool]:
        conn = self._db.conn
        if dataset_id not in self._schemas:
            row = conn.execute(
                "SELECT owner, body FROM datasets WHERE id = ?", (dataset_id,)
            ).fetchone()
            if row is None:
                raise NotFound("Dataset", dataset_id)
            self._schemas[dataset_id] = (row[0], _dataset_body.decode(row[1]).schema)
        dataset_owner, schema = self._schemas[dataset_id]
        if dataset_owner != owner:
            raise NotFound("Dataset", dataset_id)
        if schema:
            check_schema(schema, body)
        check_known(conn, refs, owner)
        # A repeat of the same datapoint (same sortIndex, same content) is a retry and answers
        # with the existing one. Other content under a used sortIndex is a new datapoint: the
        # official client renumbers its retried datapoints from 0.
        digest = hashlib.blake2b(encoded, digest_size=16).digest()
        datapoint_id = new_id()
        cur = conn.execute(
            "INSERT OR IGNORE INTO datapoints (id, dataset_id, sort_index, body, digest) "
            "VALUES (?, ?, ?, ?, ?)",
            (datapoint_id, dataset_id, body.sort_index, encoded, digest),
        )
        if cur.rowcount == 1:
            return datapoint_id, True
        row = conn.execute(
            "SELECT id FROM datapoints WHERE dataset_id = ? AND sort_index = ? AND digest = ?",
            (dataset_id, body.sort_index, digest),
        ).fetchone()
        return row[0], False

    async def datapoints(self, dataset_id: str, *, owner: str | None) -> list[DatapointRow]:
        def run() -> list[DatapointRow]:
            if owner is not None and not exists(self._db.conn, dataset_id, owner):
                raise NotFound("Dataset", dataset_id)
            return datapoints(self._db.conn, dataset_id)

        return await self._db.run(run)

    async def datapoint_count(self, dataset_id: str) -> int:
        def run() -> int:
            row = self._db.conn.execute(
                "SELECT COUNT(*) FROM datapoints WHERE dataset_id = ?", (dataset_id,)
            ).fetchone()
            return int(row[0])

        return await self._db.run(run)
