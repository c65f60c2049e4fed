"""Ranking flows and their items (one ranking session each); a deleted flow is kept, hidden."""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Sequence

import msgspec

from ...domain.errors import NotFound
from ..base import FlowConfig, FlowItemRow, FlowRow, ListQuery, NewFlowItem
from ..seeds import new_id, now_iso
from ._db import Database
from ._listing import Columns

_enc = msgspec.json.Encoder()
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
FLOW_COLUMNS = Columns(
    filters={"id": "f.id", "name": "f.name", "created_at": "f.created_at"},
    sorts={"name": "f.name", "created_at": "f.created_at"},
)
ITEM_COLUMNS = Columns(
    filters={"id": "i.id", "state": "i.state", "created_at": "i.created_at"},
    sorts={"state": "i.state", "created_at": "i.created_at"},
)
_STAMP = {
    "Running": "started_at",
    "Completed": "completed_at",
    "Incomplete": "completed_at",
    "Stopped": "completed_at",
    "Failed": "failed_at",
}


def _flow(row: tuple[object, ...]) -> FlowRow:
    return FlowRow(row[0], row[1], row[2], _config.decode(row[3]), row[4])  # type: ignore[arg-type]


def _item(row: tuple[object, ...]) -> FlowItemRow:
    values = list(row)
    values[8] = _config.decode(values[8])  # type: ignore[arg-type]
    return FlowItemRow(*values)  # type: ignore[arg-type]


def _get_flow(
    conn: sqlite3.Connection, flow_id: str, owner: str | None, field: str | None = None
) -> FlowRow:
    row = conn.execute(
        f"SELECT {_FLOW_COLS} FROM flows f WHERE f.id = ? AND f.deleted_at IS NULL "
        "AND (? IS NULL OR f.owner = ?)",
        (flow_id, owner, owner),
    ).fetchone()
    if row is None:
        raise NotFound("Flow", flow_id, field=field)
    return _flow(row)


def _get_item(
    conn: sqlite3.Connection, item_id: str, owner: str | None, field: str | None = None
) -> FlowItemRow:
    row = conn.execute(
        f"SELECT {_ITEM_COLS}{_ITEM_FROM} WHERE i.id = ? "
        "AND (? IS NULL OR (i.owner = ? AND f.deleted_at IS NULL))",
        (item_id, owner, owner),
    ).fetchone()
    if row is None:
        raise NotFound("Flow item", item_id, field=field)
    return _item(row)


class SqliteFlows:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, name: str, config: FlowConfig, *, owner: str) -> FlowRow:
        flow_id = new_id()
        values = (flow_id, name, now_iso(), _enc.encode(config), owner)

        def run() -> FlowRow:
            conn = self._db.conn
            conn.execute(
                "INSERT INTO flows (id, name, created_at, config, owner) VALUES (?, ?, ?, ?, ?)",
                values,
            )
            return _get_flow(conn, flow_id, None)

        return await self._db.run(run)

    async def get(self, flow_id: str, *, owner: str | None, field: str | None = None) -> FlowRow:
        return await self._db.run(_get_flow, self._db.conn, flow_id, owner, field)

    async def list(self, query: ListQuery, *, owner: str) -> tuple[builtins.list[FlowRow], int]:
        where, params = FLOW_COLUMNS.where(query, ("f.owner = ? AND f.deleted_at IS NULL", [owner]))
        order = FLOW_COLUMNS.order(query, tiebreak="f.rowid DESC")
        limit, paging = FLOW_COLUMNS.page(query)

        def run() -> tuple[builtins.list[FlowRow], int]:
            conn = self._db.conn
            total = int(conn.execute(f"SELECT COUNT(*) FROM flows f{where}", params).fetchone()[0])
            rows = conn.execute(
                f"SELECT {_FLOW_COLS} FROM flows f{where}{order}{limit}", [*params, *paging]
            )
            return [_flow(r) for r in rows], total

        return await self._db.run(run)

    async def update_config(self, flow_id: str, config: FlowConfig, *, owner: str) -> None:
        def run() -> None:
            cur = self._db.conn.execute(
                "UPDATE flows SET config = ? WHERE id = ? AND owner = ? AND deleted_at IS NULL",
                (_enc.encode(config), flow_id, owner),
            )
            if cur.rowcount != 1:
                raise NotFound("Flow", flow_id)

        await self._db.run(run)

    async def delete(self, flow_id: str, *, owner: str) -> None:
        now = now_iso()

        def run() -> None:
            with self._db.tx() as conn:
                cur = conn.execute(
                    "UPDATE flows SET deleted_at = ? WHERE id = ? AND owner = ? "
                    "AND deleted_at IS NULL",
                    (now, flow_id, owner),
                )
                if cur.rowcount != 1:
                    raise NotFound("Flow", flow_id)
                conn.execute(
                    "UPDATE flow_items SET state = 'Stopped', completed_at = ? "
                    "WHERE flow_id = ? AND state = 'Pending'",
                    (now, flow_id),
                )
                conn.execute(
                    "UPDATE flow_items SET state = 'Stopping' WHERE flow_id = ? "
                    "AND state = 'Running'",
                    (flow_id,),
                )

        await self._db.run(run)

    async def add_item(self, flow_id: str, item: NewFlowItem, *, owner: str) -> FlowItemRow:
        item_id = new_id()
        now = now_iso()

        def run() -> FlowItemRow:
            with self._db.tx() as conn:
                flow = _get_flow(conn, flow_id, owner)
                conn.execute(
                    "INSERT INTO flow_items (id, flow_id, dataset_id, state, context, "
                    "context_asset, ttl_seconds, drain_seconds, config, created_at, owner) "
                    "VALUES (?, ?, ?, 'Pending', ?, ?, ?, ?, ?, ?, ?)",
                    (
                        item_id,
                        flow_id,
                        item.dataset_id,
                        item.context,
                        item.context_asset,
                        item.ttl_seconds,
                        item.drain_seconds,
                        _enc.encode(flow.config),
                        now,
                        owner,
                    ),
                )
                conn.execute(
                    "UPDATE flows SET item_count = item_count + 1 WHERE id = ?", (flow_id,)
                )
                return _get_item(conn, item_id, None)

        return await self._db.run(run)

    async def item(
        self, item_id: str, *, owner: str | None, field: str | None = None
    ) -> FlowItemRow:
        return await self._db.run(_get_item, self._db.conn, item_id, owner, field)

    async def items(
        self, flow_id: str, query: ListQuery, *, owner: str
    ) -> tuple[builtins.list[FlowItemRow], int]:
        where, params = ITEM_COLUMNS.where(
            query, ("i.flow_id = ? AND i.owner = ?", [flow_id, owner])
        )
        order = ITEM_COLUMNS.order(query, tiebreak="i.rowid DESC")
        limit, paging = ITEM_COLUMNS.page(query)

        def run() -> tuple[builtins.list[FlowItemRow], int]:
            conn = self._db.conn
            _get_flow(conn, flow_id, owner)
            total = int(conn.execute(f"SELECT COUNT(*){_ITEM_FROM}{where}", params).fetchone()[0])
            rows = conn.execute(
                f"SELECT {_ITEM_COLS}{_ITEM_FROM}{where}{order}{limit}", [*params, *paging]
            )
            return [_item(r) for r in rows], total

        return await self._db.run(run)

    async def items_in_states(self, states: Sequence[str]) -> builtins.list[str]:
        marks = ", ".join("?" * len(states))

        def run() -> builtins.list[str]:
            rows = self._db.conn.execute(
                f"SELECT id FROM flow_items WHERE state IN ({marks}) ORDER BY created_at, rowid",
                list(states),
            )
            return [r[0] for r in rows]

        return await self._db.run(run)

    async def set_item_state(
        self,
        item_id: str,
        state: str,
        *,
        only_from: Sequence[str] | None = None,
        failure_message: str | None = None,
    ) -> bool:
        stamp = _STAMP.get(state)
        sets = "state = ?, failure_message = ?" + (f", {stamp} = ?" if stamp else "")
        params: list[object] = [state, failure_message]
        if stamp:
            params.append(now_iso())
        where = "id = ?"
        params.append(item_id)
        if only_from is not None:
            where += f" AND state IN ({', '.join('?' * len(only_from))})"
            params.extend(only_from)

        def run() -> bool:
            cur = self._db.conn.execute(f"UPDATE flow_items SET {sets} WHERE {where}", params)
            return cur.rowcount == 1

        return await self._db.run(run)
