"""Validation sets and their rapids."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import msgspec

from ...._wire import validation as vwire
from ..._datapoints import example_asset_refs
from ...domain.errors import NotFound
from ..base import OWNER_MAIL, ListQuery, ValidationAnswer, ValidationSetRow
from ..seeds import new_id, now_iso
from ._assets import check_assets
from ._db import Db, encode
from ._query import Column, Sql, order_clause, page_clause, where_clause

_dims = msgspec.json.Decoder(list[str])
_rapid = msgspec.json.Decoder(vwire.AddValidationRapidInput)
_COLS = (
    "v.id, v.name, v.created_at, v.owner_mail, v.dimensions, "
    "(SELECT count(*) FROM validation_rapids r WHERE r.set_id = v.id), v.modalities"
)
COLUMNS = {
    "id": Column("v.id"),
    "name": Column("v.name"),
    "created_at": Column("v.created_at"),
}


def _row(row: Any) -> ValidationSetRow:
    modalities = [m for m in str(row[6]).split(",") if m]
    return ValidationSetRow(
        row[0], row[1], row[2], row[3], _dims.decode(row[4]), int(row[5]), modalities
    )


async def rapids_on(conn: Any, set_id: str) -> builtins.list[vwire.AddValidationRapidInput]:
    rows = await conn.fetch(
        "SELECT body FROM validation_rapids WHERE set_id = $1 ORDER BY seq", set_id
    )
    return [_rapid.decode(row[0]) for row in rows]


async def _set_on(
    conn: Any, set_id: str, owner: str | None, field: str | None = None
) -> ValidationSetRow:
    row = await conn.fetchrow(
        f"SELECT {_COLS} FROM validation_sets v WHERE v.id = $1 "
        "AND ($2::text IS NULL OR v.owner = $2)",
        set_id,
        owner,
    )
    if row is None:
        raise NotFound("Validation set", set_id, field=field)
    return _row(row)


class PgValidationSets:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def create(self, body: vwire.CreateValidationSetInput, *, owner: str) -> str:
        set_id = new_id()
        await self._db.pool.execute(
            "INSERT INTO validation_sets (id, name, created_at, owner_mail, dimensions, "
            "modalities, owner) VALUES ($1, $2, $3, $4, $5, '', $6)",
            set_id,
            body.name,
            now_iso(),
            OWNER_MAIL,
            encode([]),
            owner,
        )
        return set_id

    async def get(
        self, set_id: str, *, owner: str | None, field: str | None = None
    ) -> ValidationSetRow:
        return await _set_on(self._db.pool, set_id, owner, field)

    async def list(self, query: ListQuery, *, owner: str) -> tuple[list[ValidationSetRow], int]:
        sql = Sql()
        where = where_clause(query, COLUMNS, sql, ("v.owner = {}", owner))
        order = order_clause(query, COLUMNS, tiebreak="v.seq DESC")
        async with self._db.pool.acquire() as conn:
            total = await conn.fetchval(
                f"SELECT count(*) FROM validation_sets v{where}", *sql.params
            )
            page = page_clause(query, sql)
            rows = await conn.fetch(
                f"SELECT {_COLS} FROM validation_sets v{where}{order}{page}", *sql.params
            )
        return [_row(row) for row in rows], int(total)

    async def add_rapid(
        self, set_id: str, body: vwire.AddValidationRapidInput, *, owner: str
    ) -> int:
        refs = example_asset_refs(body.asset, body.context_asset)
        modality = "Compare" if isinstance(body.payload, vwire.ComparePayload) else "Classify"
        async with self._db.pool.acquire() as conn, conn.transaction():
            kinds_text = await conn.fetchval(
                "SELECT modalities FROM validation_sets WHERE id = $1 AND owner = $2 FOR UPDATE",
                set_id,
                owner,
            )
            if kinds_text is None:
                raise NotFound("Validation set", set_id)
            await check_assets(conn, refs, owner)
            await conn.execute(
                "INSERT INTO validation_rapids (set_id, body) VALUES ($1, $2)",
                set_id,
                encode(body),
            )
            kinds = [m for m in str(kinds_text).split(",") if m]
            if modality not in kinds:
                await conn.execute(
                    "UPDATE validation_sets SET modalities = $1 WHERE id = $2",
                    ",".join(sorted([*kinds, modality])),
                    set_id,
                )
            count = await conn.fetchval(
                "SELECT count(*) FROM validation_rapids WHERE set_id = $1", set_id
            )
        return int(count)

    async def update(
        self,
        set_id: str,
        *,
        owner: str,
        name: str | None = None,
        dimensions: Sequence[str] | None = None,
    ) -> None:
        encoded = None if dimensions is None else encode(list(dimensions))
        status = await self._db.pool.execute(
            "UPDATE validation_sets SET name = COALESCE($1, name), "
            "dimensions = COALESCE($2, dimensions) WHERE id = $3 AND owner = $4",
            name,
            encoded,
            set_id,
            owner,
        )
        if status.split()[-1] != "1":
            raise NotFound("Validation set", set_id)

    async def rapids(
        self, set_id: str, *, owner: str | None
    ) -> builtins.list[vwire.AddValidationRapidInput]:
        async with self._db.pool.acquire() as conn:
            await _set_on(conn, set_id, owner)
            return await rapids_on(conn, set_id)

    async def record_answers(self, job_id: str, answers: Sequence[ValidationAnswer]) -> None:
        if not answers:
            return
        # One statement for the batch, in arrival order (``seq`` follows the ordinality).
        await self._db.pool.execute(
            "INSERT INTO validation_answers (job_id, labeler_id, rapid, answer, correct, "
            "chance, prior, score) SELECT $1, u.l, u.r, u.a, u.c, u.p, u.pr, u.s FROM unnest("
            "$2::text[], $3::text[], $4::text[], $5::boolean[], $6::float8[], $7::float8[], "
            "$8::float8[]) WITH ORDINALITY AS u(l, r, a, c, p, pr, s, n) ORDER BY u.n "
            "ON CONFLICT DO NOTHING",
            job_id,
            [a.labeler_id for a in answers],
            [a.rapid for a in answers],
            [a.answer for a in answers],
            [a.correct for a in answers],
            [a.chance for a in answers],
            [a.prior for a in answers],
            [a.score for a in answers],
        )

    async def answers(self, job_id: str) -> builtins.list[ValidationAnswer]:
        rows = await self._db.pool.fetch(
            "SELECT job_id, labeler_id, rapid, answer, correct, chance, prior, score "
            "FROM validation_answers WHERE job_id = $1 ORDER BY seq",
            job_id,
        )
        return [ValidationAnswer(*row) for row in rows]
