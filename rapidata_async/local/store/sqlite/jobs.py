"""Jobs, their individual responses and the datapoints their referee closed."""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Sequence
from typing import Any

import msgspec

from ...._wire import audience as auwire
from ...._wire import job as jwire
from ...domain.errors import NotFound
from ..base import OWNER_MAIL, JobRow, JobWork, ListQuery, ResponseRecord, RevisionRow
from ..seeds import new_id, now_iso
from ._db import Database
from ._listing import Columns
from .audiences import audience, examples
from .datasets import datapoints
from .definitions import revision

_enc = msgspec.json.Encoder()
_filters = msgspec.json.Decoder(list[auwire.AudienceFilter])
_COLS = (
    "j.id, j.name, j.definition_id, j.revision_number, j.audience_id, a.name, j.pipeline_id, "
    "j.state, j.created_at, j.owner_mail, j.completed_at, j.failed_at, j.failure_message, "
    "j.preceding_job_id, j.total, j.completed, j.response_count, j.reason, j.owner, j.filters"
)
_FROM = " FROM jobs j LEFT JOIN audiences a ON a.id = j.audience_id"
COLUMNS = Columns(
    filters={
        "id": "j.id",
        "name": "j.name",
        "definition_id": "j.definition_id",
        "audience_id": "j.audience_id",
        "state": "j.state",
        "owner_mail": "j.owner_mail",
        "created_at": "j.created_at",
    },
    sorts={
        "name": "j.name",
        "created_at": "j.created_at",
        "state": "j.state",
        "owner_mail": "j.owner_mail",
        "progress": "CAST(j.completed AS REAL) / MAX(j.total, 1)",
    },
)
_RESPONSE_COLS = (
    "job_id, datapoint_id, labeler_id, answer, user_score, country, language, age, gender, "
    "occupation"
)
# A response to a datapoint closed by an earlier call is late (another process, a resumed
# run): it is dropped like a repeat.
_INSERT_RESPONSE = (
    f"INSERT OR IGNORE INTO responses ({_RESPONSE_COLS}) "
    "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM closed_datapoints c "
    "WHERE c.job_id = ? AND c.datapoint_id = ?)"
)


def job(
    conn: sqlite3.Connection, job_id: str, field: str | None = None, owner: str | None = None
) -> JobRow:
    row = conn.execute(
        f"SELECT {_COLS}{_FROM} WHERE j.id = ? AND (? IS NULL OR j.owner = ?)",
        (job_id, owner, owner),
    ).fetchone()
    if row is None:
        raise NotFound("Job", job_id, field=field)
    return _row(row)


def _row(row: Any) -> JobRow:
    filters = _filters.decode(row[19]) if row[19] is not None else None
    values: list[Any] = [*row[:19], filters]
    return JobRow(*values)


class SqliteJobs:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        body: jwire.CreateJobInput,
        *,
        owner: str,
        name: str,
        revision: RevisionRow,
        total: int,
        filters: Sequence[auwire.AudienceFilter] | None = None,
    ) -> JobRow:
        job_id = new_id()
        values = (
            job_id,
            name,
            revision.definition_id,
            revision.number,
            body.audience_id,
            revision.pipeline_id,
            now_iso(),
            OWNER_MAIL,
            body.preceding_job_id,
            total,
            _enc.encode(body),
            owner,
            _enc.encode(list(filters)) if filters else None,
        )

        def run() -> JobRow:
            self._db.conn.execute(
                "INSERT INTO jobs (id, name, definition_id, revision_number, audience_id, "
                "pipeline_id, state, created_at, owner_mail, preceding_job_id, total, body, owner, "
                "filters) VALUES (?, ?, ?, ?, ?, ?, 'Submitted', ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
            return job(self._db.conn, job_id)

        return await self._db.run(run)

    async def get(self, job_id: str, *, owner: str | None, field: str | None = None) -> JobRow:
        return await self._db.run(job, self._db.conn, job_id, field, owner)

    async def list(self, query: ListQuery, *, owner: str | None) -> tuple[list[JobRow], int]:
        where, params = COLUMNS.where(query, None if owner is None else ("j.owner = ?", [owner]))
        order = COLUMNS.order(query, tiebreak="j.rowid DESC")
        limit, paging = COLUMNS.page(query)

        def run() -> tuple[list[JobRow], int]:
            conn = self._db.conn
            count = int(conn.execute(f"SELECT COUNT(*) FROM jobs j{where}", params).fetchone()[0])
            rows = conn.execute(f"SELECT {_COLS}{_FROM}{where}{order}{limit}", [*params, *paging])
            return [_row(r) for r in rows], count

        return await self._db.run(run)

    async def set_state(
        self,
        job_id: str,
        state: str,
        *,
        failure_message: str | None = None,
        total: int | None = None,
        reason: str | None = None,
    ) -> None:
        now = now_iso()
        await self._db.run(
            self._db.conn.execute,
            "UPDATE jobs SET state = ?, "
            "completed_at = CASE WHEN ? = 'Completed' THEN ? ELSE completed_at END, "
            "failed_at = CASE WHEN ? = 'Failed' THEN ? ELSE NULL END, "
            "failure_message = ?, reason = ?, total = COALESCE(?, total) WHERE id = ?",
            (state, state, now, state, now, failure_message, reason, total, job_id),
        )

    async def set_reason(self, job_id: str, reason: str | None) -> None:
        await self._db.run(
            self._db.conn.execute, "UPDATE jobs SET reason = ? WHERE id = ?", (reason, job_id)
        )

    async def in_states(self, states: Sequence[str]) -> builtins.list[str]:
        marks = ", ".join("?" * len(states))

        def run() -> builtins.list[str]:
            rows = self._db.conn.execute(
                f"SELECT id FROM jobs WHERE state IN ({marks}) ORDER BY created_at, rowid",
                list(states),
            )
            return [r[0] for r in rows]

        return await self._db.run(run)

    async def work(self, job_id: str) -> JobWork:
        def run() -> JobWork:
            conn = self._db.conn
            row = job(conn, job_id)
            rev = revision(conn, row.definition_id, row.revision_number)
            aud = audience(conn, row.audience_id)
            responses: dict[str, list[ResponseRecord]] = {}
            for r in conn.execute(
                f"SELECT {_RESPONSE_COLS}, seq FROM responses WHERE job_id = ? ORDER BY seq",
                (job_id,),
            ):
                responses.setdefault(r[1], []).append(ResponseRecord(*r))
            done = frozenset(
                r[0]
                for r in conn.execute(
                    "SELECT datapoint_id FROM closed_datapoints WHERE job_id = ?", (job_id,)
                )
            )
            return JobWork(
                row,
                rev,
                aud,
                examples(conn, aud.id),
                datapoints(conn, rev.body.dataset_id),
                responses,
                done,
            )

        return await self._db.run(run)

    async def record(
        self, job_id: str, responses: Sequence[ResponseRecord], done: Sequence[str]
    ) -> int:
        """See ``base.Jobs.record``; ``seq`` is assigned here, in arrival order (a record's own
        ``seq`` is ignored)."""
        rows = [
            (
                job_id,
                r.datapoint_id,
                r.labeler_id,
                r.answer,
                r.user_score,
                r.country,
                r.language,
                r.age,
                r.gender,
                r.occupation,
                job_id,
                r.datapoint_id,
            )
            for r in responses
        ]
        closed = [(job_id, datapoint_id) for datapoint_id in dict.fromkeys(done)]

        def run() -> int:
            with self._db.tx() as conn:
                before = conn.total_changes
                conn.executemany(_INSERT_RESPONSE, rows)
                added = conn.total_changes - before
                before = conn.total_changes
                conn.executemany(
                    "INSERT OR IGNORE INTO closed_datapoints (job_id, datapoint_id) VALUES (?, ?)",
                    closed,
                )
                newly_closed = conn.total_changes - before
                cur = conn.execute(
                    "UPDATE jobs SET response_count = response_count + ?, "
                    "completed = completed + ? WHERE id = ?",
                    (added, newly_closed, job_id),
                )
                if cur.rowcount != 1:
                    raise NotFound("Job", job_id)
                return added

        return await self._db.run(run)
