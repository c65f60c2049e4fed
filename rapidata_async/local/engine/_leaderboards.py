"""MRI leaderboards as ranking sessions: which leaderboards run, and the matchups they ask.

A leaderboard is ``Running`` from the moment a run is asked for (created without
``skipInitialRun``, or participants of its benchmark submitted) until its vote target is met:
each run adds its ``responseBudget`` to the target. The engine's ranking runner
(``_ranking.RankingRun``) runs it like any session: the items are the submitted participants
that have a sample on an eligible prompt (one carrying an ``includedTags`` value, when the
leaderboard names any, and no ``excludedTags`` value), every matchup collects
``minResponses`` votes from the leaderboard's audience, and its votes are stored under the
leaderboard's id with the prompt identifier as their context key, so standings can filter by
tags and by voter.

For a pair of participants, ``LeaderboardMatchups.task`` picks the eligible prompt both have
samples for that the pair was shown least in this run (ties broken by a seeded hash), and
shows the two samples with the instruction, and the prompt text when ``showPrompt``.
"""

from __future__ import annotations

import hashlib
import logging
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from ..._wire.common import AssetInput
from ..domain.matchmaking import MatchState, next_pairs
from ..domain.tasks import TaskSpec, asset_label
from ..store.base import ANY_OWNER, LeaderboardSpec, PromptSpec, Store
from ._ranking import RankingOutcome, RankingPlan

log = logging.getLogger("rapidata_async.local")

KIND = "leaderboard"
PARALLEL = 16
"""Matchups a leaderboard run keeps open at most."""


def eligible(prompt: PromptSpec, spec: LeaderboardSpec) -> bool:
    """Whether a leaderboard collects matchups on ``prompt`` (tags match on their value)."""
    values = {t.value for t in prompt.tags}
    if values & set(spec.excluded_tags):
        return False
    return not spec.included_tags or bool(values & set(spec.included_tags))


class LeaderboardMatchups:
    """The participants of one leaderboard run and the compare task of each pair."""

    def __init__(
        self,
        leaderboard_id: str,
        spec: LeaderboardSpec,
        samples: Mapping[str, Mapping[str, AssetInput]],
        prompts: Mapping[str, PromptSpec],
    ) -> None:
        self.leaderboard_id = leaderboard_id
        self.spec = spec
        self.prompts = prompts
        self.samples = {
            pid: {k: asset_label(a) for k, a in by_prompt.items() if k in prompts}
            for pid, by_prompt in samples.items()
        }
        self._ids = sorted(pid for pid, by_prompt in self.samples.items() if by_prompt)
        self._used: Counter[tuple[str, str, str]] = Counter()

    @property
    def ids(self) -> Sequence[str]:
        return self._ids

    def common(self, i: int, j: int) -> list[str]:
        """The eligible prompts both participants have samples for, in a fixed order."""
        a, b = self.samples[self._ids[i]], self.samples[self._ids[j]]
        return sorted(k for k in a if k in b and a[k] != b[k])

    def _rank(self, pair: tuple[str, str], identifier: str) -> tuple[int, str]:
        digest = hashlib.blake2b(
            f"{self.leaderboard_id}\x1f{pair[0]}\x1f{pair[1]}\x1f{identifier}".encode(),
            digest_size=8,
        ).hexdigest()
        return self._used[(*pair, identifier)], digest

    def task(self, i: int, j: int) -> tuple[TaskSpec, str | None]:
        a, b = self._ids[i], self._ids[j]
        pair = (min(a, b), max(a, b))
        choices = self.common(i, j)
        if not choices:
            raise ValueError(f"participants {a} and {b} share no eligible prompt")
        identifier = min(choices, key=lambda k: self._rank(pair, k))
        self._used[(*pair, identifier)] += 1
        first, second = self.samples[a][identifier], self.samples[b][identifier]
        prompt = self.prompts[identifier]
        context = prompt.text if self.spec.show_prompt else None
        key = "\x1f".join(["mri", self.leaderboard_id, identifier, first, second])
        return TaskSpec(key, "compare", [first, second], context=context, pairwise=True), identifier

    def matchmaker(
        self, state: MatchState, k: int, rng: np.random.Generator
    ) -> list[tuple[int, int]]:
        """``next_pairs`` without the pairs that share no eligible prompt."""
        n = len(self._ids)
        blocked = sum(1 for i in range(n) for j in range(i + 1, n) if not self.common(i, j))
        picks = next_pairs(state, k + blocked, rng)
        return [(i, j) for i, j in picks if self.common(i, j)][:k]


class LeaderboardSessions:
    """The engine's ranking source of leaderboards (lease key ``leaderboard:<id>``)."""

    kind = KIND

    def __init__(self, store: Store, item_groups: dict[str, str] | None = None) -> None:
        self.store: Store = store
        # The crowd's label -> item map: a participant's samples share its latent quality.
        self.item_groups: dict[str, str] = item_groups if item_groups is not None else {}
        # The vote target each session's current run was planned with.
        self._planned: dict[str, int] = {}

    async def runnable(self) -> list[str]:
        return await self.store.benchmarks.running_leaderboards()

    async def plan(self, session_id: str) -> RankingPlan | None:
        benchmarks = self.store.benchmarks
        board = await benchmarks.leaderboard(session_id, owner=ANY_OWNER)
        if board.state != "Running":
            return None
        prompts, _ = await benchmarks.prompts(board.benchmark_id, None, owner=ANY_OWNER)
        usable = {p.spec.identifier: p.spec for p in prompts if eligible(p.spec, board.spec)}
        samples = await benchmarks.benchmark_samples(board.benchmark_id)
        matchups = LeaderboardMatchups(board.id, board.spec, samples, usable)
        n = len(matchups.ids)
        if not any(matchups.common(i, j) for i in range(n) for j in range(i + 1, n)):
            # Nothing to compare yet: the run waits for the next submission.
            await benchmarks.set_target(board.id, board.target_votes, "Idle")
            return None
        self._planned[board.id] = board.target_votes
        for participant_id, labels in matchups.samples.items():
            for label in labels.values():
                self.item_groups[label] = f"participant:{participant_id}"
        return RankingPlan(
            session_id=board.id,
            owner=board.owner,
            audience_id=board.spec.audience_id,
            matchups=matchups,
            min_responses=board.spec.min_responses,
            budget=board.target_votes,
            # Every pair at once while there are few: the crowd answers them side by side.
            parallel=min(PARALLEL, n * (n - 1) // 2),
            matchmaker=matchups.matchmaker,
            seed=zlib.crc32(board.id.encode()),
        )

    async def should_stop(self, session_id: str) -> bool:
        return False

    async def finished(self, session_id: str, outcome: RankingOutcome) -> None:
        board = await self.store.benchmarks.leaderboard(session_id, owner=ANY_OWNER)
        planned = self._planned.pop(session_id, board.target_votes)
        if board.target_votes > planned:
            return  # a submission during the run raised the target: the next run goes on
        await self.store.benchmarks.set_target(board.id, board.target_votes, "Idle")

    async def failed(self, session_id: str, message: str) -> None:
        log.warning("leaderboard %s: run failed: %s", session_id, message)
        board = await self.store.benchmarks.leaderboard(session_id, owner=ANY_OWNER)
        await self.store.benchmarks.set_target(board.id, board.target_votes, "Idle")
