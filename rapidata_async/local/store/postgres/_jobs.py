"""Jobs, the responses they collected and the datapoints their referee closed.

``record`` is the hot path (the engine pushes thousands of responses a second in batches):
one statement inserts the batch from parallel arrays (``unnest``), skips what is already
stored, closes datapoints and bumps the job's counters by exactly what was new.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import msgspec

from ...._wire import audience as auwire
from ...._wire import job as jwire
from ...domain.errors import Invalid, NotFound
from ..base import OWNER_MAIL, JobRow, JobWork, ListQuery, ResponseRecord, RevisionRow
from ..seeds import new_id, now_iso
from ._audiences import audience_on, examples_on
from ._datasets import datapoints_on
from ._db import Db, encode
from ._definitions import revision_on
from ._query import Column, Sql, order_clause, page_clause, where_clause

_COLS = (
    "j.id, j.name, j.definition_id, j.revision_number, j.audience_id, a.name, j.pipeline_id, "
    "j.state, j.created_at, j.owner_mail, j.completed_at, j.failed_at, j.failure_message, "
    "j.preceding_job_id, j.total, j.completed, j.response_count, j.reason, j.owner, j.filters"
)
_FROM = " FROM jobs j LEFT JOIN audiences a ON a.id = j.audience_id"
COLUMNS = {
    "id": Column("j.id"),
    "name": Column("j.name"),
    "definition_id": Column("j.definition_id"),
    "job_definition_id": Column("j.definition_id"),
    "audience_id": Column("j.audience_id"),
    "pipeline_id": Column("j.pipeline_id"),
    "state": Column("j.state"),
    "owner_mail": Column("j.owner_mail"),
    "created_at": Column("j.created_at"),
    "response_count": Column("j.response_count", "int"),
    "progress": Column("(j.completed::float8 / GREATEST(j.total, 1))", "float"),
}

# Nothing is stored for a job that does not exist (the UPDATE then returns no row).
# Responses to a datapoint closed before this call are late: the referee has decided, so they
# neither count nor get stored. A datapoint closed by this very call keeps the responses that
# come with it (the snapshot of the statement does not see its own closing).
_RECORD = """
WITH incoming AS (
    SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::float8[], $6::text[],
                         $7::text[], $8::text[], $9::text[], $10::text[])
        AS r(datapoint_id, labeler_id, answer, user_score, country, language, age, gender,
             occupation)
), added AS (
    INSERT INTO responses (job_id, datapoint_id, labeler_id, answer, user_score, country,
                           language, age, gender, occupation)
    SELECT $1, r.datapoint_id, r.labeler_id, r.answer, r.user_score, r.country, r.language,
           r.age, r.gender, r.occupation
    FROM incoming r
    WHERE EXISTS (SELECT 1 FROM jobs WHERE id = $1)
      AND NOT EXISTS (SELECT 1 FROM closed_datapoints c
                      WHERE c.job_id = $1 AND c.datapoint_id = r.datapoint_id)
    ON CONFLICT (job_id, datapoint_id, labeler_id) DO NOTHING
    RETURNING 1
), closed AS (
    INSERT INTO closed_datapoints (job_id, datapoint_id)
    SELECT $1, d FROM unnest($11::text[]) AS d
    WHERE EXISTS (SELECT 1 FROM jobs WHERE id = $1)
    ON CONFLICT (job_id, datapoint_id) DO NOTHING
    RETURNING 1
), counts AS (
    SELECT (SELECT count(*) FROM added) AS responses, (SELECT count(*) FROM closed) AS done
)
UPDATE jobs SET response_count = response_count + counts.responses,
                completed = completed + counts.done
FROM counts WHERE jobs.id = $1
RETURNING counts.responses
"""


_filters = msgspec.json.Decoder(list[auwire.AudienceFilter])


def _job(row: Any) -> JobRow:
    filters = _filters.decode(row[19]) if row[19] is not None else None
    values: list[Any] = [*row[:19], filters]
    return JobRow(*values)


async def _job_on(
    conn: Any, job_id: str, field: str | None = None, owner: str | None = None
) -> JobRow:
    row = await conn.fetchrow(
        f"SELECT {_COLS}{_FROM} WHERE j.id = $1 AND ($2::text IS NULL OR j.owner = $2)",
        job_id,
        owner,
    )
    if row is None:
        raise NotFound("Job", job_id, field=field)
    return _job(row)


class PgJobs:
    def __init__(self, db: Db) -> None:
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
        """A new job of ``owner`` in ``Submitted``."""
        job_id = new_id()
        async with self._db.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO jobs (id, name, definition_id, revision_number, audience_id, "
                "pipeline_id, state, created_at, owner_mail, preceding_job_id, total, body, "
                "owner, filters) VALUES ($1, $2, $3, $4, $5, $6, 'Submitted', "
                "$7, $8, $9, $10, $11, $12, $13)",
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
                encode(body),
                owner,
                encode(list(filters)) if filters else None,
            )
            return await _job_on(conn, job_id)

    async def get(self, job_id: str, *, owner: str | None, field: str | None = None) -> JobRow:
        return await _job_on(self._db.pool, job_id, field, owner)

    async def list(self, query: ListQuery, *, owner: str | None) -> tuple[list[JobRow], int]:
        sql = Sql()
        scope = None if owner is None else ("j.owner = {}", owner)
        where = where_clause(query, COLUMNS, sql, scope)
        order = order_clause(query, COLUMNS, tiebreak="j.seq DESC")
        async with self._db.pool.acquire() as conn:
            total = await conn.fetchval(f"SELECT count(*) FROM jobs j{where}", *sql.params)
            page = page_clause(query, sql)
            rows = await conn.fetch(f"SELECT {_COLS}{_FROM}{where}{order}{page}", *sql.params)
        return [_job(row) for row in rows], int(total)

    async def set_state(
        self,
        job_id: str,
        state: str,
        *,
        failure_message: str | None = None,
        total: int | None = None,
        reason: str | None = None,
    ) -> None:
        """Set the state (stamping ``completed_at``/``failed_at``), the failure message and
        the waiting ``reason`` (both cleared when None), and ``total`` when given."""
        changed = await self._db.pool.fetchval(
            "UPDATE jobs SET state = $2, "
            "completed_at = CASE WHEN $2 = 'Completed' THEN $3 ELSE completed_at END, "
            "failed_at = CASE WHEN $2 = 'Failed' THEN $3 ELSE NULL END, "
            "failure_message = $4, reason = $5, total = COALESCE($6, total) "
            "WHERE id = $1 RETURNING 1",
            job_id,
            state,
            now_iso(),
            failure_message,
            reason,
            total,
        )
        if changed is None:
            raise NotFound("Job", job_id)

    async def set_reason(self, job_id: str, reason: str | None) -> None:
        """Only the waiting reason of a running job, nothing else."""
        found = await self._db.pool.fetchval(
            "UPDATE jobs SET reason = $2 WHERE id = $1 RETURNING 1",
            job_id,
            reason,
        )
        if found is None:
            raise NotFound("Job", job_id)

    async def in_states(self, states: Sequence[str]) -> builtins.list[str]:
        """Ids in creation order."""
        rows = await self._db.pool.fetch(
            "SELECT id FROM jobs WHERE state = ANY($1::text[]) ORDER BY created_at, seq",
            list(states),
        )
        return [row[0] for row in rows]

    async def work(self, job_id: str) -> JobWork:
        async with self._db.pool.acquire() as conn:
            # One snapshot: the responses and the closed datapoints agree with the counters.
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                job = await _job_on(conn, job_id)
                revision = await revision_on(conn, job.definition_id, job.revision_number)
                audience = await audience_on(conn, job.audience_id)
                examples = await examples_on(conn, audience.id)
                datapoints = await datapoints_on(conn, revision.body.dataset_id)
                rows = await conn.fetch(
                    "SELECT datapoint_id, labeler_id, answer, user_score, country, language, "
                    "age, gender, occupation, seq FROM responses WHERE job_id = $1 "
                    "ORDER BY seq",
                    job_id,
                )
                done = await conn.fetch(
                    "SELECT datapoint_id FROM closed_datapoints WHERE job_id = $1", job_id
                )
        responses: dict[str, list[ResponseRecord]] = {}
        for r in rows:
            responses.setdefault(r[0], []).append(ResponseRecord(job_id, *r))
        return JobWork(
            job,
            revision,
            audience,
            examples,
            datapoints,
            responses,
            frozenset(row[0] for row in done),
        )

    async def record(
        self, job_id: str, responses: Sequence[ResponseRecord], done: Sequence[str]
    ) -> int:
        """Append responses and close datapoints, in one transaction, and bump the job's
        ``response_count``/``completed`` by what was new. A response whose ``(job, datapoint,
        labeler)`` is already stored, or a datapoint already closed, is skipped. Returns how
        many responses were new. ``seq`` is assigned here, in arrival order (a record's own
        ``seq`` is ignored)."""
        if any(r.job_id != job_id for r in responses):
            raise Invalid.field("job_id", f"Every response recorded must belong to job {job_id}.")
        columns: list[list[Any]] = [[] for _ in range(9)]
        for r in responses:
            for column, value in zip(
                columns,
                (
                    r.datapoint_id,
                    r.labeler_id,
                    r.answer,
                    r.user_score,
                    r.country,
                    r.language,
                    r.age,
                    r.gender,
                    r.occupation,
                ),
                strict=True,
            ):
                column.append(value)
        added = await self._db.pool.fetchval(_RECORD, job_id, *columns, list(done))
        if added is None:
            raise NotFound("Job", job_id)
        return int(added)
