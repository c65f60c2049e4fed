"""Legacy orders: their own rows, their state read through the job that runs them."""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Sequence
from typing import Any

import msgspec

from ...._wire import order as owire
from ...domain.errors import NotFound
from .. import _order_sql as q
from ..base import ListQuery, OrderRow
from ..seeds import new_id, now_iso
from ._db import Database
from ._listing import Columns

_enc = msgspec.json.Encoder()
_body = msgspec.json.Decoder(owire.CreateOrderInput)
COLUMNS = Columns(filters=q.FILTERS, sorts=q.SORTS)


def _row(row: Any) -> OrderRow:
    values: list[Any] = [*row[:9], _body.decode(row[9])]
    return OrderRow(*values)


def order(
    conn: sqlite3.Connection, order_id: str, owner: str | None, field: str | None
) -> OrderRow:
    row = conn.execute(
        f"SELECT {q.COLUMNS}{q.FROM} WHERE o.id = ? AND (? IS NULL OR o.owner = ?)",
        (order_id, owner, owner),
    ).fetchone()
    if row is None:
        raise NotFound("Order", order_id, field=field)
    return _row(row)


class SqliteOrders:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self, body: owire.CreateOrderInput, *, owner: str, dataset_id: str
    ) -> OrderRow:
        order_id = new_id()
        values = (
            order_id,
            body.order_name,
            now_iso(),
            dataset_id,
            new_id(),
            body.preceding_order_id,
            _enc.encode(body),
            owner,
        )

        def run() -> OrderRow:
            conn = self._db.conn
            conn.execute(
                "INSERT INTO orders (id, name, state, created_at, dataset_id, pipeline_id, "
                "preceding_order_id, body, owner) VALUES (?, ?, 'Created', ?, ?, ?, ?, ?, ?)",
                values,
            )
            return order(conn, order_id, None, None)

        return await self._db.run(run)

    async def get(self, order_id: str, *, owner: str | None, field: str | None = None) -> OrderRow:
        return await self._db.run(order, self._db.conn, order_id, owner, field)

    async def list(self, query: ListQuery, *, owner: str) -> tuple[builtins.list[OrderRow], int]:
        where, params = COLUMNS.where(query, ("o.owner = ?", [owner]))
        order_by = COLUMNS.order(query, tiebreak="o.rowid DESC")
        limit, paging = COLUMNS.page(query)

        def run() -> tuple[builtins.list[OrderRow], int]:
            conn = self._db.conn
            count = conn.execute(f"SELECT COUNT(*){q.FROM}{where}", params).fetchone()[0]
            rows = conn.execute(
                f"SELECT {q.COLUMNS}{q.FROM}{where}{order_by}{limit}", [*params, *paging]
            )
            return [_row(r) for r in rows], int(count)

        return await self._db.run(run)

    async def update(
        self,
        order_id: str,
        *,
        owner: str,
        name: str | None = None,
        preceding_order_id: str | None = None,
        clear_preceding: bool = False,
    ) -> None:
        preceding_given = preceding_order_id is not None or clear_preceding

        def run() -> None:
            cur = self._db.conn.execute(
                "UPDATE orders SET name = COALESCE(?, name), preceding_order_id = "
                "CASE WHEN ? THEN ? ELSE preceding_order_id END WHERE id = ? AND owner = ?",
                (name, preceding_given, preceding_order_id, order_id, owner),
            )
            if cur.rowcount != 1:
                raise NotFound("Order", order_id)

        await self._db.run(run)

    async def move(
        self, order_id: str, state: str, *, owner: str, only_from: Sequence[str]
    ) -> bool:
        marks = ", ".join("?" * len(only_from))

        def run() -> bool:
            cur = self._db.conn.execute(
                f"UPDATE orders SET state = ? WHERE id = ? AND owner = ? AND job_id IS NULL "
                f"AND state IN ({marks})",
                (state, order_id, owner, *only_from),
            )
            return cur.rowcount == 1

        return await self._db.run(run)

    async def attach_job(self, order_id: str, job_id: str, *, owner: str) -> None:
        await self._db.run(
            self._db.conn.execute,
            "UPDATE orders SET job_id = ?, state = 'Submitted' WHERE id = ? AND owner = ?",
            (job_id, order_id, owner),
        )
