"""Validation sets and their rapids."""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Sequence
from typing import Any

import msgspec

from ...._wire import validation as vwire
from ..._datapoints import example_asset_refs
from ...domain.errors import NotFound
from ..base import OWNER_MAIL, ListQuery, ValidationAnswer, ValidationSetRow
from ..seeds import new_id, now_iso
from ._db import Database
from ._listing import Columns
from .assets import check_known

_enc = msgspec.json.Encoder()
_dims = msgspec.json.Decoder(list[str])
_rapid = msgspec.json.Decoder(vwire.AddValidationRapidInput)
_COLS = (
    "v.id, v.name, v.created_at, v.owner_mail, v.dimensions, "
    "(SELECT COUNT(*) FROM validation_rapids r WHERE r.set_id = v.id), v.modalities"
)
COLUMNS = Columns(
    filters={"id": "v.id", "name": "v.name", "created_at": "v.created_at"},
    sorts={"name": "v.name", "created_at": "v.created_at"},
)


def _row(row: Sequence[Any]) -> ValidationSetRow:
    modalities = [m for m in str(row[6]).split(",") if m]
    dimensions = _dims.decode(row[4])
    return ValidationSetRow(row[0], row[1], row[2], row[3], dimensions, row[5], modalities)


def rapids(conn: sqlite3.Connection, set_id: str) -> list[vwire.AddValidationRapidInput]:
    rows = conn.execute(
        "SELECT body FROM validation_rapids WHERE set_id = ? ORDER BY seq", (set_id,)
    )
    return [_rapid.decode(r[0]) for r in rows]


def exists(conn: sqlite3.Connection, set_id: str, owner: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM validation_sets WHERE id = ? AND owner = ?", (set_id, owner)
    ).fetchone()
    return row is not None


def _modality(body: vwire.AddValidationRapidInput) -> str:
    return "Compare" if isinstance(body.payload, vwire.ComparePayload) else "Classify"


class SqliteValidationSets:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, body: vwire.CreateValidationSetInput, *, owner: str) -> str:
        set_id = new_id()
        await self._db.run(
            self._db.conn.execute,
            "INSERT INTO validation_sets (id, name, created_at, owner_mail, dimensions, "
            "modalities, owner) VALUES (?, ?, ?, ?, '[]', '', ?)",
            (set_id, body.name, now_iso(), OWNER_MAIL, owner),
        )
        return set_id

    def _get(self, set_id: str, owner: str | None, field: str | None) -> ValidationSetRow:
        row = self._db.conn.execute(
            f"SELECT {_COLS} FROM validation_sets v WHERE v.id = ? AND (? IS NULL OR v.owner = ?)",
            (set_id, owner, owner),
        ).fetchone()
        if row is None:
            raise NotFound("Validation set", set_id, field=field)
        return _row(row)

    async def get(
        self, set_id: str, *, owner: str | None, field: str | None = None
    ) -> ValidationSetRow:
        return await self._db.run(self._get, set_id, owner, field)

    async def list(self, query: ListQuery, *, owner: str) -> tuple[list[ValidationSetRow], int]:
        where, params = COLUMNS.where(query, ("v.owner = ?", [owner]))
        order = COLUMNS.order(query, tiebreak="v.rowid DESC")
        limit, paging = COLUMNS.page(query)

        def run() -> tuple[list[ValidationSetRow], int]:
            conn = self._db.conn
            sql = f"SELECT COUNT(*) FROM validation_sets v{where}"
            count = int(conn.execute(sql, params).fetchone()[0])
            rows = conn.execute(
                f"SELECT {_COLS} FROM validation_sets v{where}{order}{limit}", [*params, *paging]
            )
            return [_row(r) for r in rows], count

        return await self._db.run(run)

    async def add_rapid(
        self, set_id: str, body: vwire.AddValidationRapidInput, *, owner: str
    ) -> int:
        refs = example_asset_refs(body.asset, body.context_asset)
        encoded = _enc.encode(body)
        modality = _modality(body)

        def run() -> int:
            with self._db.tx() as conn:
                row = conn.execute(
                    "SELECT modalities FROM validation_sets WHERE id = ? AND owner = ?",
                    (set_id, owner),
                ).fetchone()
                if row is None:
                    raise NotFound("Validation set", set_id)
                check_known(conn, refs, owner)
                conn.execute(
                    "INSERT INTO validation_rapids (set_id, body) VALUES (?, ?)", (set_id, encoded)
                )
                kinds = [m for m in str(row[0]).split(",") if m]
                if modality not in kinds:
                    conn.execute(
                        "UPDATE validation_sets SET modalities = ? WHERE id = ?",
                        (",".join(sorted([*kinds, modality])), set_id),
                    )
                count = conn.execute(
                    "SELECT COUNT(*) FROM validation_rapids WHERE set_id = ?", (set_id,)
                ).fetchone()
            return int(count[0])

        return await self._db.run(run)

    async def update(
        self,
        set_id: str,
        *,
        owner: str,
        name: str | None = None,
        dimensions: Sequence[str] | None = None,
    ) -> None:
        encoded = None if dimensions is None else _enc.encode(list(dimensions))

        def run() -> None:
            cur = self._db.conn.execute(
                "UPDATE validation_sets SET name = COALESCE(?, name), "
                "dimensions = COALESCE(?, dimensions) WHERE id = ? AND owner = ?",
                (name, encoded, set_id, owner),
            )
            if cur.rowcount != 1:
                raise NotFound("Validation set", set_id)

        await self._db.run(run)

    async def rapids(
        self, set_id: str, *, owner: str | None
    ) -> builtins.list[vwire.AddValidationRapidInput]:
        def run() -> builtins.list[vwire.AddValidationRapidInput]:
            self._get(set_id, owner, None)
            return rapids(self._db.conn, set_id)

        return await self._db.run(run)

    async def record_answers(self, job_id: str, answers: Sequence[ValidationAnswer]) -> None:
        rows = [
            (
                job_id,
                a.labeler_id,
                a.rapid,
                a.answer,
                int(a.correct),
                a.chance,
                a.prior,
                a.score,
            )
            for a in answers
        ]
        if not rows:
            return

        def run() -> None:
            with self._db.tx() as conn:
                conn.executemany(
                    "INSERT OR IGNORE INTO validation_answers (job_id, labeler_id, rapid, "
                    "answer, correct, chance, prior, score) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )

        await self._db.run(run)

    async def answers(self, job_id: str) -> builtins.list[ValidationAnswer]:
        def run() -> builtins.list[ValidationAnswer]:
            rows = self._db.conn.execute(
                "SELECT job_id, labeler_id, rapid, answer, correct, chance, prior, score "
                "FROM validation_answers WHERE job_id = ? ORDER BY seq",
                (job_id,),
            )
            return [
                ValidationAnswer(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6], r[7]) for r in rows
            ]

        return await self._db.run(run)
