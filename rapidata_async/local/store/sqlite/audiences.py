"""Audiences (seeded and custom) and their qualification examples."""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Sequence
from typing import Any

import msgspec

from ...._wire import audience as auwire
from ..._datapoints import example_asset_refs
from ...domain.errors import NotFound
from ..base import OWNER_MAIL, AudienceRow, ListQuery
from ..seeds import new_id, now_iso
from ._db import Database
from ._listing import Columns
from .assets import check_known

_enc = msgspec.json.Encoder()
_body = msgspec.json.Decoder(auwire.CreateAudienceInput)
_example = msgspec.json.Decoder(auwire.AddExampleInput)
_COLS = (
    "a.id, a.name, a.kind, a.domain, a.status, a.is_public, a.created_at, a.owner_mail, "
    "a.qualified_count, a.graduated, a.dropped, a.body, "
    "(SELECT COUNT(*) FROM examples e WHERE e.audience_id = a.id), a.recruiting_started_at"
)
COLUMNS = Columns(
    filters={
        "id": "a.id",
        "name": "a.name",
        "status": "a.status",
        "is_public": "a.is_public",
        "owner_mail": "a.owner_mail",
        "created_at": "a.created_at",
    },
    sorts={
        "name": "a.name",
        "created_at": "a.created_at",
        "status": "a.status",
        "qualified_user_count": "a.qualified_count",
    },
)


def _row(row: Sequence[Any]) -> AudienceRow:
    return AudienceRow(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        bool(row[5]),
        row[6],
        row[7],
        row[8],
        row[9],
        row[10],
        _body.decode(row[11]),
        row[12],
        row[13],
    )


# What ``owner`` sees: its own audiences and the shared (seeded) ones; None sees all.
VISIBLE = "(? IS NULL OR a.owner = ? OR a.owner IS NULL)"


def audience(
    conn: sqlite3.Connection,
    audience_id: str,
    field: str | None = None,
    owner: str | None = None,
) -> AudienceRow:
    row = conn.execute(
        f"SELECT {_COLS} FROM audiences a WHERE a.id = ? AND {VISIBLE}",
        (audience_id, owner, owner),
    ).fetchone()
    if row is None:
        raise NotFound("Audience", audience_id, field=field)
    return _row(row)


def examples(conn: sqlite3.Connection, audience_id: str) -> list[auwire.AddExampleInput]:
    rows = conn.execute(
        "SELECT body FROM examples WHERE audience_id = ? ORDER BY seq", (audience_id,)
    )
    return [_example.decode(r[0]) for r in rows]


class SqliteAudiences:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, body: auwire.CreateAudienceInput, *, owner: str) -> str:
        audience_id = new_id()
        await self._db.run(
            self._db.conn.execute,
            "INSERT INTO audiences (id, name, kind, domain, status, is_public, created_at, "
            "owner_mail, body, owner) VALUES (?, ?, 'custom', NULL, 'Created', 0, ?, ?, ?, ?)",
            (audience_id, body.name, now_iso(), OWNER_MAIL, _enc.encode(body), owner),
        )
        return audience_id

    async def get(
        self, audience_id: str, *, owner: str | None, field: str | None = None
    ) -> AudienceRow:
        return await self._db.run(audience, self._db.conn, audience_id, field, owner)

    async def list(self, query: ListQuery, *, owner: str) -> tuple[list[AudienceRow], int]:
        """Curated and public audiences come first, then the requested order (newest first by
        default), so a custom "Prompt Alignment Audience" never shadows the curated
        "Alignment Audience" in ``find_audiences("alignment")[0]``."""
        where, params = COLUMNS.where(query, ("(a.owner = ? OR a.owner IS NULL)", [owner]))
        order = COLUMNS.order(query, prefix=["a.is_public DESC"], tiebreak="a.rowid DESC")
        limit, paging = COLUMNS.page(query)

        def run() -> tuple[list[AudienceRow], int]:
            conn = self._db.conn
            count = int(
                conn.execute(f"SELECT COUNT(*) FROM audiences a{where}", params).fetchone()[0]
            )
            rows = conn.execute(
                f"SELECT {_COLS} FROM audiences a{where}{order}{limit}", [*params, *paging]
            )
            return [_row(r) for r in rows], count

        return await self._db.run(run)

    async def add_example(
        self, audience_id: str, body: auwire.AddExampleInput, *, owner: str
    ) -> int:
        refs = example_asset_refs(body.asset, body.context_asset)
        encoded = _enc.encode(body)

        def run() -> int:
            conn = self._db.conn
            owned = conn.execute(
                "SELECT 1 FROM audiences WHERE id = ? AND owner = ?", (audience_id, owner)
            ).fetchone()
            if owned is None:
                raise NotFound("Audience", audience_id)
            check_known(conn, refs, owner)
            conn.execute(
                "INSERT INTO examples (audience_id, body) VALUES (?, ?)", (audience_id, encoded)
            )
            row = conn.execute(
                "SELECT COUNT(*) FROM examples WHERE audience_id = ?", (audience_id,)
            ).fetchone()
            return int(row[0])

        return await self._db.run(run)

    async def examples(
        self, audience_id: str, *, owner: str | None
    ) -> builtins.list[auwire.AddExampleInput]:
        def run() -> builtins.list[auwire.AddExampleInput]:
            audience(self._db.conn, audience_id, None, owner)  # NotFound for another's
            return examples(self._db.conn, audience_id)

        return await self._db.run(run)

    async def set_status(
        self,
        audience_id: str,
        status: str,
        *,
        only_if: str | None = None,
        counts: tuple[int, int, int] | None = None,
    ) -> bool:
        sql = "UPDATE audiences SET status = ?"
        params: list[Any] = [status]
        if status == "Recruiting":
            # Stamped when recruiting starts, kept while it stays Recruiting.
            sql += (
                ", recruiting_started_at = CASE WHEN status = 'Recruiting' "
                "THEN recruiting_started_at ELSE ? END"
            )
            params.append(now_iso())
        if counts is not None:
            sql += ", qualified_count = ?, graduated = ?, dropped = ?"
            params.extend(counts)
        sql += " WHERE id = ?"
        params.append(audience_id)
        if only_if is not None:
            sql += " AND status = ?"
            params.append(only_if)

        def run() -> bool:
            return self._db.conn.execute(sql, params).rowcount == 1

        return await self._db.run(run)

    async def in_status(self, status: str) -> builtins.list[str]:
        def run() -> builtins.list[str]:
            rows = self._db.conn.execute(
                "SELECT id FROM audiences WHERE status = ? ORDER BY created_at, rowid", (status,)
            )
            return [r[0] for r in rows]

        return await self._db.run(run)
