"""The pairwise ranking runner on the real backend's engine, task board and simulated crowd:
a session of items with known latent quality, run under a lease like a job, its votes
stored (idempotently) in ``store.votes``."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import anyio
import numpy as np
import pytest
from _poll import eventually

from rapidata_async.local import LocalBackend
from rapidata_async.local.domain.ranking import standings
from rapidata_async.local.domain.ranking_sim import spearman
from rapidata_async.local.domain.tasks import TaskSpec
from rapidata_async.local.engine._ranking import (
    RankingOutcome,
    RankingPlan,
    pair_counts,
)
from rapidata_async.local.store.base import VoteFilter, VoteRecord

pytestmark = pytest.mark.anyio

QUALITY = {f"item-{k}.png": 150.0 * k for k in range(8)}  # item-7 best, item-0 worst


class Items:
    def __init__(self, ids: Sequence[str], session: str) -> None:
        self.ids = list(ids)
        self.session = session

    def task(self, i: int, j: int) -> tuple[TaskSpec, str | None]:
        a, b = self.ids[i], self.ids[j]
        spec = TaskSpec(f"{self.session}:{a}|{b}", "compare", [a, b], context="Which is nicer?")
        return spec, f"prompt-{min(i, j) % 2}"


@dataclass
class Source:
    """A RankingSource with its sessions in memory."""

    owner: str
    plans: dict[str, RankingPlan] = field(default_factory=dict)
    outcomes: dict[str, RankingOutcome] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    stop: set[str] = field(default_factory=set)
    kind: str = "test"

    async def runnable(self) -> list[str]:
        return [s for s in self.plans if s not in self.outcomes and s not in self.failures]

    async def plan(self, session_id: str) -> RankingPlan | None:
        return self.plans.get(session_id)

    async def should_stop(self, session_id: str) -> bool:
        return session_id in self.stop

    async def finished(self, session_id: str, outcome: RankingOutcome) -> None:
        self.outcomes[session_id] = outcome

    async def failed(self, session_id: str, message: str) -> None:
        self.failures[session_id] = message


def _plan(source: Source, session: str, **options: object) -> RankingPlan:
    return RankingPlan(
        session_id=session,
        owner=source.owner,
        audience_id="global",
        matchups=Items(list(QUALITY), session),
        **options,  # type: ignore[arg-type]
    )


async def _finish(source: Source, session: str, deadline: float = 30.0) -> RankingOutcome:
    with anyio.fail_after(deadline):
        while session not in source.outcomes:
            assert session not in source.failures, source.failures[session]
            await anyio.sleep(0.02)
    return source.outcomes[session]


@pytest.fixture
async def source(backend: LocalBackend) -> AsyncIterator[Source]:
    backend.quality = QUALITY.__getitem__
    made = Source(owner="tenant-a")
    backend.context.runner.register_ranking(made)
    yield made
    made.plans.clear()
    backend.quality = None


async def test_the_fitted_order_follows_the_latent_quality(
    backend: LocalBackend, source: Source
) -> None:
    source.plans["s1"] = _plan(source, "s1", min_responses=3, budget=300)
    backend.context.runner.start_ranking()
    assert await _finish(source, "s1") == "completed"
    ids = list(QUALITY)
    tallies = await backend.store.votes.tallies("s1", owner="tenant-a")
    counts = pair_counts(ids, tallies)
    assert counts.total == await backend.store.votes.total("s1", owner="tenant-a")
    # The budget counts votes promised to open matchups: never more than it.
    assert 300 - 3 < counts.total <= 300
    table = standings(counts, ids, rounds=50, rng=np.random.default_rng(0))
    fitted = {r.id: r.score for r in table}
    rho = spearman([QUALITY[i] for i in ids], [fitted[i] for i in ids])
    assert rho > 0.8, table
    # Another tenant sees no vote of the session.
    assert await backend.store.votes.tallies("s1", owner="tenant-b") == []


async def test_every_matchup_gets_its_votes_and_demographics_are_kept(
    backend: LocalBackend, source: Source
) -> None:
    source.plans["s2"] = _plan(source, "s2", min_responses=4, max_per_pair=4)
    backend.context.runner.start_ranking()
    assert await _finish(source, "s2") == "completed"
    tallies = await backend.store.votes.tallies("s2", owner=None)
    per_pair: dict[frozenset[str], int] = {}
    for t in tallies:
        key = frozenset((t.first, t.second))
        per_pair[key] = per_pair.get(key, 0) + t.first_won + t.second_won + t.ties
    # No budget: every one of the 28 pairs met once, with exactly 4 votes (max_per_pair).
    assert len(per_pair) == 28
    assert set(per_pair.values()) == {4}
    # Filters: by context key (the provider's) and by a demographic.
    by_prompt = await backend.store.votes.tallies(
        "s2", owner=None, where=VoteFilter(context_keys=["prompt-0"])
    )
    assert 0 < sum(t.first_won + t.second_won + t.ties for t in by_prompt) < 28 * 4
    by_country = await backend.store.votes.tallies(
        "s2", owner=None, where=VoteFilter(country=["IN"])
    )
    nowhere = await backend.store.votes.tallies("s2", owner=None, where=VoteFilter(country=["XX"]))
    assert by_country and nowhere == []


async def test_a_deadline_ends_the_session_with_the_votes_so_far(
    backend: LocalBackend, source: Source
) -> None:
    # Far more votes than can come in 0.6 s: the deadline ends it, votes kept.
    source.plans["s3"] = _plan(
        source,
        "s3",
        min_responses=5,
        budget=10**7,
        max_per_pair=10**6,
        deadline=time.time() + 0.6,
        drain_seconds=0.1,
    )
    backend.context.runner.start_ranking()
    assert await _finish(source, "s3") == "expired"
    assert await backend.store.votes.total("s3", owner=None) > 0


async def test_a_stop_request_ends_the_session(backend: LocalBackend, source: Source) -> None:
    source.plans["s4"] = _plan(source, "s4", min_responses=2, budget=10**7, max_per_pair=10**6)
    backend.context.runner.start_ranking()
    with anyio.fail_after(10):
        while True:
            if await backend.store.votes.total("s4", owner=None):
                break
            await anyio.sleep(0.02)
    source.stop.add("s4")
    assert await _finish(source, "s4") == "stopped"


async def test_votes_are_recorded_once_per_labeler_and_matchup(backend: LocalBackend) -> None:
    votes = backend.store.votes
    vote = VoteRecord("s5", "t1", "sim:1", "a", "b", "first", None, "DE", None, None, None, None)
    assert await votes.record([vote, vote], owner="tenant-a") == 1
    assert await votes.record([vote], owner="tenant-a") == 0
    other = VoteRecord("s5", "t1", "sim:2", "a", "b", "tie")
    assert await votes.record([other], owner="tenant-a") == 1
    tallies = await votes.tallies("s5", owner="tenant-a")
    assert [(t.first, t.second, t.first_won, t.second_won, t.ties) for t in tallies] == [
        ("a", "b", 1, 0, 1)
    ]
    assert await votes.total("s5", owner="tenant-a") == 2
    german = await votes.tallies("s5", owner="tenant-a", where=VoteFilter(country=["DE"]))
    assert [(t.first_won, t.ties) for t in german] == [(1, 0)]


async def test_a_matchup_short_of_votes_is_replaced_after_the_serve_timeout(
    backend: LocalBackend, source: Source, few_labelers: str
) -> None:
    # A handful of labelers, matchups wanting 50 votes: none completes, each times out.
    plan = _plan(source, "s6", min_responses=50, serve_timeout=0.3, deadline=time.time() + 1.5)
    source.plans["s6"] = dataclasses.replace(plan, audience_id=few_labelers)
    backend.context.runner.start_ranking()
    board = backend.context.runner.board
    await eventually(lambda: bool(board.open_tasks("test:s6")))
    first = {task.datapoint_id for task in board.open_tasks("test:s6")}
    # Later matchups are new ones: the first were dropped after 0.3 s.
    await eventually(
        lambda: (
            bool(board.open_tasks("test:s6"))
            and not first & {task.datapoint_id for task in board.open_tasks("test:s6")}
        )
    )
    assert await _finish(source, "s6") == "expired"
    assert await backend.store.votes.total("s6", owner=None) > 0
