"""Votes of ranking sessions (flow items, leaderboards): one row per labeler and matchup."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from ..base import PairTally, VoteFilter, VoteRecord, vote_values
from ..seeds import now_iso
from ._db import Db
from ._query import Sql

_RECORD = """
WITH added AS (
    INSERT INTO votes (session_id, task_id, labeler_id, first_item, second_item, outcome,
                       context_key, country, language, gender, age_group, occupation,
                       created_at, owner)
    SELECT v.*, $14 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                                $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                                $11::text[], $12::text[], $13::text[]) AS v
    ON CONFLICT (session_id, task_id, labeler_id) DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM added
"""


def _scope(session_id: str, owner: str | None, where: VoteFilter | None, sql: Sql) -> str:
    clauses = [f"session_id = {sql.add(session_id)}"]
    if owner is not None:
        clauses.append(f"owner = {sql.add(owner)}")
    for column, values in where.columns() if where is not None else ():
        clauses.append(f"{column} = ANY({sql.add(values)}::text[])")
    return " WHERE " + " AND ".join(clauses)


class PgVotes:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def record(self, votes: Sequence[VoteRecord], *, owner: str) -> int:
        if not votes:
            return 0
        now = now_iso()
        columns: list[list[Any]] = [[] for _ in range(13)]
        for v in votes:
            for column, value in zip(columns, vote_values(v, now), strict=True):
                column.append(value)
        added = await self._db.pool.fetchval(_RECORD, *columns, owner)
        return int(added)

    async def tallies(
        self, session_id: str, *, owner: str | None, where: VoteFilter | None = None
    ) -> builtins.list[PairTally]:
        sql = Sql()
        clause = _scope(session_id, owner, where, sql)
        rows = await self._db.pool.fetch(
            "SELECT first_item, second_item, count(*) FILTER (WHERE outcome = 'first'), "
            "count(*) FILTER (WHERE outcome = 'second'), count(*) FILTER (WHERE outcome = 'tie') "
            f"FROM votes{clause} GROUP BY first_item, second_item "
            'ORDER BY first_item COLLATE "C", second_item COLLATE "C"',
            *sql.params,
        )
        return [PairTally(r[0], r[1], int(r[2]), int(r[3]), int(r[4])) for r in rows]

    async def labeler_tallies(
        self, session_id: str, *, owner: str | None
    ) -> builtins.dict[str, builtins.list[PairTally]]:
        sql = Sql()
        clause = _scope(session_id, owner, None, sql)
        rows = await self._db.pool.fetch(
            "SELECT labeler_id, first_item, second_item, "
            "count(*) FILTER (WHERE outcome = 'first'), "
            "count(*) FILTER (WHERE outcome = 'second'), count(*) FILTER (WHERE outcome = 'tie') "
            f"FROM votes{clause} GROUP BY labeler_id, first_item, second_item "
            'ORDER BY labeler_id COLLATE "C", first_item COLLATE "C", second_item COLLATE "C"',
            *sql.params,
        )
        found: dict[str, list[PairTally]] = {}
        for r in rows:
            tally = PairTally(r[1], r[2], int(r[3]), int(r[4]), int(r[5]))
            found.setdefault(r[0], []).append(tally)
        return found

    async def total(self, session_id: str, *, owner: str | None) -> int:
        sql = Sql()
        clause = _scope(session_id, owner, None, sql)
        return int(await self._db.pool.fetchval(f"SELECT count(*) FROM votes{clause}", *sql.params))
