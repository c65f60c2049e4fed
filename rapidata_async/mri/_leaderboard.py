"""``RapidataLeaderboard``: one instruction over a benchmark's models, and its standings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from .. import _validate as check
from .._context import poll
from .._links import show_link
from .._wire import mri as wire
from . import _checks as checks
from ._types import VoteAggregation

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

    from .._context import ClientContext
    from ..audience import AgeGroup, Gender

SETTLE_POLLS = 2
"""Polls without a new vote, past the budget, after which live standings end."""
_PANDAS_HINT = "pip install 'rapidata-async[pandas]'"
_COLUMNS = (
    "name",
    "wins",
    "total_matches",
    "score",
    "ci_low",
    "ci_high",
    "rank_low",
    "rank_high",
    "battles",
)


class Standing(msgspec.Struct, frozen=True, kw_only=True):
    """One model's place on a leaderboard."""

    id: str
    """The participant id."""
    name: str
    """The model's name."""
    wins: float
    """Matchups won (fractional with ``AllVotes`` aggregation)."""
    total_matches: float
    """Matchups decided."""
    score: float | None
    """Bradley-Terry score; None before any matchup was decided."""
    ci_low: float | None = None
    """Lower end of the score's 95% interval (None when the server gives none)."""
    ci_high: float | None = None
    """Upper end of the score's 95% interval."""
    rank_low: int | None = None
    """Best rank within the interval (1 is first)."""
    rank_high: int | None = None
    """Worst rank within the interval."""
    battles: int | None = None
    """Votes behind the score (None when the server does not say)."""
    status: wire.StandingStatus = "Created"
    """``Created`` (no run yet), ``Active`` (being compared) or ``Idle``."""


def _standing(item: wire.StandingItem) -> Standing:
    ci_low, ci_high = item.ci_low, item.ci_high
    if ci_low is None and item.confidence_interval is not None and item.score is not None:
        ci_low = item.score - item.confidence_interval.lower_offset
        ci_high = item.score + item.confidence_interval.upper_offset
    return Standing(
        id=item.id,
        name=item.name,
        wins=item.wins,
        total_matches=item.total_matches,
        score=item.score,
        ci_low=ci_low,
        ci_high=ci_high,
        rank_low=item.rank_low,
        rank_high=item.rank_high,
        battles=item.battles,
        status=item.status,
    )


class Standings:
    """A leaderboard's standings at one moment, best first as the server ranks them.

    Iterate over it for ``Standing`` items, or take a frame: ``to_polars()``, ``to_pandas()``
    (columns ``name``, ``wins``, ``total_matches``, ``score``, ``ci_low``, ``ci_high``,
    ``rank_low``, ``rank_high``, ``battles``), ``to_json()``.
    """

    def __init__(self, items: Sequence[Standing], total_responses: int) -> None:
        self.items: tuple[Standing, ...] = tuple(items)
        """The models in the server's order: best first (by score; lowest score first on an
        ``inverse_ranking`` leaderboard)."""
        self.total_responses: int = total_responses
        """Votes behind these standings (under the filters asked for)."""

    def __repr__(self) -> str:
        return f"Standings({len(self.items)} models, {self.total_responses} responses)"

    def __iter__(self) -> Iterator[Standing]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Standing:
        return self.items[index]

    def to_polars(self) -> pl.DataFrame:
        """One row per model, in ``items`` order: ``name`` (String), ``wins``, ``total_matches``,
        ``score``, ``ci_low``, ``ci_high`` (Float64), ``rank_low``, ``rank_high``,
        ``battles`` (Int64)."""
        import polars as pl

        schema = {
            "name": pl.String,
            "wins": pl.Float64,
            "total_matches": pl.Float64,
            "score": pl.Float64,
            "ci_low": pl.Float64,
            "ci_high": pl.Float64,
            "rank_low": pl.Int64,
            "rank_high": pl.Int64,
            "battles": pl.Int64,
        }
        rows = [{c: getattr(s, c) for c in _COLUMNS} for s in self.items]
        return pl.DataFrame(rows, schema=schema, orient="row")

    def to_pandas(self) -> pd.DataFrame:
        """``to_polars()`` converted to pandas (needs the ``pandas`` extra)."""
        try:
            import pandas  # noqa: F401
            import pyarrow  # noqa: F401
        except ImportError as exc:
            raise ImportError(f"to_pandas() needs pandas and pyarrow: {_PANDAS_HINT}") from exc
        return self.to_polars().to_pandas()

    def to_json(self) -> str:
        """``{"total_responses": n, "standings": [{name, wins, …, battles}, …]}`` as text."""
        body = {
            "total_responses": self.total_responses,
            "standings": [{c: getattr(s, c) for c in _COLUMNS} for s in self.items],
        }
        return msgspec.json.encode(body).decode()


def _in(name: str, values: list[str] | None) -> list[tuple[str, str]]:
    return [(f"{name}[in]", v) for v in values or ()]


class RapidataLeaderboard:
    """A leaderboard of a benchmark: its models compared under one instruction.

    Made by ``benchmark.create_leaderboard(...)`` or listed by ``benchmark.leaderboards()``.
    """

    def __init__(
        self,
        ctx: ClientContext,
        *,
        id: str,
        name: str,
        benchmark_id: str,
        instruction: str,
        show_prompt: bool,
        show_prompt_asset: bool,
        inverse_ranking: bool,
        response_budget: int,
        min_responses_per_matchup: int,
        included_tags: list[str] | None = None,
        excluded_tags: list[str] | None = None,
        vote_aggregation: VoteAggregation = VoteAggregation.MAJORITY_VOTE,
    ) -> None:
        self._ctx = ctx
        self.id: str = id
        """The leaderboard id."""
        self.name: str = name
        """Its name."""
        self.benchmark_id: str = benchmark_id
        """The benchmark it ranks."""
        self.instruction: str = instruction
        """What labelers are asked for each matchup."""
        self.show_prompt: bool = show_prompt
        """Whether the prompt text is shown with each matchup."""
        self.show_prompt_asset: bool = show_prompt_asset
        """Whether the prompt asset is shown with each matchup."""
        self.inverse_ranking: bool = inverse_ranking
        """Whether the worse output is asked for (the ranking is inverted)."""
        self.response_budget: int = response_budget
        """Responses collected per run."""
        self.min_responses_per_matchup: int = min_responses_per_matchup
        """Responses collected per matchup at least."""
        self.included_tags: list[str] | None = included_tags
        """Only prompts with one of these tags are compared (None: all)."""
        self.excluded_tags: list[str] | None = excluded_tags
        """Prompts with one of these tags are left out."""
        self.vote_aggregation: VoteAggregation = vote_aggregation
        """How votes on a matchup count."""

    def __repr__(self) -> str:
        return f"RapidataLeaderboard(id={self.id!r}, name={self.name!r})"

    @classmethod
    def _from_wire(
        cls, ctx: ClientContext, out: wire.LeaderboardOutput, benchmark_id: str
    ) -> RapidataLeaderboard:
        return cls(
            ctx,
            id=out.id,
            name=out.name,
            benchmark_id=benchmark_id,
            instruction=out.instruction,
            show_prompt=out.show_prompt,
            show_prompt_asset=out.show_prompt_asset,
            inverse_ranking=out.is_inversed,
            response_budget=out.response_budget,
            min_responses_per_matchup=out.min_responses,
            included_tags=out.included_tags or None,
            excluded_tags=out.excluded_tags or None,
        )

    @property
    def url(self) -> str:
        """``{app_url}/mri/benchmarks/{benchmark_id}/leaderboard/{id}``; no API call."""
        return self._ctx.app_link(f"mri/benchmarks/{self.benchmark_id}/leaderboard/{self.id}")

    async def view(self, *, open_browser: bool = False) -> str:
        """The dashboard page of this leaderboard; no API call. Prints and returns the URL."""
        return await show_link("Leaderboard in dashboard", self.url, open_browser=open_browser)

    async def get_standings(
        self,
        tags: list[str] | None = None,
        country: list[str] | None = None,
        language: list[str] | None = None,
        gender: list[Gender | str] | None = None,
        age_bucket: list[AgeGroup | str] | None = None,
        occupation: list[str] | None = None,
        run_id: str | None = None,
    ) -> Standings:
        """The standings: ``GET /leaderboard/{id}/standings/query``.

        Each filter given is sent as repeated ``<name>[in]=value`` parameters (``tags[in]``,
        ``country[in]``, ``language[in]``, ``gender[in]``, ``age_bucket[in]``,
        ``occupation[in]``): only matchups of prompts with one of ``tags``, only votes of
        labelers matching the demographics. ``gender``/``age_bucket`` take the ``Gender`` /
        ``AgeGroup`` members or their values; ``run_id`` (``run_id[in]``) one run's votes.
        """
        params = self._filters(tags, country, language, gender, age_bucket, occupation)
        if run_id is not None:
            params += _in("run_id", [check.resource_id(run_id, "run_id")])
        return await self._standings(params)

    def _filters(
        self,
        tags: Any,
        country: Any,
        language: Any,
        gender: Any,
        age_bucket: Any,
        occupation: Any,
    ) -> list[tuple[str, str]]:
        given = {
            "tags": tags,
            "country": country,
            "language": language,
            "gender": gender,
            "age_bucket": age_bucket,
            "occupation": occupation,
        }
        params: list[tuple[str, str]] = []
        for name, value in given.items():
            params += _in(name, checks.filter_values(value, name))
        return params

    async def _standings(self, params: list[tuple[str, str]]) -> Standings:
        out = await self._ctx.transport.request(
            "GET",
            f"/leaderboard/{self.id}/standings/query",
            op_id="leaderboard_leaderboard_id_standings_query_get",
            params=params,
            response_type=wire.StandingsOutput,
        )
        return Standings([_standing(i) for i in out.items], out.total_responses)

    async def live_standings(
        self,
        interval: float = 5.0,
        timeout: float | None = None,
        *,
        tags: list[str] | None = None,
    ) -> AsyncIterator[Standings]:
        """Standings while the votes come in: ``async for standings in lb.live_standings()``.

        Polls ``GET /leaderboard/{id}/standings/query`` every ``interval`` seconds and yields
        a snapshot whenever the vote count (``totalResponses``) changed, the first one at
        once. Ends once the run's ``response_budget`` is spent (to within one matchup of
        ``min_responses_per_matchup``) and two more polls brought no new vote, or every
        model is ``Idle`` with votes in. Past ``timeout`` seconds raises
        ``WaitTimeoutError``. Transient failures are polled through.
        """
        if isinstance(interval, bool) or not isinstance(interval, (int, float)) or interval <= 0:
            raise ValueError(f"interval: must be a positive number of seconds, got {interval!r}")
        params = self._filters(tags, None, None, None, None, None)
        last: int | None = None
        still = 0  # polls in a row without a new vote
        async for standings in poll(
            self._ctx,
            lambda: self._standings(params),
            timeout=timeout,
            describe=lambda: f"leaderboard {self.id} finishing its run",
            first=interval,
            cap=interval,
        ):
            if standings.total_responses != last:
                last, still = standings.total_responses, 0
                yield standings
            else:
                still += 1
            if self._finished(standings, still):
                return

    def _finished(self, standings: Standings, still: int) -> bool:
        """The budget is spent (to within one matchup) and no vote came for two polls (a
        later submission grows the
        run by another budget, so reaching one budget alone does not end it), or every
        model is ``Idle``."""
        # A run stops short of its budget when the next matchup (min responses) no longer
        # fits, so "spent" is: within one matchup of the budget.
        spent = self.response_budget - self.min_responses_per_matchup + 1
        if standings.total_responses >= spent and still >= SETTLE_POLLS:
            return True
        return (
            standings.total_responses > 0
            and len(standings) > 0
            and all(s.status == "Idle" for s in standings)
        )
