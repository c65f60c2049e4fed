"""Audiences (seeded global and curated ones, and custom ones) and their qualification
examples."""

from __future__ import annotations

import builtins
from typing import Any

import msgspec

from ...._wire import audience as auwire
from ..._datapoints import example_asset_refs
from ...domain.errors import NotFound
from ..base import OWNER_MAIL, AudienceRow, ListQuery
from ..seeds import new_id, now_iso
from ._assets import check_assets
from ._db import Db, encode
from ._query import Column, Sql, order_clause, page_clause, where_clause

_body = msgspec.json.Decoder(auwire.CreateAudienceInput)
_example = msgspec.json.Decoder(auwire.AddExampleInput)
_COLS = (
    "a.id, a.name, a.kind, a.domain, a.status, a.is_public, a.created_at, a.owner_mail, "
    "a.qualified_count, a.graduated, a.dropped, a.body, "
    "(SELECT count(*) FROM examples e WHERE e.audience_id = a.id), a.recruiting_started_at"
)
COLUMNS = {
    "id": Column("a.id"),
    "name": Column("a.name"),
    "kind": Column("a.kind"),
    "domain": Column("a.domain"),
    "status": Column("a.status"),
    "is_public": Column("a.is_public", "bool"),
    "owner_mail": Column("a.owner_mail"),
    "created_at": Column("a.created_at"),
    "qualified_count": Column("a.qualified_count", "int"),
    "qualified_user_count": Column("a.qualified_count", "int"),
}


def _audience(row: Any) -> AudienceRow:
    return AudienceRow(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        row[7],
        row[8],
        row[9],
        row[10],
        _body.decode(row[11]),
        row[12],
        row[13],
    )


async def audience_on(
    conn: Any, audience_id: str, field: str | None = None, owner: str | None = None
) -> AudienceRow:
    """``owner``'s audience or a shared one (any for None)."""
    row = await conn.fetchrow(
        f"SELECT {_COLS} FROM audiences a WHERE a.id = $1 "
        "AND ($2::text IS NULL OR a.owner = $2 OR a.owner IS NULL)",
        audience_id,
        owner,
    )
    if row is None:
        raise NotFound("Audience", audience_id, field=field)
    return _audience(row)


async def examples_on(conn: Any, audience_id: str) -> builtins.list[auwire.AddExampleInput]:
    rows = await conn.fetch(
        "SELECT body FROM examples WHERE audience_id = $1 ORDER BY seq", audience_id
    )
    return [_example.decode(row[0]) for row in rows]


class PgAudiences:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def create(self, body: auwire.CreateAudienceInput, *, owner: str) -> str:
        audience_id = new_id()
        await self._db.pool.execute(
            "INSERT INTO audiences (id, name, kind, domain, status, is_public, created_at, "
            "owner_mail, body, owner) "
            "VALUES ($1, $2, 'custom', NULL, 'Created', FALSE, $3, $4, $5, $6)",
            audience_id,
            body.name,
            now_iso(),
            OWNER_MAIL,
            encode(body),
            owner,
        )
        return audience_id

    async def get(
        self, audience_id: str, *, owner: str | None, field: str | None = None
    ) -> AudienceRow:
        return await audience_on(self._db.pool, audience_id, field, owner)

    async def list(self, query: ListQuery, *, owner: str) -> tuple[list[AudienceRow], int]:
        """Public (curated, global) audiences first, then the requested order, so a custom
        "Prompt Alignment Audience" never shadows the curated "Alignment Audience"."""
        sql = Sql()
        where = where_clause(query, COLUMNS, sql, ("a.owner = {} OR a.owner IS NULL", owner))
        order = order_clause(query, COLUMNS, prefix=("a.is_public DESC",), tiebreak="a.seq DESC")
        async with self._db.pool.acquire() as conn:
            total = await conn.fetchval(f"SELECT count(*) FROM audiences a{where}", *sql.params)
            page = page_clause(query, sql)
            rows = await conn.fetch(
                f"SELECT {_COLS} FROM audiences a{where}{order}{page}", *sql.params
            )
        return [_audience(row) for row in rows], int(total)

    async def add_example(
        self, audience_id: str, body: auwire.AddExampleInput, *, owner: str
    ) -> int:
        """Store a qualification example on an audience of ``owner``; how many it now has."""
        refs = example_asset_refs(body.asset, body.context_asset)
        async with self._db.pool.acquire() as conn:
            owned = await conn.fetchval(
                "SELECT 1 FROM audiences WHERE id = $1 AND owner = $2", audience_id, owner
            )
            if owned is None:
                raise NotFound("Audience", audience_id)
            await check_assets(conn, refs, owner)
            count = await conn.fetchval(
                "WITH added AS (INSERT INTO examples (audience_id, body) VALUES ($1, $2) "
                "RETURNING 1) "
                "SELECT (SELECT count(*) FROM examples WHERE audience_id = $1) "
                "+ (SELECT count(*) FROM added)",
                audience_id,
                encode(body),
            )
        return int(count)

    async def examples(
        self, audience_id: str, *, owner: str | None
    ) -> builtins.list[auwire.AddExampleInput]:
        if owner is not None:
            await audience_on(self._db.pool, audience_id, None, owner)
        return await examples_on(self._db.pool, audience_id)

    async def set_status(
        self,
        audience_id: str,
        status: str,
        *,
        only_if: str | None = None,
        counts: tuple[int, int, int] | None = None,
    ) -> bool:
        """Move to ``status`` (only from ``only_if`` when given); ``counts`` = (qualified,
        graduated, dropped). Entering ``Recruiting`` stamps ``recruiting_started_at``. True if
        the row changed."""
        sql = Sql()
        new = sql.add(status)
        sets = [
            f"status = {new}",
            f"recruiting_started_at = CASE WHEN {new} = 'Recruiting' AND status <> 'Recruiting' "
            f"THEN {sql.add(now_iso())} ELSE recruiting_started_at END",
        ]
        if counts is not None:
            qualified, graduated, dropped = counts
            sets += [
                f"qualified_count = {sql.add(qualified)}",
                f"graduated = {sql.add(graduated)}",
                f"dropped = {sql.add(dropped)}",
            ]
        where = f"id = {sql.add(audience_id)}"
        if only_if is not None:
            where += f" AND status = {sql.add(only_if)}"
        async with self._db.pool.acquire() as conn:
            changed = await conn.fetchval(
                f"UPDATE audiences SET {', '.join(sets)} WHERE {where} RETURNING 1", *sql.params
            )
            if changed is not None:
                return True
            if await conn.fetchval("SELECT 1 FROM audiences WHERE id = $1", audience_id) is None:
                raise NotFound("Audience", audience_id)
            return False

    async def in_status(self, status: str) -> builtins.list[str]:
        rows = await self._db.pool.fetch(
            "SELECT id FROM audiences WHERE status = $1 ORDER BY created_at, seq", status
        )
        return [row[0] for row in rows]
