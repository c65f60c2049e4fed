"""How well the ranking engine recovers a known order, how honest its intervals are, how many
votes matchmaking saves, and how fast it fits.

Run ``python benchmarks/ranking.py [--seeds 50] [--leaderboards 200] [--match-seeds 200]
[--spread 200] [--only a|b|c|d]``; it prints:

(a) 20 items with latent quality ~ N(0, 200 rating points), 30 votes per item (300 votes,
    uniform random pairs): mean Spearman of the fitted order vs the truth over ``--seeds``
    seeds (target >= 0.9), with perfect labelers (votes exactly Bradley–Terry in the latent
    quality) and with the simulated crowd's skill mix (a labeler knows with probability
    ``skill`` ~ 0.57 on average, else flips a coin: the same votes carry far less
    information, so that line measures the data more than the estimator: BT, a stronger
    ridge and plain win rates all give ~0.77 there; the crowd needs ~90 votes/item for 0.9,
    printed too);
(b) coverage of the 95 % bootstrap intervals over ``--leaderboards`` such leaderboards
    (target 0.90-0.98), against what the intervals estimate: the Bradley–Terry ratings an
    infinite crowd would give on the same pairs (``estimand``); also against the latent
    quality itself when labelers are perfect (votes exactly Bradley–Terry);
(c) how many votes adaptive matchmaking (``next_pairs``) needs to reach the Spearman uniform
    random pairing (``uniform_pairs``) reaches with all 300 (target <= 60 % of uniform's):
    both run on the same ``--match-seeds`` worlds (perfect labelers, quality sd ``--spread``)
    in matchups of 3 votes, 5 matchups per call; the mean Spearman over seeds is taken after
    every call (a curve over votes; a run stopped there is the run with that budget), and the
    adaptive curve's first crossing of uniform's final value, interpolated, is the answer.
    Also the time of one ``next_pairs`` call at 20 and at 100 items. The saving depends on
    the spread: random pairs lose information only on lopsided pairs (at sd 200 a random
    pair carries ~68 % of a 50/50 pair's Fisher information, at sd 100 ~87 %), so even a
    design that knows the true qualities needs about 80 % of uniform's votes at sd 200
    (expected discordant pairs, Gaussian approximation); the 60 % target is met at sd 400;
(d) wall time of ``standings`` on 100 models x 100,000 battles with 200 bootstrap rounds
    (target <= 2 s; best of 3).

Pure computation; about a minute on a quiet machine. OpenBLAS is pinned to one thread: the
backend fits in a worker thread, and many small LAPACK calls only lose time to thread hand-off.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import sys
import time
from pathlib import Path

import numpy as np

# `python benchmarks/ranking.py` from a checkout: make the package importable uninstalled.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rapidata_async.local.domain.matchmaking import (
    Matchmaker,
    MatchState,
    next_pairs,
    uniform_pairs,
)
from rapidata_async.local.domain.ranking import (
    FloatArray,
    PairCounts,
    fit_bradley_terry,
    standings,
)
from rapidata_async.local.domain.ranking_sim import (
    PairOracle,
    bt_oracle,
    crowd_skills,
    estimand,
    latent_quality,
    random_pairs,
    spearman,
    vote,
)

ITEMS = 20
VOTES_PER_ITEM = 30
VOTES = ITEMS * VOTES_PER_ITEM // 2  # each vote involves two items
MATCHUP = 3  # votes per matchup, the smallest minResponses a leaderboard accepts
ROUND = 5  # matchups handed out per matchmaking call
PERFECT = True  # headline labelers for (a) and (c); (a) and (b) also print the crowd's
SPREAD = 200.0  # sd of the latent quality, rating points


def world(
    seed: int, perfect: bool = PERFECT, spread: float = SPREAD
) -> tuple[np.ndarray, PairOracle]:
    rng = np.random.default_rng([seed, 1])
    quality = latent_quality(ITEMS, rng, spread)
    skills = None if perfect else crowd_skills(500, rng)
    return quality, bt_oracle(quality, skills)


def uniform_votes(oracle: PairOracle, votes: int, rng: np.random.Generator) -> PairCounts:
    first, second = random_pairs(ITEMS, votes, rng)
    return PairCounts.from_battles(ITEMS, first, second, vote(oracle, first, second, rng))


def recovery(seeds: int, perfect: bool, votes: int = VOTES) -> float:
    """(a) mean Spearman with uniform random pairs."""
    rhos = []
    for seed in range(seeds):
        quality, oracle = world(seed, perfect)
        counts = uniform_votes(oracle, votes, np.random.default_rng([seed, 2]))
        rhos.append(spearman(fit_bradley_terry(counts), quality))
    return float(np.mean(rhos))


def coverage(boards: int, perfect: bool) -> tuple[float, float]:
    """(b) share of items whose 95 % interval holds the truth; mean interval width."""
    hits = widths = total = 0.0
    for seed in range(boards):
        quality, oracle = world(1000 + seed, perfect)
        rng = np.random.default_rng([seed, 3])
        counts = uniform_votes(oracle, VOTES, rng)
        truth = quality if perfect else estimand(counts, oracle)
        rows = standings(counts, rng=rng, center=0.0)
        for r in rows:
            t = truth[int(r.id)] - truth.mean()
            hits += r.ci_low <= t <= r.ci_high
            widths += r.ci_high - r.ci_low
            total += 1
    return hits / total, widths / total


def matchmaking_curve(
    strategy: Matchmaker, seeds: int, spread: float
) -> tuple[FloatArray, FloatArray, float]:
    """Mean Spearman after each batch of matchups over ``seeds`` runs to VOTES votes.

    Every matchup collects MATCHUP votes and every call hands out ROUND matchups, so the
    curve has a point every MATCHUP * ROUND votes; a run stopped there is exactly the run
    with that budget (neither strategy plans ahead of its budget). Worlds and vote streams
    are the same for both strategies (common random numbers). Also returns the mean time
    of one matchmaking call.
    """
    step = MATCHUP * ROUND
    marks = np.arange(step, VOTES + 1, step)
    rhos = np.zeros((seeds, marks.size))
    spent = calls = 0.0
    for seed in range(seeds):
        quality, oracle = world(2000 + seed, spread=spread)
        rng = np.random.default_rng([seed, 4])
        counts = PairCounts.empty(ITEMS)
        for col in range(marks.size):
            state = MatchState(counts, min_responses=MATCHUP, budget=VOTES)
            start = time.perf_counter()
            pairs = strategy(state, ROUND, rng)
            spent, calls = spent + time.perf_counter() - start, calls + 1
            first = np.repeat(np.array([p[0] for p in pairs]), MATCHUP)
            second = np.repeat(np.array([p[1] for p in pairs]), MATCHUP)
            new = PairCounts.from_battles(ITEMS, first, second, vote(oracle, first, second, rng))
            counts = counts.merged(new)
            rhos[seed, col] = spearman(fit_bradley_terry(counts), quality)
    return marks.astype(np.float64), rhos.mean(axis=0), spent / calls


def votes_to_reach(marks: FloatArray, curve: FloatArray, target: float) -> float | None:
    """Votes at which a mean-Spearman curve first reaches ``target`` (linear in between)."""
    if curve[-1] < target:
        return None
    k = int(np.argmax(curve >= target))
    if k == 0:
        return float(marks[0])
    v0, v1, r0, r1 = marks[k - 1], marks[k], curve[k - 1], curve[k]
    return float(v0 + (v1 - v0) * (target - r0) / (r1 - r0))


def call_time(n: int, votes: int) -> float:
    """Median wall time of one ``next_pairs`` call (5 matchups) on ``n`` items, ``votes`` votes."""
    rng = np.random.default_rng(11)
    oracle = bt_oracle(latent_quality(n, rng))
    first, second = random_pairs(n, votes, rng)
    counts = PairCounts.from_battles(n, first, second, vote(oracle, first, second, rng))
    state = MatchState(counts, min_responses=MATCHUP)
    times = []
    for _ in range(21):
        start = time.perf_counter()
        next_pairs(state, ROUND, rng)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def speed() -> float:
    """(d) best of three wall times for 100 models x 100,000 battles, 200 rounds."""
    rng = np.random.default_rng(7)
    quality = latent_quality(100, rng)
    oracle = bt_oracle(quality, crowd_skills(500, rng))
    first, second = random_pairs(100, 100_000, rng)
    counts = PairCounts.from_battles(100, first, second, vote(oracle, first, second, rng))
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        standings(counts, rounds=200, rng=rng)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--leaderboards", type=int, default=200)
    parser.add_argument("--match-seeds", type=int, default=200, help="seeds for (c)")
    parser.add_argument("--spread", type=float, default=SPREAD, help="quality sd for (c)")
    parser.add_argument("--only", choices=["a", "b", "c", "d"], default=None)
    args = parser.parse_args()
    run = lambda part: args.only in (None, part)  # noqa: E731

    if run("a"):
        for perfect in (True, False):
            rho = recovery(args.seeds, perfect)
            verdict = "ok" if rho >= 0.9 else "MISSED"
            label = "perfect labelers" if perfect else "crowd labelers"
            print(
                f"(a) Spearman, {ITEMS} items x {VOTES_PER_ITEM} votes/item, {args.seeds} seeds, "
                f"{label}: {rho:.3f}  (target >= 0.90: {verdict})"
            )
        more = [(v, recovery(args.seeds, False, ITEMS * v // 2)) for v in (60, 90, 120)]
        shown = ", ".join(f"{v}: {r:.3f}" for v, r in more)
        print(f"    crowd labelers, Spearman at more votes/item: {shown}")
    if run("b"):
        for perfect in (False, True):
            cov, width = coverage(args.leaderboards, perfect)
            verdict = "ok" if 0.90 <= cov <= 0.98 else "MISSED"
            label = "latent quality, perfect labelers" if perfect else "estimand, crowd labelers"
            print(
                f"(b) 95% interval coverage over {args.leaderboards} leaderboards ({label}): "
                f"{cov:.3f}, mean width {width:.0f} points  (target 0.90-0.98: {verdict})"
            )
    if run("c"):
        marks, uniform, _ = matchmaking_curve(uniform_pairs, args.match_seeds, args.spread)
        _, adaptive, per_call = matchmaking_curve(next_pairs, args.match_seeds, args.spread)
        target = float(uniform[-1])
        shown = [k for k, v in enumerate(marks) if v in (90, 120, 150, 180, 210, 240, 300)]
        points = ", ".join(f"{marks[k]:.0f}: {uniform[k]:.3f}/{adaptive[k]:.3f}" for k in shown)
        print(
            f"(c) {ITEMS} items, quality sd {args.spread:.0f} points, perfect labelers, "
            f"{args.match_seeds} seeds; mean Spearman uniform/adaptive at votes {points}"
        )
        needed = votes_to_reach(marks, adaptive, target)
        if needed is None:
            print(f"    adaptive stays below uniform's {target:.3f} up to {VOTES} votes  (MISSED)")
        else:
            share = needed / VOTES
            verdict = "ok" if share <= 0.6 else "MISSED"
            print(
                f"    adaptive reaches uniform's {VOTES}-vote Spearman {target:.3f} at "
                f"~{needed:.0f} votes = {share:.0%} of uniform's  (target <= 60%: {verdict})"
            )
        print(
            f"    next_pairs per call (5 matchups): {per_call * 1e3:.1f} ms at {ITEMS} items, "
            f"{call_time(100, 3000) * 1e3:.1f} ms at 100 items x 3,000 votes (median)"
        )
    if run("d"):
        seconds = speed()
        verdict = "ok" if seconds <= 2.0 else "MISSED"
        print(
            f"(d) 100 models x 100,000 battles, 200 bootstrap rounds: {seconds:.2f} s  "
            f"(target <= 2 s: {verdict})"
        )


if __name__ == "__main__":
    main()
