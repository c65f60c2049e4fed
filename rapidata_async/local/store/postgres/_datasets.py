"""Datasets and their datapoints."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from ...._wire import dataset as dwire
from ..._datapoints import asset_refs, check_schema, check_shape
from ...domain.errors import NotFound
from ..base import DatapointRow, DatasetRow
from ..seeds import new_id, now_iso
from ._assets import check_assets
from ._db import Db, encode

_dataset_body = msgspec.json.Decoder(dwire.CreateDatasetInput)
_datapoint_body = msgspec.json.Decoder(dwire.CreateDatapointInput)
_SCHEMA_CACHE_SIZE = 4096

Schema = list[dwire.DatasetSegmentDefinition] | None


async def datapoints_on(conn: Any, dataset_id: str) -> list[DatapointRow]:
    """In ``sortIndex`` order, datapoints without one last in insertion order."""
    rows = await conn.fetch(
        "SELECT id, sort_index, body FROM datapoints WHERE dataset_id = $1 "
        "ORDER BY sort_index ASC NULLS LAST, seq",
        dataset_id,
    )
    return [DatapointRow(r[0], r[1], _datapoint_body.decode(r[2])) for r in rows]


class PgDatasets:
    def __init__(self, db: Db) -> None:
        self._db = db
        # A dataset's owner and schema never change: datapoint inserts read them once per
        # process.
        self._schemas: dict[str, tuple[str, Schema]] = {}

    def forget(self) -> None:
        self._schemas.clear()

    async def create(self, body: dwire.CreateDatasetInput, *, owner: str) -> str:
        dataset_id = new_id()
        await self._db.pool.execute(
            "INSERT INTO datasets (id, name, created_at, body, owner) VALUES ($1, $2, $3, $4, $5)",
            dataset_id,
            body.name,
            now_iso(),
            encode(body),
            owner,
        )
        return dataset_id

    async def get(
        self, dataset_id: str, *, owner: str | None, field: str | None = None
    ) -> DatasetRow:
        row = await self._db.pool.fetchrow(
            "SELECT id, name, created_at, body FROM datasets WHERE id = $1 "
            "AND ($2::text IS NULL OR owner = $2)",
            dataset_id,
            owner,
        )
        if row is None:
            raise NotFound("Dataset", dataset_id, field=field)
        return DatasetRow(row[0], row[1], row[2], _dataset_body.decode(row[3]).schema)

    async def _schema(self, conn: Any, dataset_id: str, owner: str) -> Schema:
        """The schema of ``owner``'s dataset (``NotFound`` for anyone else's)."""
        if dataset_id not in self._schemas:
            row = await conn.fetchrow("SELECT owner, body FROM datasets WHERE id = $1", dataset_id)
            if row is None:
                raise NotFound("Dataset", dataset_id)
            if len(self._schemas) >= _SCHEMA_CACHE_SIZE:
                self._schemas.clear()
            self._schemas[dataset_id] = (row[0], _dataset_body.decode(row[1]).schema)
        dataset_owner, schema = self._schemas[dataset_id]
        if dataset_owner != owner:
            raise NotFound("Dataset", dataset_id)
        return schema

    async def add_datapoint(
        self, dataset_id: str, body: dwire.CreateDatapointInput, *, owner: str
    ) -> tuple[str, bool]:
        """Insert a datapoint, ``(id, created)``. The same ``sortIndex`` with the same content
        is a retry and returns the existing id with ``created=False``; assets ``owner`` never
        uploaded raise ``Invalid`` naming each field."""
        check_shape(body)
        encoded = encode(body)
        # Other content under a used sortIndex is a new datapoint: the official client
        # renumbers its retried datapoints from 0.
        digest = hashlib.blake2b(encoded, digest_size=16).digest()
        async with self._db.pool.acquire() as conn:
            schema = await self._schema(conn, dataset_id, owner)
            if schema:
                check_schema(schema, body)
            await check_assets(conn, asset_refs(body), owner)
            datapoint_id = await conn.fetchval(
                "INSERT INTO datapoints (id, dataset_id, sort_index, body, digest) "
                "VALUES ($1, $2, $3, $4, $5) "
                "ON CONFLICT (dataset_id, sort_index, digest) DO NOTHING RETURNING id",
                new_id(),
                dataset_id,
                body.sort_index,
                encoded,
                digest,
            )
            if datapoint_id is not None:
                return datapoint_id, True
            existing = await conn.fetchval(
                "SELECT id FROM datapoints "
                "WHERE dataset_id = $1 AND sort_index = $2 AND digest = $3",
                dataset_id,
                body.sort_index,
                digest,
            )
            return existing, False

    async def datapoints(self, dataset_id: str, *, owner: str | None) -> list[DatapointRow]:
        """In ``sortIndex`` order (datapoints without one last, in insertion order)."""
        if owner is not None:
            await self.get(dataset_id, owner=owner)
        return await datapoints_on(self._db.pool, dataset_id)

    async def datapoint_count(self, dataset_id: str) -> int:
        count = await self._db.pool.fetchval(
            "SELECT count(*) FROM datapoints WHERE dataset_id = $1", dataset_id
        )
        return int(count)
