"""How well the ranking engine recovers a known order, how honest its intervals are, how many
votes matchmaking saves, and how fast it fits.

Run ``python benchmarks/ranking.py [--seeds 50] [--leaderboards 200]``; it prints:

(a) 20 items with latent quality ~ N(0, 200 rating points), 30 votes per item (300 votes,
    uniform random pairs): mean Spearman of the fitted order vs the truth over ``--seeds``
    seeds (target >= 0.9), with perfect labelers (votes exactly Bradley–Terry in the latent
    quality) and with the simulated crowd's skill mix (a labeler knows with probability
    ``skill`` ~ 0.57 on average, else flips a coin: the same votes carry far less
    information, so that line measures the data more than the estimator);
(b) coverage of the 95 % bootstrap intervals over ``--leaderboards`` such leaderboards
    (target 0.90-0.98), against what the intervals estimate: the Bradley–Terry ratings an
    infinite crowd would give on the same pairs (``estimand``); also against the latent
    quality itself when labelers are perfect (votes exactly Bradley–Terry);
(c) votes that adaptive matchmaking (``next_pairs``) needs to reach the Spearman uniform random
    pairing (``uniform_pairs``) reaches with 300 votes, perfect labelers, matchups of 3 votes,
    5 matchups per call (target <= 60 % of uniform's);
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

from rapidata_async.local.domain.ranking import (
    Matchmaker,
    MatchState,
    PairCounts,
    fit_bradley_terry,
    next_pairs,
    standings,
    uniform_pairs,
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


def world(seed: int, perfect: bool = PERFECT) -> tuple[np.ndarray, PairOracle]:
    rng = np.random.default_rng([seed, 1])
    quality = latent_quality(ITEMS, rng)
    skills = None if perfect else crowd_skills(500, rng)
    return quality, bt_oracle(quality, skills)


def uniform_votes(oracle: PairOracle, votes: int, rng: np.random.Generator) -> PairCounts:
    first, second = random_pairs(ITEMS, votes, rng)
    return PairCounts.from_battles(ITEMS, first, second, vote(oracle, first, second, rng))


def recovery(seeds: int, perfect: bool) -> float:
    """(a) mean Spearman with uniform random pairs."""
    rhos = []
    for seed in range(seeds):
        quality, oracle = world(seed, perfect)
        counts = uniform_votes(oracle, VOTES, np.random.default_rng([seed, 2]))
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


def collect(
    oracle: PairOracle, strategy: Matchmaker, budget: int, rng: np.random.Generator
) -> PairCounts:
    """Run matchmaking until the budget is spent, every matchup collecting MATCHUP votes."""
    counts = PairCounts.empty(ITEMS)
    while True:
        state = MatchState(counts, min_responses=MATCHUP, budget=budget)
        pairs = strategy(state, ROUND, rng)
        if not pairs:
            return counts
        first = np.repeat(np.array([p[0] for p in pairs]), MATCHUP)
        second = np.repeat(np.array([p[1] for p in pairs]), MATCHUP)
        new = PairCounts.from_battles(ITEMS, first, second, vote(oracle, first, second, rng))
        counts = counts.merged(new)


def mean_rho(strategy: Matchmaker, budget: int, seeds: int) -> float:
    rhos = []
    for seed in range(seeds):
        quality, oracle = world(2000 + seed)
        counts = collect(oracle, strategy, budget, np.random.default_rng([seed, 4]))
        rhos.append(spearman(fit_bradley_terry(counts), quality))
    return float(np.mean(rhos))


def votes_needed(seeds: int) -> tuple[float, list[tuple[int, float]], float | None]:
    """(c) uniform's Spearman at VOTES, adaptive's curve, and the interpolated budget."""
    target = mean_rho(uniform_pairs, VOTES, seeds)
    curve = []
    for share in (0.3, 0.4, 0.5, 0.6, 0.8, 1.0):
        budget = round(VOTES * share / MATCHUP) * MATCHUP
        curve.append((budget, mean_rho(next_pairs, budget, seeds)))
        if curve[-1][1] >= target:
            break
    needed = None
    for (b0, r0), (b1, r1) in zip([(0, 0.0), *curve], curve, strict=False):
        if r1 >= target:
            needed = b1 if r1 == r0 else b0 + (b1 - b0) * (target - r0) / (r1 - r0)
            break
    return target, curve, needed


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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--leaderboards", type=int, default=200)
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
        target, curve, needed = votes_needed(args.seeds)
        points = ", ".join(f"{b} votes -> {r:.3f}" for b, r in curve)
        print(f"(c) uniform pairing, {VOTES} votes: Spearman {target:.3f}; adaptive: {points}")
        if needed is None:
            print("    adaptive did not reach uniform's Spearman within its budget  (MISSED)")
        else:
            share = needed / VOTES
            verdict = "ok" if share <= 0.6 else "MISSED"
            print(
                f"    adaptive needs ~{needed:.0f} votes = {share:.0%} of uniform's  "
                f"(target <= 60%: {verdict})"
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
