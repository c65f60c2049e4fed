"""Simulated pairwise votes with a known truth, for tests and benchmarks of ``ranking``.

Items have a latent quality on the rating scale; labelers have a skill in (0, 1). As in the
simulated crowd, a labeler *knows* the answer with probability ``skill`` and then votes by
Bradley–Terry on the latent qualities, otherwise guesses 50/50::

    rng = np.random.default_rng(0)
    quality = latent_quality(20, rng)
    oracle = bt_oracle(quality, crowd_skills(500, rng))
    first, second = random_pairs(20, 300, rng)
    outcome = vote(oracle, first, second, rng)
    counts = PairCounts.from_battles(20, first, second, outcome)

An oracle is any ``(first, second, labeler) -> P(first wins)`` over index arrays, so a test can
plug in another preference model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from .ranking import ELO_SCALE, FloatArray, IntArray, PairCounts, fit_bradley_terry

__all__ = [
    "BTOracle",
    "PairOracle",
    "bt_oracle",
    "crowd_skills",
    "estimand",
    "latent_quality",
    "random_pairs",
    "spearman",
    "vote",
]


class PairOracle(Protocol):
    """``(first, second, labeler) -> P(first beats second)`` per position, for labelers
    ``0 .. n_labelers - 1``."""

    @property
    def n_labelers(self) -> int: ...

    def __call__(self, first: IntArray, second: IntArray, labeler: IntArray) -> FloatArray: ...


def latent_quality(n: int, rng: np.random.Generator, spread: float = 200.0) -> FloatArray:
    """``n`` latent qualities in rating points: normal with sd ``spread``, centred on 0."""
    q = rng.normal(0.0, spread, n)
    return q - q.mean()


def crowd_skills(n: int, rng: np.random.Generator) -> FloatArray:
    """Skills like the simulated crowd's: mostly able (Beta(6, 3.6)), a tenth near guessing."""
    able = rng.beta(6.0, 3.6, n)
    poor = rng.beta(1.2, 8.0, n)
    return np.clip(np.where(rng.random(n) < 0.1, poor, able), 0.005, 0.995)


@dataclass(frozen=True)
class BTOracle:
    """P(first wins) = skill · σ(Δq · ln10/scale) + (1 − skill)/2: a knowing labeler votes by
    Bradley–Terry on the latent ``quality`` (rating points), a guessing one flips a coin."""

    quality: FloatArray
    skill: FloatArray
    scale: float = ELO_SCALE

    @property
    def n_labelers(self) -> int:
        return int(self.skill.size)

    def __call__(self, first: IntArray, second: IntArray, labeler: IntArray) -> FloatArray:
        q = self.quality * (math.log(10.0) / self.scale)
        p = 1.0 / (1.0 + np.exp(q[second] - q[first]))
        k = self.skill[labeler]
        return np.asarray(k * p + (1.0 - k) * 0.5, dtype=np.float64)


def bt_oracle(
    quality: npt.ArrayLike, skill: npt.ArrayLike | None = None, scale: float = ELO_SCALE
) -> BTOracle:
    """A :class:`BTOracle`; ``skill=None`` is one perfect labeler, i.e. plain Bradley–Terry."""
    s = np.ones(1) if skill is None else np.asarray(skill, dtype=np.float64).ravel()
    if s.size == 0 or np.any((s < 0) | (s > 1)):
        raise ValueError("skills must be a non-empty array in [0, 1]")
    return BTOracle(np.asarray(quality, dtype=np.float64), s, scale)


def random_pairs(n: int, size: int, rng: np.random.Generator) -> tuple[IntArray, IntArray]:
    """``size`` pairs of distinct items, uniform over unordered pairs and sides."""
    a = rng.integers(0, n, size)
    b = (a + rng.integers(1, n, size)) % n
    return a.astype(np.int64), b.astype(np.int64)


def vote(
    oracle: PairOracle, first: IntArray, second: IntArray, rng: np.random.Generator
) -> FloatArray:
    """One vote per pair from a random labeler: 1.0 if ``first`` wins, else 0.0."""
    labeler = rng.integers(0, oracle.n_labelers, first.size)
    return (rng.random(first.size) < oracle(first, second, labeler)).astype(np.float64)


def estimand(counts: PairCounts, oracle: PairOracle, scale: float = ELO_SCALE) -> FloatArray:
    """The ratings (centred on 0) an infinite crowd would give on this design: the BT fit to
    the crowd-averaged win probabilities with each pair weighted by its battles.

    With imperfect labelers the votes are not exactly Bradley–Terry in the latent quality,
    so this, not the quality itself, is what an interval ought to cover.
    """
    i, j = counts.pairs[:, 0], counts.pairs[:, 1]
    labelers = np.arange(oracle.n_labelers)
    m = labelers.size
    # Every pair against every labeler at once: (pairs × labelers) probabilities, averaged.
    p = oracle(np.repeat(i, m), np.repeat(j, m), np.tile(labelers, i.size))
    p = p.reshape(i.size, m).mean(axis=1)
    battles = counts.cells.sum(axis=1)
    expected = np.stack([battles * p, battles * (1 - p), np.zeros_like(p)], axis=1)
    theta = fit_bradley_terry(PairCounts(counts.n_items, counts.pairs, expected), prior=1e-9)
    return theta * (scale / math.log(10.0))


def spearman(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Spearman rank correlation (average ranks for ties); 0 when either side is constant."""
    rx, ry = _ranks(np.asarray(x, dtype=np.float64)), _ranks(np.asarray(y, dtype=np.float64))
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denom = math.sqrt(float((rx * rx).sum() * (ry * ry).sum()))
    return float((rx * ry).sum() / denom) if denom > 0 else 0.0


def _ranks(v: FloatArray) -> FloatArray:
    order = np.argsort(v, kind="stable")
    ranks = np.empty(v.size)
    ranks[order] = np.arange(v.size, dtype=np.float64)
    # Average the ranks within groups of equal values.
    _, inverse, counts = np.unique(v, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse.ravel(), ranks)
    return sums[inverse.ravel()] / counts[inverse.ravel()]
