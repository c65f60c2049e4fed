"""People of the labeling page: their invites (token hashes) and qualification outcomes."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from ..base import LabelerRow
from ..seeds import now_iso
from ._db import Db

_SELECT = (
    "SELECT l.id, l.owner, l.name, l.audiences, l.created_at, l.token_hash, "
    "coalesce(array_agg(q.audience_id) FILTER (WHERE q.audience_id IS NOT NULL), '{}'), "
    "coalesce(array_agg(q.state) FILTER (WHERE q.audience_id IS NOT NULL), '{}'), "
    "coalesce(array_agg(q.user_score) FILTER (WHERE q.audience_id IS NOT NULL), '{}') "
    "FROM labelers l LEFT JOIN labeler_qualifications q ON q.labeler_id = l.id "
)
_GROUP = " GROUP BY l.seq, l.id ORDER BY l.created_at, l.seq"


def _row(row: Any) -> LabelerRow:
    outcomes = {a: (s, float(u)) for a, s, u in zip(row[6], row[7], row[8], strict=True)}
    return LabelerRow(row[0], row[1], row[2], list(row[3]), row[4], outcomes)


class PgLabelers:
    def __init__(self, db: Db) -> None:
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
        await self._db.pool.execute(
            "INSERT INTO labelers (id, owner, name, audiences, created_at, token_hash) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            labeler_id,
            owner,
            name,
            list(audiences),
            now_iso(),
            token_hash,
        )
        found = await self.get(labeler_id)
        assert found is not None
        return found[0]

    async def get(self, labeler_id: str) -> tuple[LabelerRow, str] | None:
        row = await self._db.pool.fetchrow(f"{_SELECT}WHERE l.id = $1{_GROUP}", labeler_id)
        return None if row is None else (_row(row), row[5])

    async def list(self, *, owner: str) -> builtins.list[LabelerRow]:
        rows = await self._db.pool.fetch(f"{_SELECT}WHERE l.owner = $1{_GROUP}", owner)
        return [_row(row) for row in rows]

    async def set_qualification(
        self, labeler_id: str, audience_id: str, state: str, user_score: float
    ) -> None:
        await self._db.pool.execute(
            "INSERT INTO labeler_qualifications (labeler_id, audience_id, state, user_score) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (labeler_id, audience_id) DO UPDATE SET "
            "state = EXCLUDED.state, user_score = EXCLUDED.user_score",
            labeler_id,
            audience_id,
            state,
            user_score,
        )
