"""The ranking engine's statistics on simulated votes with a known truth (pure functions)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rapidata_async.local.domain.matchmaking import MatchState, next_pairs, uniform_pairs
from rapidata_async.local.domain.ranking import (
    PairCounts,
    fit_bradley_terry,
    standings,
    to_elo,
)
from rapidata_async.local.domain.ranking_sim import (
    bt_oracle,
    crowd_skills,
    estimand,
    latent_quality,
    random_pairs,
    spearman,
    vote,
)


def simulated(n: int, votes: int, seed: int, spread: float = 200.0, crowd: bool = False):
    rng = np.random.default_rng(seed)
    quality = latent_quality(n, rng, spread)
    oracle = bt_oracle(quality, crowd_skills(200, rng) if crowd else None)
    first, second = random_pairs(n, votes, rng)
    counts = PairCounts.from_battles(n, first, second, vote(oracle, first, second, rng))
    return quality, oracle, counts, rng


def test_fit_recovers_known_order_and_scale() -> None:
    rng = np.random.default_rng(1)
    quality = np.linspace(-300.0, 300.0, 10)[rng.permutation(10)]
    oracle = bt_oracle(quality)
    first, second = random_pairs(10, 4000, rng)
    counts = PairCounts.from_battles(10, first, second, vote(oracle, first, second, rng))
    theta = fit_bradley_terry(counts)
    assert spearman(theta, quality) > 0.95
    assert abs(theta.sum()) < 1e-9
    # Perfect labelers vote exactly Bradley–Terry, so the fitted ratings match the truth.
    ratings = to_elo(theta, center=0.0)
    assert np.max(np.abs(ratings - quality)) < 60.0


def test_two_items_fit_matches_closed_form() -> None:
    counts = PairCounts.from_battles(2, [0] * 30 + [1] * 10, [1] * 30 + [0] * 10, [1.0] * 40)
    theta = fit_bradley_terry(counts, prior=1e-9)
    # 30 wins to 10: odds 3, split symmetrically around the mean.
    assert theta[0] - theta[1] == pytest.approx(math.log(3.0), abs=1e-6)
    table = standings(counts, ids=["a", "b"], rounds=0, center=1200.0)
    assert [r.id for r in table] == ["a", "b"]
    assert table[0].score + table[1].score == pytest.approx(2400.0)
    assert table[0].score - table[1].score == pytest.approx(400 * math.log10(3.0), abs=0.5)
    assert (table[0].wins, table[0].losses, table[0].battles) == (30.0, 10.0, 40)


def test_ties_count_half_and_matrix_round_trips() -> None:
    counts = PairCounts.from_battles(3, [0, 1, 2, 0], [1, 0, 0, 2], [0.5, 1.0, 0.0, 1.0])
    w = counts.matrix()
    assert w[0, 1] == 0.5 and w[1, 0] == 1.5
    assert w[0, 2] == 2.0 and w[2, 0] == 0.0
    again = PairCounts.from_matrix(w)
    assert np.allclose(again.matrix(), w)
    assert np.allclose(fit_bradley_terry(again), fit_bradley_terry(counts))
    battles, wins, losses = counts.per_item()
    assert battles.tolist() == [4.0, 2.0, 2.0]
    assert wins.tolist() == [2.5, 1.5, 0.0]
    assert (wins + losses).tolist() == battles.tolist()


def test_intervals_cover_the_truth_at_about_the_nominal_rate() -> None:
    hits = total = 0
    for seed in range(12):
        _, oracle, counts, rng = simulated(12, 240, seed=100 + seed, crowd=True)
        truth = estimand(counts, oracle)
        for r in standings(counts, rng=rng, rounds=100, center=0.0):
            hits += r.ci_low <= truth[int(r.id)] - truth.mean() <= r.ci_high
            total += 1
            assert r.ci_low <= r.score <= r.ci_high
            assert r.rank_low <= r.rank <= r.rank_high
    assert 0.85 <= hits / total <= 0.995


def test_bootstrap_is_reproducible_and_narrows_with_data() -> None:
    _, _, small, _ = simulated(8, 200, seed=5)
    _, _, large, _ = simulated(8, 5000, seed=5)

    def width(c: PairCounts) -> float:
        rows = standings(c, rng=np.random.default_rng(0), rounds=100)
        return float(np.mean([r.ci_high - r.ci_low for r in rows]))

    a = standings(small, rng=np.random.default_rng(3), rounds=50)
    b = standings(small, rng=np.random.default_rng(3), rounds=50)
    assert a == b
    assert width(large) < 0.5 * width(small)


def test_rank_ranges_follow_interval_overlap() -> None:
    # A clear top item, two indistinguishable in the middle, a clear bottom one.
    first = [0] * 60 + [1] * 30 + [1] * 60 + [2] * 60 + [0] * 60
    second = [1] * 60 + [2] * 30 + [3] * 60 + [3] * 60 + [3] * 60
    outcome = [1.0] * 60 + [1.0] * 15 + [0.0] * 15 + [1.0] * 180
    counts = PairCounts.from_battles(4, first, second, outcome)
    rows = {r.id: r for r in standings(counts, rng=np.random.default_rng(1))}
    assert (rows["0"].rank, rows["0"].rank_low, rows["0"].rank_high) == (1, 1, 1)
    assert rows["1"].rank_low == 2 and rows["1"].rank_high == 3
    assert rows["2"].rank_low == 2 and rows["2"].rank_high == 3
    assert (rows["3"].rank_low, rows["3"].rank_high) == (4, 4)


def test_inverse_ranks_the_loser_first() -> None:
    counts = PairCounts.from_battles(2, [0] * 9, [1] * 9, [1.0] * 9)
    assert standings(counts, ids=["a", "b"], rounds=0, inverse=True)[0].id == "b"


def test_degenerate_inputs_give_finite_sane_output() -> None:
    one = standings(PairCounts.empty(1), ids=["solo"])
    assert len(one) == 1
    assert one[0].score == 1000.0 and one[0].rank == one[0].rank_low == one[0].rank_high == 1
    assert one[0].battles == 0

    none = standings(PairCounts.empty(3), rng=np.random.default_rng(0))
    assert all(r.score == 1000.0 and r.ci_low == r.ci_high == 1000.0 for r in none)
    assert all(r.rank_low == 1 and r.rank_high == 3 for r in none)

    # Item 0 wins everything: finite, on top, others untouched by infinities.
    counts = PairCounts.from_battles(3, [0] * 20 + [1] * 5, [1] * 10 + [2] * 15, [1.0] * 25)
    rows = standings(counts, rng=np.random.default_rng(0))
    assert rows[0].id == "0"
    for r in rows:
        assert all(math.isfinite(x) for x in (r.score, r.ci_low, r.ci_high))
    assert rows[0].score < 1000.0 + 2000.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: PairCounts.from_battles(0, [], [], []), "at least one item"),
        (lambda: PairCounts.from_battles(2, [0], [2], [1.0]), "indices"),
        (lambda: PairCounts.from_battles(2, [1], [1], [1.0]), "itself"),
        (lambda: PairCounts.from_battles(2, [0], [1], [0.7]), "outcome"),
        (lambda: PairCounts.from_battles(2, [0, 1], [1], [1.0]), "same length"),
        (lambda: PairCounts.from_matrix([[0, 1]]), "square"),
        (lambda: PairCounts.from_matrix([[0, -1], [1, 0]]), "non-negative"),
        (lambda: PairCounts.from_matrix([[1, 0], [1, 0]]), "diagonal"),
        (lambda: fit_bradley_terry(PairCounts.empty(2), prior=0.0), "prior"),
        (lambda: standings(PairCounts.empty(2), ids=["a"]), "ids"),
        (lambda: standings(PairCounts.empty(2), confidence=1.0), "confidence"),
        (lambda: standings(PairCounts.empty(2), rounds=-1), "rounds"),
        (lambda: MatchState(PairCounts.empty(2), min_responses=0), "min_responses"),
        (lambda: MatchState(PairCounts.empty(2), budget=-1), "budget"),
        (lambda: MatchState(PairCounts.empty(2), min_responses=3, max_per_pair=2), "max_per"),
        (lambda: bt_oracle([0.0, 1.0], [1.5]), "skills"),
    ],
)
def test_bad_input_raises_clear_value_errors(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("strategy", [next_pairs, uniform_pairs])
def test_matchmaking_respects_budget_and_min_responses(strategy) -> None:
    rng = np.random.default_rng(4)
    quality = latent_quality(8, rng)
    oracle = bt_oracle(quality)
    counts = PairCounts.empty(8)
    in_flight_seen = False
    while True:
        state = MatchState(counts, min_responses=3, budget=100, max_per_pair=9)
        pairs = strategy(state, 4, rng)
        if not pairs:
            break
        assert len(pairs) <= 4
        assert len(set(pairs)) == len(pairs)
        assert all(0 <= a < 8 and 0 <= b < 8 and a != b for a, b in pairs)
        # Votes promised to open matchups count against the budget too.
        if not in_flight_seen and counts.total >= 48:
            in_flight_seen = True
            busy = MatchState(counts, min_responses=3, budget=100, in_flight=100)
            assert strategy(busy, 4, rng) == []
        first = np.repeat([a for a, _ in pairs], 3)
        second = np.repeat([b for _, b in pairs], 3)
        new = PairCounts.from_battles(8, first, second, vote(oracle, first, second, rng))
        counts = counts.merged(new)
    # Whole matchups only: 33 matchups of 3 votes fit in 100, the last vote is left over.
    assert counts.total == 99
    assert counts.cells.sum(axis=1).max() <= 9
    assert in_flight_seen
    assert strategy(MatchState(counts, min_responses=3, budget=101), 4, rng) == []


def test_adaptive_matchmaking_prefers_uncertain_close_pairs() -> None:
    # 0 and 1 are close and barely measured; 2 is far below both and well measured.
    first, second = [0] * 2 + [0] * 40 + [1] * 40, [1] * 2 + [2] * 40 + [2] * 40
    outcome = [1.0, 0.0] + [1.0] * 80
    three = PairCounts.from_battles(3, first, second, outcome)
    assert next_pairs(MatchState(three, min_responses=3), 1, np.random.default_rng(0)) == [(0, 1)]
    # A newcomer that has never played is worth more than anything else.
    four = PairCounts.from_battles(4, first, second, outcome)
    pick = next_pairs(MatchState(four, min_responses=3), 1, np.random.default_rng(0))
    assert len(pick) == 1 and 3 in pick[0]


def test_spearman_handles_ties_and_constants() -> None:
    assert spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 1, 1], [1, 2, 3]) == 0.0
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486833)


def test_adaptive_matchmaking_is_deterministic_given_the_rng() -> None:
    _, _, counts, _ = simulated(10, 60, seed=8)
    state = MatchState(counts, min_responses=3, budget=300)
    runs = [next_pairs(state, 4, np.random.default_rng(42)) for _ in range(2)]
    assert runs[0] == runs[1]
    assert len(runs[0]) == 4
    # From no votes at all every pair is alike: the rng alone breaks the ties.
    empty = MatchState(PairCounts.empty(10), min_responses=3)
    firsts = {tuple(next_pairs(empty, 1, np.random.default_rng(s))) for s in range(6)}
    assert len(firsts) > 1


def test_adaptive_matchmaking_explores_items_with_few_matches() -> None:
    # A batch as large as half the items covers every item once before any plays twice.
    batch = next_pairs(MatchState(PairCounts.empty(10)), 5, np.random.default_rng(0))
    assert sorted(x for pair in batch for x in pair) == list(range(10))
    # Two newcomers beside six well-measured items are both in the next two matchups.
    rng = np.random.default_rng(2)
    oracle = bt_oracle(latent_quality(6, rng))
    first, second = random_pairs(6, 600, rng)
    played = PairCounts.from_battles(8, first, second, vote(oracle, first, second, rng))
    picks = next_pairs(MatchState(played, min_responses=3), 2, np.random.default_rng(0))
    assert {6, 7} <= {x for pair in picks for x in pair}


def test_adaptive_matchmaking_respects_max_per_pair_and_whole_matchups() -> None:
    # Pair (0, 1) has 6 votes: with max_per_pair 8 another matchup of 3 would overshoot.
    counts = PairCounts.from_battles(3, [0] * 6 + [1] * 2, [1] * 6 + [2] * 2, [1.0] * 8)
    state = MatchState(counts, min_responses=3, max_per_pair=8)
    picks = next_pairs(state, 3, np.random.default_rng(0))
    assert (0, 1) not in picks and sorted(picks) == [(0, 2), (1, 2)]
    # Budget 14 with 8 spent pays for two whole matchups of 3, not a third one.
    rng = np.random.default_rng(0)
    assert len(next_pairs(MatchState(counts, min_responses=3, budget=14), 5, rng)) == 2
    assert next_pairs(MatchState(counts, min_responses=3, budget=10), 5, rng) == []
    with pytest.raises(ValueError, match="k must be"):
        next_pairs(state, -1, np.random.default_rng(0))


def test_adaptive_matchmaking_recovers_the_order_with_fewer_votes() -> None:
    def rho(strategy, seed: int, budget: int) -> float:
        rng = np.random.default_rng(seed)
        quality = latent_quality(12, rng)
        oracle = bt_oracle(quality)
        counts = PairCounts.empty(12)
        while pairs := strategy(MatchState(counts, min_responses=3, budget=budget), 4, rng):
            first = np.repeat([a for a, _ in pairs], 3)
            second = np.repeat([b for _, b in pairs], 3)
            new = PairCounts.from_battles(12, first, second, vote(oracle, first, second, rng))
            counts = counts.merged(new)
        assert counts.total == budget
        return spearman(fit_bradley_terry(counts), quality)

    seeds = range(12)
    adaptive = np.mean([rho(next_pairs, s, 120) for s in seeds])
    uniform = np.mean([rho(uniform_pairs, s, 120) for s in seeds])
    assert adaptive > uniform
