"""How many responses confidence stopping needs, and how good the winner is, in the simulated crowd.

Run ``python benchmarks/confidence.py [--seed 0] [--n 400]``; it prints three tables:

1. mean responses until one category reaches the threshold (maxVotes 50) on unambiguous
   datapoints (latent difficulty <= 0.1), for 2-5 categories, global and curated audience;
   in brackets how often the stopped winner is the true category;
2. the same at threshold 0.99 for two categories across difficulty levels;
3. with an oracle that fixes the truth: how often the majority-vote winner, the
   userScore-weighted winner (largest summed userScore, the results' ``winner``) and the most
   confident category are right, with 5 responses per datapoint on the global audience.

Pure computation over the crowd's population model (``rapidata_async.local.crowd.population``):
each datapoint's responses come from the pool in a seeded arrival order and pass through the
job's referee one at a time, as in the engine; takes a few seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

# `python benchmarks/confidence.py` from a checkout: make the package importable uninstalled.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rapidata_async.local.crowd.population import AudienceSpec, Crowd, Qualification, TaskSpec
from rapidata_async.local.domain.confidence import confidence_per_category
from rapidata_async.local.domain.referee import RefereeRule

THRESHOLDS = (0.9, 0.99, 0.999)
CATEGORY_COUNTS = (2, 3, 4, 5)
MAX_VOTES = 50
BUCKETS = ((0.0, 0.1), (0.1, 0.3), (0.3, 0.5), (0.5, 0.7), (0.7, 1.0))


def tasks_in(
    crowd: Crowd, prefix: str, options: list[str], low: float, high: float, n: int
) -> Iterator[TaskSpec]:
    """``n`` datapoints whose latent difficulty lies in ``[low, high)``."""
    found = i = 0
    while found < n:
        task = TaskSpec(f"{prefix}-{i}", "classify", options)
        i += 1
        if low <= crowd.difficulty(task) < high:
            found += 1
            yield task


def collect(
    crowd: Crowd, task: TaskSpec, qual: Qualification, *, max_votes: int, threshold: float | None
) -> list[tuple[str, float]]:
    """``(answer, user_score)`` of the responses the referee takes, one at a time."""
    if threshold is None:
        rule = RefereeRule("naive", max_votes)
    else:
        rule = RefereeRule("early_stopping", max_votes, threshold)
    prepared = crowd.prepare(task)
    tally = rule.tally(task.options)
    out = []
    for labeler_id in crowd.in_order(qual, task.key):
        answer, _ = crowd.answer(prepared, labeler_id)
        score = qual.user_scores[labeler_id]
        out.append((answer, score))
        if tally.add(answer, score):
            break
    return out


def winner_credit(scores: dict[str, float], truth: str) -> float:
    """1 if ``truth`` alone scores highest, 1/n if it ties with n-1 others (random tie-break)."""
    best = max(scores.values())
    tied = [c for c, v in scores.items() if v == best]
    return 1.0 / len(tied) if truth in tied else 0.0


def stopping_table(crowd: Crowd, audiences: dict[str, Qualification], n: int) -> list[str]:
    lines = [
        f"Responses to reach the threshold, unambiguous datapoints (difficulty <= 0.1), "
        f"maxVotes {MAX_VOTES}; n={n} per cell; (share where the winner is right)",
        f"{'audience':<10}{'K':>3}" + "".join(f"{f'thr {t}':>18}" for t in THRESHOLDS),
    ]
    for name, qual in audiences.items():
        for k in CATEGORY_COUNTS:
            options = [chr(ord("A") + i) for i in range(k)]
            tasks = list(tasks_in(crowd, f"stop-{k}", options, 0.0, 0.1, n))
            cells = []
            for threshold in THRESHOLDS:
                counts, right = [], 0.0
                for task in tasks:
                    responses = collect(crowd, task, qual, max_votes=MAX_VOTES, threshold=threshold)
                    counts.append(len(responses))
                    conf = confidence_per_category(votes(responses), options)
                    right += winner_credit(conf, crowd.truth(task))
                cells.append(f"{statistics.fmean(counts):6.2f} ({right / n:6.1%})")
            lines.append(f"{name:<10}{k:>3}" + "".join(f"{c:>18}" for c in cells))
    return lines


def difficulty_table(crowd: Crowd, audiences: dict[str, Qualification], n: int) -> list[str]:
    options = ["A", "B"]
    lines = [
        f"Responses to reach 0.99 by latent difficulty, 2 categories, maxVotes {MAX_VOTES}; "
        f"n={n} per cell; (share right) [share that hit maxVotes]",
        f"{'difficulty':<12}" + "".join(f"{name:>28}" for name in audiences),
    ]
    for low, high in BUCKETS:
        tasks = list(tasks_in(crowd, f"diff-{low}", options, low, high, n))
        cells = []
        for qual in audiences.values():
            counts, right, capped = [], 0.0, 0
            for task in tasks:
                responses = collect(crowd, task, qual, max_votes=MAX_VOTES, threshold=0.99)
                counts.append(len(responses))
                capped += len(responses) == MAX_VOTES
                conf = confidence_per_category(votes(responses), options)
                right += winner_credit(conf, crowd.truth(task))
            cells.append(f"{statistics.fmean(counts):6.2f} ({right / n:6.1%}) [{capped / n:5.1%}]")
        lines.append(f"{f'{low:.1f}-{high:.1f}':<12}" + "".join(f"{c:>28}" for c in cells))
    return lines


def hidden_truth(task: TaskSpec) -> str:
    """The benchmark's own ground truth, unknown to the crowd except through the oracle."""
    digest = hashlib.blake2b(f"bench-truth:{task.key}".encode(), digest_size=2).digest()
    return task.options[int.from_bytes(digest, "big") % len(task.options)]


def quality_table(seed: int, n: int, n_votes: int = 5) -> list[str]:
    oracle: Callable[[TaskSpec], dict[str, float] | None] = lambda t: {hidden_truth(t): 1.0}  # noqa: E731
    crowd = Crowd(seed=seed, oracle=oracle)
    qual = crowd.qualify(AudienceSpec("global", "global"))
    lines = [
        f"Winner quality with an oracle truth, {n_votes} responses per datapoint, global "
        f"audience, n={n} per row (share right)",
        f"{'K':>2} {'difficulty':<11}{'majority':>10}{'weighted':>10}{'confidence':>12}",
    ]
    for k in (2, 4):
        options = [chr(ord("A") + i) for i in range(k)]
        for low, high in BUCKETS:
            majority = weighted = confident = 0.0
            for task in tasks_in(crowd, f"quality-{k}-{low}", options, low, high, n):
                responses = collect(crowd, task, qual, max_votes=n_votes, threshold=None)
                truth = hidden_truth(task)
                counts = dict.fromkeys(options, 0.0)
                sums = dict.fromkeys(options, 0.0)
                for answer, score in responses:
                    counts[answer] += 1
                    sums[answer] += score
                majority += winner_credit(counts, truth)
                weighted += winner_credit(sums, truth)
                confident += winner_credit(
                    confidence_per_category(votes(responses), options), truth
                )
            lines.append(
                f"{k:>2} {f'{low:.1f}-{high:.1f}':<11}{majority / n:>10.1%}"
                f"{weighted / n:>10.1%}{confident / n:>12.1%}"
            )
    return lines


def votes(responses: list[tuple[str, float]]) -> list[tuple[str, float]]:
    return responses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n", type=int, default=400, help="datapoints per table cell")
    args = parser.parse_args()

    started = time.perf_counter()
    crowd = Crowd(seed=args.seed)
    audiences = {
        "global": crowd.qualify(AudienceSpec("global", "global")),
        "curated": crowd.qualify(AudienceSpec("curated-alignment", "curated", "alignment")),
    }
    for name, qual in audiences.items():
        scores = list(qual.user_scores.values())
        print(
            f"{name}: {len(scores)} labelers, mean userScore {statistics.fmean(scores):.3f}, "
            f"median {statistics.median(scores):.3f}"
        )
    print()
    for table in (
        stopping_table(crowd, audiences, args.n),
        difficulty_table(crowd, audiences, args.n),
        quality_table(args.seed, args.n),
    ):
        print("\n".join(table))
        print()
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
