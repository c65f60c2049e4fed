"""Ranking flows and their items (one ranking session each); a deleted flow is kept, hidden."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import msgspec

from ...domain.errors import NotFound
from ..base import FlowConfig, FlowItemRow, FlowRow, ListQuery, NewFlowItem
from ..seeds import new_id, now_iso
from ._db import Db, encode
from ._query import Column, Sql, order_clause, page_clause, where_clause

_config = msgspec.json.Decoder(FlowConfig)
_FLOW_COLS = "f.id, f.name, f.created_at, f.config, f.item_count"
_ITEM_COLS = (
    "i.id, i.flow_id, i.dataset_id, i.state, i.context, i.context_asset, i.ttl_seconds, "
    "i.drain_seconds, i.config, i.created_at, i.started_at, i.completed_at, i.failed_at, "
    "i.failure_message, i.owner"
)
# Items of a deleted flow stay visible to the engine (owner None) only, so that it can stop
# them; every tenant-scoped read leaves them out.
_ITEM_FROM = " FROM flow_items i JOIN flows f ON f.id = i.flow_id"
FLOW_COLUMNS = {
    "id": Column("f.id"),
    "name": Column("f.name"),
    "created_at": Column("f.created_at"),
}
ITEM_COLUMNS = {
    "id": Column("i.id"),
    "state": Column("i.state"),
    "created_at": Column("i.created_at"),
}
_STAMP = {
    "Running": "started_at",
    "Completed": "completed_at",
    "Incomplete": "completed_at",
    "Stopped": "completed_at",
    "Failed": "failed_at",
}


def _flow(row: Any) -> FlowRow:
    return FlowRow(row[0], row[1], row[2], _config.decode(row[3]), row[4])


def _item(row: Any) -> FlowItemRow:
    values = list(row)
    values[8] = _config.decode(values[8])
    return FlowItemRow(*values)


async def _get_flow(
    conn: Any, flow_id: str, owner: str | None, field: str | None = None
) -> FlowRow:
    row = await conn.fetchrow(
        f"SELECT {_FLOW_COLS} FROM flows f WHERE f.id = $1 AND f.deleted_at IS NULL "
        "AND ($2::text IS NULL OR f.owner = $2)",
        flow_id,
        owner,
    )
    if row is None:
        raise NotFound("Flow", flow_id, field=field)
    return _flow(row)


async def _get_item(
    conn: Any, item_id: str, owner: str | None, field: str | None = None
) -> FlowItemRow:
    row = await conn.fetchrow(
        f"SELECT {_ITEM_COLS}{_ITEM_FROM} WHERE i.id = $1 "
        "AND ($2::text IS NULL OR (i.owner = $2 AND f.deleted_at IS NULL))",
        item_id,
        owner,
    )
    if row is None:
        raise NotFound("Flow item", item_id, field=field)
    return _item(row)


class PgFlows:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def create(self, name: str, config: FlowConfig, *, owner: str) -> FlowRow:
        flow_id = new_id()
        async with self._db.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO flows (id, name, created_at, config, owner) "
                "VALUES ($1, $2, $3, $4, $5)",
                flow_id,
                name,
                now_iso(),
                encode(config),
                owner,
            )
            return await _get_flow(conn, flow_id, None)

    async def get(self, flow_id: str, *, owner: str | None, field: str | None = None) -> FlowRow:
        return await _get_flow(self._db.pool, flow_id, owner, field)

    async def list(self, query: ListQuery, *, owner: str) -> tuple[builtins.list[FlowRow], int]:
        sql = Sql()
        where = where_clause(
            query, FLOW_COLUMNS, sql, ("f.owner = {} AND f.deleted_at IS NULL", owner)
        )
        order = order_clause(query, FLOW_COLUMNS, tiebreak="f.seq DESC")
        async with self._db.pool.acquire() as conn:
            total = await conn.fetchval(f"SELECT count(*) FROM flows f{where}", *sql.params)
            page = page_clause(query, sql)
            rows = await conn.fetch(
                f"SELECT {_FLOW_COLS} FROM flows f{where}{order}{page}", *sql.params
            )
        return [_flow(r) for r in rows], int(total)

    async def update_config(self, flow_id: str, config: FlowConfig, *, owner: str) -> None:
        found = await self._db.pool.fetchval(
            "UPDATE flows SET config = $1 WHERE id = $2 AND owner = $3 AND deleted_at IS NULL "
            "RETURNING 1",
            encode(config),
            flow_id,
            owner,
        )
        if found is None:
            raise NotFound("Flow", flow_id)

    async def delete(self, flow_id: str, *, owner: str) -> None:
        now = now_iso()
        async with self._db.pool.acquire() as conn, conn.transaction():
            found = await conn.fetchval(
                "UPDATE flows SET deleted_at = $1 WHERE id = $2 AND owner = $3 "
                "AND deleted_at IS NULL RETURNING 1",
                now,
                flow_id,
                owner,
            )
            if found is None:
                raise NotFound("Flow", flow_id)
            await conn.execute(
                "UPDATE flow_items SET state = 'Stopped', completed_at = $1 "
                "WHERE flow_id = $2 AND state = 'Pending'",
                now,
                flow_id,
            )
            await conn.execute(
                "UPDATE flow_items SET state = 'Stopping' WHERE flow_id = $1 AND state = 'Running'",
                flow_id,
            )

    async def add_item(self, flow_id: str, item: NewFlowItem, *, owner: str) -> FlowItemRow:
        item_id = new_id()
        async with self._db.pool.acquire() as conn, conn.transaction():
            flow = await _get_flow(conn, flow_id, owner)
            await conn.execute(
                "INSERT INTO flow_items (id, flow_id, dataset_id, state, context, context_asset, "
                "ttl_seconds, drain_seconds, config, created_at, owner) "
                "VALUES ($1, $2, $3, 'Pending', $4, $5, $6, $7, $8, $9, $10)",
                item_id,
                flow_id,
                item.dataset_id,
                item.context,
                item.context_asset,
                item.ttl_seconds,
                item.drain_seconds,
                encode(flow.config),
                now_iso(),
                owner,
            )
            await conn.execute(
                "UPDATE flows SET item_count = item_count + 1 WHERE id = $1", flow_id
            )
            return await _get_item(conn, item_id, None)

    async def item(
        self, item_id: str, *, owner: str | None, field: str | None = None
    ) -> FlowItemRow:
        return await _get_item(self._db.pool, item_id, owner, field)

    async def items(
        self, flow_id: str, query: ListQuery, *, owner: str
    ) -> tuple[builtins.list[FlowItemRow], int]:
        sql = Sql()
        where = where_clause(query, ITEM_COLUMNS, sql, ("i.owner = {}", owner))
        where += f" AND i.flow_id = {sql.add(flow_id)}"
        order = order_clause(query, ITEM_COLUMNS, tiebreak="i.seq DESC")
        async with self._db.pool.acquire() as conn:
            await _get_flow(conn, flow_id, owner)
            total = await conn.fetchval(f"SELECT count(*){_ITEM_FROM}{where}", *sql.params)
            page = page_clause(query, sql)
            rows = await conn.fetch(
                f"SELECT {_ITEM_COLS}{_ITEM_FROM}{where}{order}{page}", *sql.params
            )
        return [_item(r) for r in rows], int(total)

    async def items_in_states(self, states: Sequence[str]) -> builtins.list[str]:
        rows = await self._db.pool.fetch(
            "SELECT id FROM flow_items WHERE state = ANY($1::text[]) ORDER BY created_at, seq",
            list(states),
        )
        return [r[0] for r in rows]

    async def set_item_state(
        self,
        item_id: str,
        state: str,
        *,
        only_from: Sequence[str] | None = None,
        failure_message: str | None = None,
    ) -> bool:
        stamp = _STAMP.get(state)
        sql = Sql()
        sets = f"state = {sql.add(state)}, failure_message = {sql.add(failure_message)}"
        if stamp:
            sets += f", {stamp} = {sql.add(now_iso())}"
        where = f"id = {sql.add(item_id)}"
        if only_from is not None:
            where += f" AND state = ANY({sql.add(list(only_from))}::text[])"
        changed = await self._db.pool.fetchval(
            f"UPDATE flow_items SET {sets} WHERE {where} RETURNING 1", *sql.params
        )
        return changed is not None
