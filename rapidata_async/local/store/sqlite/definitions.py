"""Job definitions and their revisions."""

from __future__ import annotations

import sqlite3

import msgspec

from ...._wire import job as jwire
from ...domain.errors import NotFound
from ..base import OWNER_ID, OWNER_MAIL, DefinitionRow, ListQuery, RevisionRow
from ..seeds import new_id, now_iso
from ._db import Database
from ._listing import Columns
from .datasets import exists as dataset_exists
from .validation import exists as validation_set_exists

_enc = msgspec.json.Encoder()
_body = msgspec.json.Decoder(jwire.CreateJobDefinitionInput)
_COLS = "id, name, definition_type, created_at, owner_id, owner_mail, revision_count"
COLUMNS = Columns(
    filters={
        "id": "id",
        "name": "name",
        "definition_type": "definition_type",
        "created_at": "created_at",
        "owner_id": "owner_id",
        "owner_mail": "owner_mail",
    },
    sorts={"name": "name", "created_at": "created_at"},
)


def revision(
    conn: sqlite3.Connection, definition_id: str, number: int | None, owner: str | None = None
) -> RevisionRow:
    if owner is not None and not _owned(conn, definition_id, owner):
        raise NotFound("Job definition", definition_id)
    sql = (
        "SELECT definition_id, number, pipeline_id, created_at, body, validation_set_id "
        "FROM revisions "
    )
    if number is None:
        row = conn.execute(
            sql + "WHERE definition_id = ? ORDER BY number DESC LIMIT 1", (definition_id,)
        ).fetchone()
    else:
        row = conn.execute(
            sql + "WHERE definition_id = ? AND number = ?", (definition_id, number)
        ).fetchone()
    if row is None:
        if number is None:
            raise NotFound("Job definition", definition_id)
        raise NotFound(
            f"Revision {number} of job definition", definition_id, field="revisionNumber"
        )
    return RevisionRow(row[0], row[1], row[2], row[3], _body.decode(row[4]), row[5])


def _owned(conn: sqlite3.Connection, definition_id: str, owner: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM definitions WHERE id = ? AND owner = ?", (definition_id, owner)
    ).fetchone()
    return row is not None


class SqliteDefinitions:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        body: jwire.CreateJobDefinitionInput,
        definition_type: str,
        *,
        owner: str,
        validation_set_id: str | None = None,
    ) -> tuple[str, str]:
        definition_id, pipeline_id, created = new_id(), new_id(), now_iso()
        encoded = _enc.encode(body)

        def run() -> None:
            with self._db.tx() as conn:
                if not dataset_exists(conn, body.dataset_id, owner):
                    raise NotFound("Dataset", body.dataset_id, field="datasetId")
                if validation_set_id is not None and not validation_set_exists(
                    conn, validation_set_id, owner
                ):
                    raise NotFound("Validation set", validation_set_id, field="validationSetId")
                conn.execute(
                    f"INSERT INTO definitions ({_COLS}, owner) VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
                    (
                        definition_id,
                        body.definition_name,
                        definition_type,
                        created,
                        OWNER_ID,
                        OWNER_MAIL,
                        owner,
                    ),
                )
                conn.execute(
                    "INSERT INTO revisions (definition_id, number, pipeline_id, created_at, body, "
                    "validation_set_id) VALUES (?, 1, ?, ?, ?, ?)",
                    (definition_id, pipeline_id, created, encoded, validation_set_id),
                )

        await self._db.run(run)
        return definition_id, pipeline_id

    async def get(
        self, definition_id: str, *, owner: str | None, field: str | None = None
    ) -> DefinitionRow:
        def run() -> DefinitionRow:
            row = self._db.conn.execute(
                f"SELECT {_COLS} FROM definitions WHERE id = ? AND (? IS NULL OR owner = ?)",
                (definition_id, owner, owner),
            ).fetchone()
            if row is None:
                raise NotFound("Job definition", definition_id, field=field)
            return DefinitionRow(*row)

        return await self._db.run(run)

    async def list(self, query: ListQuery, *, owner: str) -> tuple[list[DefinitionRow], int]:
        where, params = COLUMNS.where(query, ("owner = ?", [owner]))
        order = COLUMNS.order(query, tiebreak="rowid DESC")
        limit, paging = COLUMNS.page(query)

        def run() -> tuple[list[DefinitionRow], int]:
            conn = self._db.conn
            count = int(
                conn.execute(f"SELECT COUNT(*) FROM definitions{where}", params).fetchone()[0]
            )
            rows = conn.execute(
                f"SELECT {_COLS} FROM definitions{where}{order}{limit}", [*params, *paging]
            )
            return [DefinitionRow(*r) for r in rows], count

        return await self._db.run(run)

    async def revision(
        self, definition_id: str, number: int | None = None, *, owner: str | None
    ) -> RevisionRow:
        return await self._db.run(revision, self._db.conn, definition_id, number, owner)
