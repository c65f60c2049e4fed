"""MRI benchmarks, their prompts, leaderboards, participants and samples.

Every row carries its benchmark's tenant (``owner``, prompts and samples through their
parent), so each lookup is one indexed ``WHERE id = ? AND owner = ?``.
"""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Sequence
from typing import Any

import msgspec

from ...._wire.common import AssetInput
from ...domain.errors import NotFound
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
from ._db import Database
from ._listing import Columns

_enc = msgspec.json.Encoder()

BENCHMARKS = Columns(
    filters={"id": "id", "name": "name", "created_at": "created_at"},
    sorts={"id": "id", "name": "name", "created_at": "created_at"},
)
PROMPTS = Columns(
    filters={
        "id": "id",
        "created_at": "created_at",
        "identifier": "identifier",
        "text": "text",
        "origin_source": "origin_source",
    },
    sorts={"id": "id", "created_at": "created_at", "origin_source": "origin_source"},
)
LEADERBOARDS = Columns(
    filters={"id": "id", "name": "name", "created_at": "created_at"},
    sorts={"id": "id", "name": "name", "created_at": "created_at"},
)
PARTICIPANTS = Columns(
    filters={"id": "p.id", "name": "p.name", "status": "p.status", "created_at": "p.created_at"},
    sorts={"id": "p.id", "name": "p.name", "status": "p.status", "created_at": "p.created_at"},
)
SAMPLES = Columns(
    filters={"identifier": "identifier", "created_at": "created_at"},
    sorts={"identifier": "identifier", "created_at": "created_at"},
)

_B_COLS = shared.BENCHMARK_COLUMNS
_L_COLS = shared.LEADERBOARD_COLUMNS
_P_COLS = (
    "p.id, p.benchmark_id, p.created_at, p.status, p.body, "
    "(SELECT COUNT(*) FROM samples s WHERE s.participant_id = p.id)"
)


class SqliteBenchmarks:
    def __init__(self, db: Database) -> None:
        self._db = db

    def _page(
        self,
        table: str,
        cols: str,
        columns: Columns,
        query: ListQuery | None,
        scope: tuple[str, list[Any]],
        tiebreak: str,
    ) -> tuple[builtins.list[Any], int]:
        query = query or shared.ALL
        where, params = columns.where(query, scope)
        order = columns.order(query, tiebreak=tiebreak)
        limit, paging = columns.page(query)
        conn = self._db.conn
        total = int(conn.execute(f"SELECT COUNT(*) FROM {table}{where}", params).fetchone()[0])
        rows = conn.execute(f"SELECT {cols} FROM {table}{where}{order}{limit}", [*params, *paging])
        return rows.fetchall(), total

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
        await self._db.run(
            self._db.conn.execute,
            f"INSERT INTO benchmarks ({_B_COLS}, owner) VALUES (?, ?, ?, ?, ?, ?)",
            (row.id, row.name, row.created_at, description, min_assets_per_prompt, owner),
        )
        return row

    def _benchmark(
        self, benchmark_id: str, owner: str | None, field: str | None = None
    ) -> BenchmarkRow:
        row = self._db.conn.execute(
            f"SELECT {_B_COLS} FROM benchmarks WHERE id = ? AND (? IS NULL OR owner = ?)",
            (benchmark_id, owner, owner),
        ).fetchone()
        if row is None:
            raise NotFound("Benchmark", benchmark_id, field=field)
        return BenchmarkRow(*row)

    async def get(
        self, benchmark_id: str, *, owner: str | None, field: str | None = None
    ) -> BenchmarkRow:
        return await self._db.run(self._benchmark, benchmark_id, owner, field)

    async def list(
        self, query: ListQuery, *, owner: str
    ) -> tuple[builtins.list[BenchmarkRow], int]:
        def run() -> tuple[builtins.list[BenchmarkRow], int]:
            rows, total = self._page(
                "benchmarks",
                _B_COLS,
                BENCHMARKS,
                query,
                ("owner = ?", [owner]),
                "rowid DESC",
            )
            return [BenchmarkRow(*r) for r in rows], total

        return await self._db.run(run)

    # -- prompts -------------------------------------------------------------------------------
    async def add_prompt(self, benchmark_id: str, spec: PromptSpec, *, owner: str) -> PromptRow:
        row = PromptRow(new_id(), benchmark_id, now_iso(), spec)

        def run() -> None:
            with self._db.tx() as conn:
                self._benchmark(benchmark_id, owner, "benchmarkId")
                try:
                    conn.execute(
                        "INSERT INTO prompts (id, benchmark_id, identifier, text, origin_source, "
                        "created_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (
                            row.id,
                            benchmark_id,
                            spec.identifier,
                            spec.text,
                            spec.origin,
                            row.created_at,
                            _enc.encode(spec),
                        ),
                    )
                except sqlite3.IntegrityError:
                    raise shared.duplicate_prompt(spec.identifier) from None

        await self._db.run(run)
        return row

    async def prompts(
        self, benchmark_id: str, query: ListQuery | None, *, owner: str | None
    ) -> tuple[builtins.list[PromptRow], int]:
        def run() -> tuple[builtins.list[PromptRow], int]:
            self._benchmark(benchmark_id, owner, "benchmarkId")
            scope = ("benchmark_id = ?", [benchmark_id])
            cols = "id, benchmark_id, created_at, body"
            rows, total = self._page("prompts", cols, PROMPTS, query, scope, "rowid ASC")
            return [PromptRow(r[0], r[1], r[2], shared.prompt_spec(r[3])) for r in rows], total

        return await self._db.run(run)

    # -- leaderboards --------------------------------------------------------------------------
    async def add_leaderboard(
        self, benchmark_id: str, spec: LeaderboardSpec, *, owner: str, target_votes: int
    ) -> LeaderboardRow:
        state = "Running" if target_votes > 0 else "Idle"
        row = LeaderboardRow(new_id(), benchmark_id, now_iso(), spec, state, target_votes, owner)

        def run() -> None:
            with self._db.tx() as conn:
                self._benchmark(benchmark_id, owner, "benchmarkId")
                conn.execute(
                    f"INSERT INTO leaderboards ({_L_COLS}, name) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        row.id,
                        benchmark_id,
                        row.created_at,
                        _enc.encode(spec),
                        state,
                        target_votes,
                        owner,
                        spec.name,
                    ),
                )

        await self._db.run(run)
        return row

    async def leaderboard(
        self, leaderboard_id: str, *, owner: str | None, field: str | None = None
    ) -> LeaderboardRow:
        def run() -> LeaderboardRow:
            row = self._db.conn.execute(
                f"SELECT {_L_COLS} FROM leaderboards WHERE id = ? AND (? IS NULL OR owner = ?)",
                (leaderboard_id, owner, owner),
            ).fetchone()
            if row is None:
                raise NotFound("Leaderboard", leaderboard_id, field=field)
            return shared.leaderboard_row(row)

        return await self._db.run(run)

    async def leaderboards(
        self, benchmark_id: str, query: ListQuery | None, *, owner: str | None
    ) -> tuple[builtins.list[LeaderboardRow], int]:
        def run() -> tuple[builtins.list[LeaderboardRow], int]:
            self._benchmark(benchmark_id, owner, "benchmarkId")
            scope = ("benchmark_id = ?", [benchmark_id])
            rows, total = self._page(
                "leaderboards", _L_COLS, LEADERBOARDS, query, scope, "rowid ASC"
            )
            return [shared.leaderboard_row(r) for r in rows], total

        return await self._db.run(run)

    async def set_target(self, leaderboard_id: str, target_votes: int, state: str) -> None:
        await self._db.run(
            self._db.conn.execute,
            "UPDATE leaderboards SET target_votes = ?, state = ? WHERE id = ?",
            (target_votes, state, leaderboard_id),
        )

    async def running_leaderboards(self) -> builtins.list[str]:
        def run() -> builtins.list[str]:
            rows = self._db.conn.execute(
                "SELECT id FROM leaderboards WHERE state = 'Running' ORDER BY rowid"
            )
            return [r[0] for r in rows]

        return await self._db.run(run)

    # -- participants and samples --------------------------------------------------------------
    async def add_participant(
        self, benchmark_id: str, spec: ParticipantSpec, *, owner: str
    ) -> ParticipantRow:
        row = ParticipantRow(new_id(), benchmark_id, now_iso(), "Created", spec, 0)

        def run() -> None:
            with self._db.tx() as conn:
                self._benchmark(benchmark_id, owner, "benchmarkId")
                conn.execute(
                    "INSERT INTO participants (id, benchmark_id, name, status, created_at, owner, "
                    "body) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        row.id,
                        benchmark_id,
                        spec.name,
                        row.status,
                        row.created_at,
                        owner,
                        _enc.encode(spec),
                    ),
                )

        await self._db.run(run)
        return row

    def _participant(
        self, participant_id: str, owner: str | None, field: str | None = None
    ) -> ParticipantRow:
        row = self._db.conn.execute(
            f"SELECT {_P_COLS} FROM participants p WHERE p.id = ? AND (? IS NULL OR p.owner = ?)",
            (participant_id, owner, owner),
        ).fetchone()
        if row is None:
            raise NotFound("Participant", participant_id, field=field)
        return shared.participant_row(row)

    async def participant(
        self, participant_id: str, *, owner: str | None, field: str | None = None
    ) -> ParticipantRow:
        return await self._db.run(self._participant, participant_id, owner, field)

    async def participants(
        self, benchmark_id: str, query: ListQuery | None, *, owner: str | None
    ) -> tuple[builtins.list[ParticipantRow], int]:
        def run() -> tuple[builtins.list[ParticipantRow], int]:
            self._benchmark(benchmark_id, owner, "benchmarkId")
            scope = ("p.benchmark_id = ?", [benchmark_id])
            rows, total = self._page(
                "participants p", _P_COLS, PARTICIPANTS, query, scope, "p.rowid ASC"
            )
            return [shared.participant_row(r) for r in rows], total

        return await self._db.run(run)

    async def add_sample(
        self, participant_id: str, identifier: str, asset: AssetInput, *, owner: str
    ) -> SampleRow:
        created = now_iso()
        sample_id = new_id()

        def run() -> None:
            with self._db.tx() as conn:
                participant = self._participant(participant_id, owner, "participantId")
                known = conn.execute(
                    "SELECT 1 FROM prompts WHERE benchmark_id = ? AND identifier = ?",
                    (participant.benchmark_id, identifier),
                ).fetchone()
                if known is None:
                    raise shared.unknown_identifier(identifier)
                try:
                    conn.execute(
                        "INSERT INTO samples (id, participant_id, identifier, created_at, asset) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (sample_id, participant_id, identifier, created, _enc.encode(asset)),
                    )
                except sqlite3.IntegrityError:
                    raise shared.duplicate_sample(identifier) from None

        await self._db.run(run)
        return SampleRow(sample_id, participant_id, identifier, created, asset)

    async def samples(
        self, participant_id: str, query: ListQuery | None, *, owner: str | None
    ) -> tuple[builtins.list[SampleRow], int]:
        def run() -> tuple[builtins.list[SampleRow], int]:
            self._participant(participant_id, owner, "participantId")
            scope = ("participant_id = ?", [participant_id])
            cols = "id, participant_id, identifier, created_at, asset"
            rows, total = self._page("samples", cols, SAMPLES, query, scope, "rowid ASC")
            return [SampleRow(r[0], r[1], r[2], r[3], shared.asset(r[4])) for r in rows], total

        return await self._db.run(run)

    async def submit(
        self, participant_ids: Sequence[str], *, owner: str
    ) -> builtins.list[ParticipantRow]:
        def run() -> builtins.list[ParticipantRow]:
            with self._db.tx() as conn:
                for i, participant_id in enumerate(participant_ids):
                    self._participant(participant_id, owner, f"participantIds[{i}]")
                    conn.execute(
                        "UPDATE participants SET status = 'Submitted' WHERE id = ? "
                        "AND status IN ('Created', 'Submittable')",
                        (participant_id,),
                    )
                return [self._participant(p, owner) for p in dict.fromkeys(participant_ids)]

        return await self._db.run(run)

    async def benchmark_samples(self, benchmark_id: str) -> dict[str, dict[str, AssetInput]]:
        def run() -> dict[str, dict[str, AssetInput]]:
            out: dict[str, dict[str, AssetInput]] = {}
            for participant_id, identifier, asset in self._db.conn.execute(
                "SELECT s.participant_id, s.identifier, s.asset FROM samples s "
                "JOIN participants p ON p.id = s.participant_id "
                "WHERE p.benchmark_id = ? AND p.status = 'Submitted' ORDER BY s.rowid",
                (benchmark_id,),
            ):
                out.setdefault(participant_id, {})[identifier] = shared.asset(asset)
            return out

        return await self._db.run(run)
