"""MRI benchmarks, their prompts, leaderboards, participants and samples.

Every row carries its benchmark's tenant (``owner``, prompts and samples through their
parent), so each lookup is one indexed ``WHERE id = $1 AND owner = $2``.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from ...._wire.common import AssetInput
from ...domain.errors import Conflict, Invalid, NotFound
from .. import benchmark_rows as shared
from ..base import (
    BenchmarkRow,
    LeaderboardRow,
    LeaderboardSpec,
    ListQuery,
    ParticipantRow,
    ParticipantSpec,
    PromptRow,
    PromptSpec,
    SampleRow,
)
from ..seeds import new_id, now_iso
from ._db import Db, encode
from ._query import Column, Columns, Sql, order_clause, page_clause, where_clause

BENCHMARKS = {name: Column(name) for name in ("id", "name", "created_at")}
PROMPTS = {
    name: Column(name) for name in ("id", "created_at", "identifier", "text", "origin_source")
}
LEADERBOARDS = {name: Column(name) for name in ("id", "name", "created_at")}
PARTICIPANTS = {name: Column(f"p.{name}") for name in ("id", "name", "status", "created_at")}
SAMPLES = {name: Column(name) for name in ("identifier", "created_at")}

_B_COLS = shared.BENCHMARK_COLUMNS
_L_COLS = shared.LEADERBOARD_COLUMNS
_P_COLS = (
    "p.id, p.benchmark_id, p.created_at, p.status, p.body, "
    "(SELECT count(*) FROM samples s WHERE s.participant_id = p.id)"
)


async def _page(
    conn: Any,
    table: str,
    cols: str,
    columns: Columns,
    query: ListQuery | None,
    scope: tuple[str, object],
    tiebreak: str,
) -> tuple[builtins.list[Any], int]:
    query = query or shared.ALL
    sql = Sql()
    where = where_clause(query, columns, sql, scope)
    order = order_clause(query, columns, tiebreak=tiebreak)
    total = await conn.fetchval(f"SELECT count(*) FROM {table}{where}", *sql.params)
    page = page_clause(query, sql)
    rows = await conn.fetch(f"SELECT {cols} FROM {table}{where}{order}{page}", *sql.params)
    return list(rows), int(total)


async def _benchmark(
    conn: Any, benchmark_id: str, owner: str | None, field: str | None = None
) -> BenchmarkRow:
    row = await conn.fetchrow(
        f"SELECT {_B_COLS} FROM benchmarks WHERE id = $1 AND ($2::text IS NULL OR owner = $2)",
        benchmark_id,
        owner,
    )
    if row is None:
        raise NotFound("Benchmark", benchmark_id, field=field)
    return BenchmarkRow(*row)


async def _participant_of(
    conn: Any, participant_id: str, owner: str | None, field: str | None = None
) -> ParticipantRow:
    row = await conn.fetchrow(
        f"SELECT {_P_COLS} FROM participants p WHERE p.id = $1 "
        "AND ($2::text IS NULL OR p.owner = $2)",
        participant_id,
        owner,
    )
    if row is None:
        raise NotFound("Participant", participant_id, field=field)
    return shared.participant_row(row)


class PgBenchmarks:
    def __init__(self, db: Db) -> None:
        self._db = db

    # -- benchmarks ----------------------------------------------------------------------------
    async def create(
        self,
        name: str,
        *,
        owner: str,
        description: str | None = None,
        min_assets_per_prompt: int | None = None,
    ) -> BenchmarkRow:
        row = BenchmarkRow(new_id(), name, now_iso(), description, min_assets_per_prompt)
        await self._db.pool.execute(
            f"INSERT INTO benchmarks ({_B_COLS}, owner) VALUES ($1, $2, $3, $4, $5, $6)",
            row.id,
            row.name,
            row.created_at,
            description,
            min_assets_per_prompt,
            owner,
        )
        return row

    async def get(
        self, benchmark_id: str, *, owner: str | None, field: str | None = None
    ) -> BenchmarkRow:
        return await _benchmark(self._db.pool, benchmark_id, owner, field)

    async def list(
        self, query: ListQuery, *, owner: str
    ) -> tuple[builtins.list[BenchmarkRow], int]:
        async with self._db.pool.acquire() as conn:
            rows, total = await _page(
                conn,
                "benchmarks",
                _B_COLS,
                BENCHMARKS,
                query,
                ("owner = {}", owner),
                "seq DESC",
            )
        return [BenchmarkRow(*r) for r in rows], total

    # -- prompts -------------------------------------------------------------------------------
    async def add_prompt(self, benchmark_id: str, spec: PromptSpec, *, owner: str) -> PromptRow:
        row = PromptRow(new_id(), benchmark_id, now_iso(), spec)
        async with self._db.pool.acquire() as conn:
            await _benchmark(conn, benchmark_id, owner, "benchmarkId")
            inserted = await conn.fetchval(
                "INSERT INTO prompts (id, benchmark_id, identifier, text, origin_source, "
                "created_at, body) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                "ON CONFLICT (benchmark_id, identifier) DO NOTHING RETURNING id",
                row.id,
                benchmark_id,
                spec.identifier,
                spec.text,
                spec.origin,
                row.created_at,
                encode(spec),
            )
        if inserted is None:
            message = f"The benchmark already has a prompt with identifier '{spec.identifier}'."
            raise Conflict(message, {"identifier": [message]})
        return row

    async def prompts(
        self, benchmark_id: str, query: ListQuery | None, *, owner: str | None
    ) -> tuple[builtins.list[PromptRow], int]:
        async with self._db.pool.acquire() as conn:
            await _benchmark(conn, benchmark_id, owner, "benchmarkId")
            cols = "id, benchmark_id, created_at, body"
            scope = ("benchmark_id = {}", benchmark_id)
            rows, total = await _page(conn, "prompts", cols, PROMPTS, query, scope, "seq ASC")
        return [PromptRow(r[0], r[1], r[2], shared.prompt_spec(r[3])) for r in rows], total

    # -- leaderboards --------------------------------------------------------------------------
    async def add_leaderboard(
        self, benchmark_id: str, spec: LeaderboardSpec, *, owner: str, target_votes: int
    ) -> LeaderboardRow:
        state = "Running" if target_votes > 0 else "Idle"
        row = LeaderboardRow(new_id(), benchmark_id, now_iso(), spec, state, target_votes, owner)
        async with self._db.pool.acquire() as conn:
            await _benchmark(conn, benchmark_id, owner, "benchmarkId")
            await conn.execute(
                f"INSERT INTO leaderboards ({_L_COLS}, name) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                row.id,
                benchmark_id,
                row.created_at,
                encode(spec),
                state,
                target_votes,
                owner,
                spec.name,
            )
        return row

    async def leaderboard(
        self, leaderboard_id: str, *, owner: str | None, field: str | None = None
    ) -> LeaderboardRow:
        row = await self._db.pool.fetchrow(
            f"SELECT {_L_COLS} FROM leaderboards WHERE id = $1 "
            "AND ($2::text IS NULL OR owner = $2)",
            leaderboard_id,
            owner,
        )
        if row is None:
            raise NotFound("Leaderboard", leaderboard_id, field=field)
        return shared.leaderboard_row(row)

    async def leaderboards(
        self, benchmark_id: str, query: ListQuery | None, *, owner: str | None
    ) -> tuple[builtins.list[LeaderboardRow], int]:
        async with self._db.pool.acquire() as conn:
            await _benchmark(conn, benchmark_id, owner, "benchmarkId")
            scope = ("benchmark_id = {}", benchmark_id)
            rows, total = await _page(
                conn,
                "leaderboards",
                _L_COLS,
                LEADERBOARDS,
                query,
                scope,
                "seq ASC",
            )
        return [shared.leaderboard_row(r) for r in rows], total

    async def set_target(self, leaderboard_id: str, target_votes: int, state: str) -> None:
        await self._db.pool.execute(
            "UPDATE leaderboards SET target_votes = $1, state = $2 WHERE id = $3",
            target_votes,
            state,
            leaderboard_id,
        )

    async def running_leaderboards(self) -> builtins.list[str]:
        rows = await self._db.pool.fetch(
            "SELECT id FROM leaderboards WHERE state = 'Running' ORDER BY seq"
        )
        return [r[0] for r in rows]

    # -- participants and samples --------------------------------------------------------------
    async def add_participant(
        self, benchmark_id: str, spec: ParticipantSpec, *, owner: str
    ) -> ParticipantRow:
        row = ParticipantRow(new_id(), benchmark_id, now_iso(), "Created", spec, 0)
        async with self._db.pool.acquire() as conn:
            await _benchmark(conn, benchmark_id, owner, "benchmarkId")
            await conn.execute(
                "INSERT INTO participants (id, benchmark_id, name, status, created_at, owner, "
                "body) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                row.id,
                benchmark_id,
                spec.name,
                row.status,
                row.created_at,
                owner,
                encode(spec),
            )
        return row

    async def participant(
        self, participant_id: str, *, owner: str | None, field: str | None = None
    ) -> ParticipantRow:
        return await _participant_of(self._db.pool, participant_id, owner, field)

    async def participants(
        self, benchmark_id: str, query: ListQuery | None, *, owner: str | None
    ) -> tuple[builtins.list[ParticipantRow], int]:
        async with self._db.pool.acquire() as conn:
            await _benchmark(conn, benchmark_id, owner, "benchmarkId")
            scope = ("p.benchmark_id = {}", benchmark_id)
            rows, total = await _page(
                conn, "participants p", _P_COLS, PARTICIPANTS, query, scope, "p.seq ASC"
            )
        return [shared.participant_row(r) for r in rows], total

    async def add_sample(
        self, participant_id: str, identifier: str, asset: AssetInput, *, owner: str
    ) -> SampleRow:
        created, sample_id = now_iso(), new_id()
        async with self._db.pool.acquire() as conn:
            participant = await _participant_of(conn, participant_id, owner, "participantId")
            known = await conn.fetchval(
                "SELECT 1 FROM prompts WHERE benchmark_id = $1 AND identifier = $2",
                participant.benchmark_id,
                identifier,
            )
            if known is None:
                raise Invalid.field(
                    "identifier", f"The benchmark has no prompt with identifier '{identifier}'."
                )
            inserted = await conn.fetchval(
                "INSERT INTO samples (id, participant_id, identifier, created_at, asset) "
                "VALUES ($1, $2, $3, $4, $5) "
                "ON CONFLICT (participant_id, identifier) DO NOTHING RETURNING id",
                sample_id,
                participant_id,
                identifier,
                created,
                encode(asset),
            )
        if inserted is None:
            message = f"The participant already has a sample for identifier '{identifier}'."
            raise Conflict(message, {"identifier": [message]})
        return SampleRow(sample_id, participant_id, identifier, created, asset)

    async def samples(
        self, participant_id: str, query: ListQuery | None, *, owner: str | None
    ) -> tuple[builtins.list[SampleRow], int]:
        async with self._db.pool.acquire() as conn:
            await _participant_of(conn, participant_id, owner, "participantId")
            cols = "id, participant_id, identifier, created_at, asset"
            scope = ("participant_id = {}", participant_id)
            rows, total = await _page(conn, "samples", cols, SAMPLES, query, scope, "seq ASC")
        return [SampleRow(r[0], r[1], r[2], r[3], shared.asset(r[4])) for r in rows], total

    async def submit(
        self, participant_ids: Sequence[str], *, owner: str
    ) -> builtins.list[ParticipantRow]:
        async with self._db.pool.acquire() as conn, conn.transaction():
            for i, participant_id in enumerate(participant_ids):
                await _participant_of(conn, participant_id, owner, f"participantIds[{i}]")
            await conn.execute(
                "UPDATE participants SET status = 'Submitted' WHERE id = ANY($1::text[]) "
                "AND owner = $2 AND status IN ('Created', 'Submittable')",
                list(participant_ids),
                owner,
            )
            return [await _participant_of(conn, p, owner) for p in dict.fromkeys(participant_ids)]

    async def benchmark_samples(self, benchmark_id: str) -> dict[str, dict[str, AssetInput]]:
        rows = await self._db.pool.fetch(
            "SELECT s.participant_id, s.identifier, s.asset FROM samples s "
            "JOIN participants p ON p.id = s.participant_id "
            "WHERE p.benchmark_id = $1 AND p.status = 'Submitted' ORDER BY s.seq",
            benchmark_id,
        )
        out: dict[str, dict[str, AssetInput]] = {}
        for participant_id, identifier, asset in rows:
            out.setdefault(participant_id, {})[identifier] = shared.asset(asset)
        return out
