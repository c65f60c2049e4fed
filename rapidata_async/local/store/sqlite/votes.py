"""Votes of ranking sessions (flow items, leaderboards): one row per labeler and matchup."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from ..base import PairTally, VoteFilter, VoteRecord, vote_values
from ..seeds import now_iso
from ._db import Database

_INSERT = (
    "INSERT OR IGNORE INTO votes (session_id, task_id, labeler_id, first_item, second_item, "
    "outcome, context_key, country, language, gender, age_group, occupation, created_at, "
    "owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _scope(session_id: str, owner: str | None, where: VoteFilter | None) -> tuple[str, list[str]]:
    clauses = ["session_id = ?"]
    params = [session_id]
    if owner is not None:
        clauses.append("owner = ?")
        params.append(owner)
    for column, values in where.columns() if where is not None else ():
        clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
        params.extend(values)
    return " WHERE " + " AND ".join(clauses), params


class SqliteVotes:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, votes: Sequence[VoteRecord], *, owner: str) -> int:
        now = now_iso()
        rows = [(*vote_values(v, now), owner) for v in votes]

        def run() -> int:
            with self._db.tx() as conn:
                before = conn.total_changes
                conn.executemany(_INSERT, rows)
                return conn.total_changes - before

        return await self._db.run(run)

    async def tallies(
        self, session_id: str, *, owner: str | None, where: VoteFilter | None = None
    ) -> builtins.list[PairTally]:
        clause, params = _scope(session_id, owner, where)

        def run() -> builtins.list[PairTally]:
            rows = self._db.conn.execute(
                "SELECT first_item, second_item, SUM(outcome = 'first'), "
                f"SUM(outcome = 'second'), SUM(outcome = 'tie') FROM votes{clause} "
                "GROUP BY first_item, second_item ORDER BY first_item, second_item",
                params,
            )
            return [PairTally(*row) for row in rows]

        return await self._db.run(run)

    async def labeler_tallies(
        self, session_id: str, *, owner: str | None
    ) -> builtins.dict[str, builtins.list[PairTally]]:
        clause, params = _scope(session_id, owner, None)

        def run() -> builtins.dict[str, builtins.list[PairTally]]:
            rows = self._db.conn.execute(
                "SELECT labeler_id, first_item, second_item, SUM(outcome = 'first'), "
                f"SUM(outcome = 'second'), SUM(outcome = 'tie') FROM votes{clause} "
                "GROUP BY labeler_id, first_item, second_item "
                "ORDER BY labeler_id, first_item, second_item",
                params,
            )
            found: dict[str, list[PairTally]] = {}
            for labeler, *tally in rows:
                found.setdefault(labeler, []).append(PairTally(*tally))
            return found

        return await self._db.run(run)

    async def total(self, session_id: str, *, owner: str | None) -> int:
        clause, params = _scope(session_id, owner, None)

        def run() -> int:
            return int(
                self._db.conn.execute(f"SELECT COUNT(*) FROM votes{clause}", params).fetchone()[0]
            )

        return await self._db.run(run)
