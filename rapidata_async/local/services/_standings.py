"""A leaderboard's standings: its votes, filtered, through the Bradley–Terry fit.

``GET /leaderboard/{id}/standings/query`` asks for the standings of the submitted participants
from the votes that pass its filters: ``tags`` (votes on prompts carrying one of them),
``prompt_identifier``, ``participant_id`` and the voters' ``country``, ``language``,
``gender``, ``age_bucket`` and ``occupation``. Each item carries the contract's ``score``
(Elo-like: mean 1000, 400 points per factor 10 in the odds), ``wins`` and ``totalMatches``,
and this backend's ``ciLow``/``ciHigh`` (95 % bootstrap interval of the score),
``rankLow``/``rankHigh`` and ``battles``. The fit is cached per (leaderboard, vote count,
filters, participants): polling a leaderboard whose votes did not change costs one count.
"""

from __future__ import annotations

import functools
import zlib
from collections import OrderedDict
from dataclasses import dataclass

import anyio.to_thread
import numpy as np

from ..._wire import mri as wire
from ..domain.ranking import Rating, standings
from ..engine._ranking import pair_counts
from ..store.base import ANY_OWNER, LeaderboardRow, ParticipantRow, Store, VoteFilter

ROUNDS = 200
"""Bootstrap rounds behind each interval."""
CACHE_SIZE = 256

Values = tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class StandingsFilter:
    """Accepted values per filter; None: no filter."""

    tags: Values = None
    prompt_identifiers: Values = None
    participant_ids: Values = None
    country: Values = None
    language: Values = None
    gender: Values = None
    age_group: Values = None
    occupation: Values = None


def _item(row: ParticipantRow, rating: Rating) -> wire.StandingItem:
    spec = row.spec
    score = round(rating.score, 4)
    return wire.StandingItem(
        id=row.id,
        name=spec.name,
        status="Active" if rating.battles else "Created",
        score=score,
        wins=rating.wins,
        total_matches=float(rating.battles),
        response_count=rating.battles,
        is_disabled=False,
        family=spec.family,
        lab=spec.lab,
        proprietary_name=spec.proprietary_name,
        license_type=spec.license_type,  # type: ignore[arg-type]  # checked on input
        cost=spec.cost,
        cost_unit=spec.cost_unit,  # type: ignore[arg-type]  # checked on input
        confidence_interval=wire.ConfidenceInterval(
            lower_offset=round(rating.score - rating.ci_low, 4),
            upper_offset=round(rating.ci_high - rating.score, 4),
        ),
        ci_low=round(rating.ci_low, 4),
        ci_high=round(rating.ci_high, 4),
        rank_low=rating.rank_low,
        rank_high=rating.rank_high,
        battles=rating.battles,
    )


class Standings:
    """Computes standings and keeps the latest fits (least recently used out first)."""

    def __init__(self, size: int = CACHE_SIZE, rounds: int = ROUNDS) -> None:
        self.size: int = size
        self.rounds: int = rounds
        self._fits: OrderedDict[tuple[object, ...], wire.StandingsOutput] = OrderedDict()
        self.fits: int = 0  # fits computed (not served from the cache)

    async def _context_keys(
        self, store: Store, board: LeaderboardRow, flt: StandingsFilter
    ) -> list[str] | None:
        """The prompt identifiers whose votes count, or None for all."""
        if flt.tags is None and flt.prompt_identifiers is None:
            return None
        prompts, _ = await store.benchmarks.prompts(board.benchmark_id, None, owner=ANY_OWNER)
        tags = set(flt.tags or ())
        return [
            p.spec.identifier
            for p in prompts
            if (flt.tags is None or tags & {t.value for t in p.spec.tags})
            and (flt.prompt_identifiers is None or p.spec.identifier in flt.prompt_identifiers)
        ]

    async def query(
        self, store: Store, board: LeaderboardRow, flt: StandingsFilter
    ) -> wire.StandingsOutput:
        """The standings of ``board`` (already checked to be the caller's)."""
        participants, _ = await store.benchmarks.participants(
            board.benchmark_id, None, owner=ANY_OWNER
        )
        rows = [p for p in participants if p.status == "Submitted"]
        if flt.participant_ids is not None:
            rows = [p for p in rows if p.id in flt.participant_ids]
        total = await store.votes.total(board.id, owner=ANY_OWNER)
        key = (board.id, total, flt, tuple(p.id for p in rows), board.spec.is_inversed)
        cached = self._fits.get(key)
        if cached is not None:
            self._fits.move_to_end(key)
            return cached
        result = await self._compute(store, board, flt, rows)
        self._fits[key] = result
        if len(self._fits) > self.size:
            self._fits.popitem(last=False)
        return result

    async def _compute(
        self,
        store: Store,
        board: LeaderboardRow,
        flt: StandingsFilter,
        rows: list[ParticipantRow],
    ) -> wire.StandingsOutput:
        if not rows:
            return wire.StandingsOutput(items=[], total_responses=0)
        keys = await self._context_keys(store, board, flt)
        tallies = []
        if keys is None or keys:
            where = VoteFilter(
                context_keys=keys,
                country=flt.country,
                language=flt.language,
                gender=flt.gender,
                age_group=flt.age_group,
                occupation=flt.occupation,
            )
            tallies = await store.votes.tallies(board.id, owner=ANY_OWNER, where=where)
        ids = [p.id for p in rows]
        counts = pair_counts(ids, tallies)
        seed = zlib.crc32(f"{board.id}:{counts.total}".encode())
        fit = functools.partial(
            standings,
            counts,
            ids,
            rounds=self.rounds,
            rng=np.random.default_rng(seed),
            inverse=board.spec.is_inversed,
        )
        ratings = await anyio.to_thread.run_sync(fit)
        self.fits += 1
        by_id = {p.id: p for p in rows}
        return wire.StandingsOutput(
            items=[_item(by_id[r.id], r) for r in ratings],
            total_responses=round(counts.total),
        )
