"""Job definitions and their revisions."""

from __future__ import annotations

from typing import Any

import msgspec

from ...._wire import job as jwire
from ...domain.errors import NotFound
from ..base import OWNER_ID, OWNER_MAIL, DefinitionRow, ListQuery, RevisionRow
from ..seeds import new_id, now_iso
from ._db import Db, encode
from ._query import Column, Sql, order_clause, page_clause, where_clause

_body = msgspec.json.Decoder(jwire.CreateJobDefinitionInput)
_COLS = "id, name, definition_type, created_at, owner_id, owner_mail, revision_count"
COLUMNS = {
    "id": Column("id"),
    "definition_id": Column("id"),
    "name": Column("name"),
    "definition_type": Column("definition_type"),
    "created_at": Column("created_at"),
    "owner_id": Column("owner_id"),
    "owner_mail": Column("owner_mail"),
    "revision_count": Column("revision_count", "int"),
}


async def revision_on(
    conn: Any, definition_id: str, number: int | None, owner: str | None = None
) -> RevisionRow:
    if owner is not None:
        owned = await conn.fetchval(
            "SELECT 1 FROM definitions WHERE id = $1 AND owner = $2", definition_id, owner
        )
        if owned is None:
            raise NotFound("Job definition", definition_id)
    sql = (
        "SELECT definition_id, number, pipeline_id, created_at, body, validation_set_id "
        "FROM revisions "
    )
    if number is None:
        row = await conn.fetchrow(
            sql + "WHERE definition_id = $1 ORDER BY number DESC LIMIT 1", definition_id
        )
    else:
        row = await conn.fetchrow(
            sql + "WHERE definition_id = $1 AND number = $2", definition_id, number
        )
    if row is None:
        if number is None:
            raise NotFound("Job definition", definition_id)
        raise NotFound(
            f"Revision {number} of job definition", definition_id, field="revisionNumber"
        )
    return RevisionRow(row[0], row[1], row[2], row[3], _body.decode(row[4]), row[5])


class PgDefinitions:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def create(
        self,
        body: jwire.CreateJobDefinitionInput,
        definition_type: str,
        *,
        owner: str,
        validation_set_id: str | None = None,
    ) -> tuple[str, str]:
        """A new definition with its revision 1 on a dataset of ``owner``;
        ``(definition_id, pipeline_id)``."""
        definition_id, pipeline_id, created = new_id(), new_id(), now_iso()
        async with self._db.pool.acquire() as conn, conn.transaction():
            dataset = await conn.fetchval(
                "SELECT 1 FROM datasets WHERE id = $1 AND owner = $2", body.dataset_id, owner
            )
            if dataset is None:
                raise NotFound("Dataset", body.dataset_id, field="datasetId")
            if validation_set_id is not None:
                found = await conn.fetchval(
                    "SELECT 1 FROM validation_sets WHERE id = $1 AND owner = $2",
                    validation_set_id,
                    owner,
                )
                if found is None:
                    raise NotFound("Validation set", validation_set_id, field="validationSetId")
            await conn.execute(
                "INSERT INTO definitions (id, name, definition_type, created_at, owner_id, "
                "owner_mail, revision_count, owner) VALUES ($1, $2, $3, $4, $5, $6, 1, $7)",
                definition_id,
                body.definition_name,
                definition_type,
                created,
                OWNER_ID,
                OWNER_MAIL,
                owner,
            )
            await conn.execute(
                "INSERT INTO revisions (definition_id, number, pipeline_id, created_at, body, "
                "validation_set_id) VALUES ($1, 1, $2, $3, $4, $5)",
                definition_id,
                pipeline_id,
                created,
                encode(body),
                validation_set_id,
            )
        return definition_id, pipeline_id

    async def get(
        self, definition_id: str, *, owner: str | None, field: str | None = None
    ) -> DefinitionRow:
        row = await self._db.pool.fetchrow(
            f"SELECT {_COLS} FROM definitions WHERE id = $1 AND ($2::text IS NULL OR owner = $2)",
            definition_id,
            owner,
        )
        if row is None:
            raise NotFound("Job definition", definition_id, field=field)
        return DefinitionRow(*row)

    async def list(self, query: ListQuery, *, owner: str) -> tuple[list[DefinitionRow], int]:
        sql = Sql()
        where = where_clause(query, COLUMNS, sql, ("owner = {}", owner))
        order = order_clause(query, COLUMNS, tiebreak="seq DESC")
        async with self._db.pool.acquire() as conn:
            total = await conn.fetchval(f"SELECT count(*) FROM definitions{where}", *sql.params)
            page = page_clause(query, sql)
            rows = await conn.fetch(
                f"SELECT {_COLS} FROM definitions{where}{order}{page}", *sql.params
            )
        return [DefinitionRow(*row) for row in rows], int(total)

    async def revision(
        self, definition_id: str, number: int | None = None, *, owner: str | None
    ) -> RevisionRow:
        """Revision ``number``, or the latest when None."""
        return await revision_on(self._db.pool, definition_id, number, owner)
