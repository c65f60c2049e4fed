"""People of the labeling page: their invites (token hashes) and qualification outcomes."""

from __future__ import annotations

import builtins
import json
import sqlite3
from collections.abc import Sequence

from ..base import LabelerRow
from ..seeds import now_iso
from ._db import Database

_COLS = "id, owner, name, audiences, created_at"


def _rows(conn: sqlite3.Connection, where: str, params: tuple[str, ...]) -> list[LabelerRow]:
    found = conn.execute(
        f"SELECT {_COLS} FROM labelers WHERE {where} ORDER BY created_at, rowid", params
    ).fetchall()
    out = []
    for labeler_id, owner, name, audiences, created_at in found:
        outcomes = conn.execute(
            "SELECT audience_id, state, user_score FROM labeler_qualifications "
            "WHERE labeler_id = ?",
            (labeler_id,),
        ).fetchall()
        out.append(
            LabelerRow(
                labeler_id,
                owner,
                name,
                json.loads(audiences),
                created_at,
                {a: (state, score) for a, state, score in outcomes},
            )
        )
    return out


class SqliteLabelers:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        labeler_id: str,
        token_hash: str,
        *,
        owner: str,
        name: str,
        audiences: Sequence[str],
    ) -> LabelerRow:
        def run() -> LabelerRow:
            with self._db.tx() as conn:
                conn.execute(
                    f"INSERT INTO labelers ({_COLS}, token_hash) VALUES (?, ?, ?, ?, ?, ?)",
                    (labeler_id, owner, name, json.dumps(list(audiences)), now_iso(), token_hash),
                )
                return _rows(conn, "id = ?", (labeler_id,))[0]

        return await self._db.run(run)

    async def get(self, labeler_id: str) -> tuple[LabelerRow, str] | None:
        def run() -> tuple[LabelerRow, str] | None:
            conn = self._db.conn
            found = _rows(conn, "id = ?", (labeler_id,))
            if not found:
                return None
            row = conn.execute("SELECT token_hash FROM labelers WHERE id = ?", (labeler_id,))
            return found[0], str(row.fetchone()[0])

        return await self._db.run(run)

    async def list(self, *, owner: str) -> builtins.list[LabelerRow]:
        return await self._db.run(lambda: _rows(self._db.conn, "owner = ?", (owner,)))

    async def set_qualification(
        self, labeler_id: str, audience_id: str, state: str, user_score: float
    ) -> None:
        def run() -> None:
            self._db.conn.execute(
                "INSERT INTO labeler_qualifications (labeler_id, audience_id, state, user_score) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (labeler_id, audience_id) DO UPDATE SET "
                "state = excluded.state, user_score = excluded.user_score",
                (labeler_id, audience_id, state, user_score),
            )

        await self._db.run(run)
