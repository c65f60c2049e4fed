"""Legacy orders: their own rows, their state read through the job that runs them."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import msgspec

from ...._wire import order as owire
from ...domain.errors import NotFound
from .. import _order_sql as q
from ..base import ListQuery, OrderRow
from ..seeds import new_id, now_iso
from ._db import Db, encode
from ._query import Column, Sql, order_clause, page_clause, where_clause

_body = msgspec.json.Decoder(owire.CreateOrderInput)
COLUMNS = {
    "order_name": Column("o.name"),
    "state": Column(f"({q.STATE_SQL})"),
    "order_date": Column("o.created_at"),
    "id": Column("o.id"),
}


def _row(row: Any) -> OrderRow:
    values: list[Any] = [*row[:9], _body.decode(row[9])]
    return OrderRow(*values)


async def _order_on(conn: Any, order_id: str, owner: str | None, field: str | None) -> OrderRow:
    row = await conn.fetchrow(
        f"SELECT {q.COLUMNS}{q.FROM} WHERE o.id = $1 AND ($2::text IS NULL OR o.owner = $2)",
        order_id,
        owner,
    )
    if row is None:
        raise NotFound("Order", order_id, field=field)
    return _row(row)


class PgOrders:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def create(
        self, body: owire.CreateOrderInput, *, owner: str, dataset_id: str
    ) -> OrderRow:
        order_id = new_id()
        async with self._db.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO orders (id, name, state, created_at, dataset_id, pipeline_id, "
                "preceding_order_id, body, owner) VALUES ($1, $2, 'Created', $3, $4, $5, $6, "
                "$7, $8)",
                order_id,
                body.order_name,
                now_iso(),
                dataset_id,
                new_id(),
                body.preceding_order_id,
                encode(body),
                owner,
            )
            return await _order_on(conn, order_id, None, None)

    async def get(self, order_id: str, *, owner: str | None, field: str | None = None) -> OrderRow:
        return await _order_on(self._db.pool, order_id, owner, field)

    async def list(self, query: ListQuery, *, owner: str) -> tuple[builtins.list[OrderRow], int]:
        sql = Sql()
        where = where_clause(query, COLUMNS, sql, ("o.owner = {}", owner))
        order = order_clause(query, COLUMNS, tiebreak="o.seq DESC")
        async with self._db.pool.acquire() as conn:
            total = await conn.fetchval(f"SELECT count(*){q.FROM}{where}", *sql.params)
            page = page_clause(query, sql)
            rows = await conn.fetch(f"SELECT {q.COLUMNS}{q.FROM}{where}{order}{page}", *sql.params)
        return [_row(row) for row in rows], int(total)

    async def update(
        self,
        order_id: str,
        *,
        owner: str,
        name: str | None = None,
        preceding_order_id: str | None = None,
        clear_preceding: bool = False,
    ) -> None:
        found = await self._db.pool.fetchval(
            "UPDATE orders SET name = COALESCE($3, name), preceding_order_id = "
            "CASE WHEN $4 THEN $5 ELSE preceding_order_id END "
            "WHERE id = $1 AND owner = $2 RETURNING 1",
            order_id,
            owner,
            name,
            preceding_order_id is not None or clear_preceding,
            preceding_order_id,
        )
        if found is None:
            raise NotFound("Order", order_id)

    async def move(
        self, order_id: str, state: str, *, owner: str, only_from: Sequence[str]
    ) -> bool:
        changed = await self._db.pool.fetchval(
            "UPDATE orders SET state = $3 WHERE id = $1 AND owner = $2 AND job_id IS NULL "
            "AND state = ANY($4::text[]) RETURNING 1",
            order_id,
            owner,
            state,
            list(only_from),
        )
        return changed is not None

    async def attach_job(self, order_id: str, job_id: str, *, owner: str) -> None:
        await self._db.pool.execute(
            "UPDATE orders SET job_id = $3, state = 'Submitted' WHERE id = $1 AND owner = $2",
            order_id,
            owner,
            job_id,
        )
