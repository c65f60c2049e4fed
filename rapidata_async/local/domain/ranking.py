"""Ratings from pairwise votes: Bradley–Terry fit and bootstrap intervals.

Pure numpy, no I/O. Ranking flows and MRI leaderboards both turn "A beat B" votes into a
rating per item; this module is that engine::

    counts = PairCounts.from_battles(3, first=[0, 0, 1], second=[1, 2, 2], outcome=[1, 1, 0.5])
    table = standings(counts, ids=["a", "b", "c"], rng=np.random.default_rng(0))
    table[0].id, table[0].score, table[0].ci_low, table[0].ci_high   # best item first

Model
-----
P(i beats j) = σ(θ_i − θ_j). θ is fitted by Newton's method on the log-likelihood of the pair
counts plus a weak Gaussian prior ``prior/2 · Σθ²`` (the ridge keeps an item that always wins,
or never played, finite and makes the fit unique; it also centres Σθ = 0). A tie counts half a
win for each side.

Scale
-----
The API shows Elo-like numbers: flows report an integer ``elo`` per datapoint with the flow's
``startingElo`` (1200 by default) as the rating of a fresh item; leaderboards report a ``score``
with a ``scoreShift``/``scoreScale`` "relative to the Bradley–Terry centre". So a rating is
``center + scale · log10(strength)`` with strengths normalised to geometric mean 1, i.e.
``center + scale/ln10 · θ``: the mean rating is ``center`` (a flow passes its startingElo, a
leaderboard 1000 + scoreShift), and ``scale`` is 400 points per factor-10 odds (times a
leaderboard's scoreScale), as in chess Elo and the public LLM arenas.

Intervals and ranks
-------------------
Battles are resampled with replacement (one multinomial draw over the unique
(pair, outcome) cells per round, not a loop per battle), every round is refitted — all rounds
at once as one batched Newton solve — and the 2.5/97.5 % percentiles of an item's rating give
its 95 % interval. Ranks follow interval overlap: ``rank_low`` (best possible) is 1 + the items
whose lower bound is above this item's upper bound, ``rank_high`` (worst possible) is the number
of items whose upper bound is not below this item's lower bound; ``rank`` orders point scores.

Matchmaking (which pair to show next) lives in ``matchmaking.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "DEFAULT_PRIOR",
    "ELO_CENTER",
    "ELO_SCALE",
    "PairCounts",
    "Rating",
    "fit_bradley_terry",
    "fit_laplace",
    "standings",
    "to_elo",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

ELO_CENTER = 1000.0
"""Mean rating of a leaderboard with no score shift."""
ELO_SCALE = 400.0
"""Rating points per factor 10 in the odds of winning."""
DEFAULT_PRIOR = 0.02
"""Precision of the Gaussian prior on θ (natural-log strength): sd ≈ 7 nats ≈ 1200 points.

Weak next to one battle's information (up to 0.25), so it barely moves items that played;
enough to keep an undefeated item finite."""

_MAX_STEP = 3.0  # largest Newton move per item and iteration, in nats: keeps early steps sane
_TOL = 1e-7  # converged once no θ moves more than this (≈ 2e-5 rating points)
_MAX_ITER = 100
_BOOT_TOL = 1e-5  # a resample's fit is one draw among many: 0.002 rating points is plenty
_CHORD_ITER = 25
_EXACT_NEWTON = 40  # up to this many items a batched exact Newton step is cheap enough


@dataclass(frozen=True)
class PairCounts:
    """Votes among ``n_items`` items, aggregated per unordered pair.

    ``pairs[p] = (i, j)`` with ``i < j`` (unique, sorted); ``cells[p] = (i won, j won, ties)``.
    Counts are floats so a vote matrix with fractional entries fits too.
    """

    n_items: int
    pairs: IntArray
    cells: FloatArray

    @classmethod
    def empty(cls, n_items: int) -> PairCounts:
        """No votes yet among ``n_items`` items."""
        _check_n(n_items)
        return cls(n_items, np.zeros((0, 2), np.int64), np.zeros((0, 3), np.float64))

    @classmethod
    def from_battles(
        cls,
        n_items: int,
        first: Sequence[int] | npt.ArrayLike,
        second: Sequence[int] | npt.ArrayLike,
        outcome: Sequence[float] | npt.ArrayLike,
    ) -> PairCounts:
        """One battle per position: ``outcome`` 1 = ``first`` won, 0 = ``second`` won, 0.5 = tie.

        Raises ``ValueError`` on mismatched lengths, indices out of range, an item against
        itself, or another outcome.
        """
        _check_n(n_items)
        a = np.asarray(first, dtype=np.int64).ravel()
        b = np.asarray(second, dtype=np.int64).ravel()
        y = np.asarray(outcome, dtype=np.float64).ravel()
        if not (a.size == b.size == y.size):
            raise ValueError("first, second and outcome must have the same length")
        if a.size and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n_items):
            raise ValueError(f"item indices must lie in [0, {n_items})")
        if np.any(a == b):
            raise ValueError("an item cannot battle itself")
        if not np.all((y == 0.0) | (y == 0.5) | (y == 1.0)):
            raise ValueError("outcome must be 1 (first won), 0 (second won) or 0.5 (tie)")
        swap = a > b
        lo, hi = np.where(swap, b, a), np.where(swap, a, b)
        # Outcome seen from the lower index: 0 = lower won, 1 = higher won, 2 = tie.
        y_lo = np.where(swap, 1.0 - y, y)
        kind = np.where(y_lo == 0.5, 2, np.where(y_lo == 1.0, 0, 1))
        keys, inverse = np.unique(lo * n_items + hi, return_inverse=True)
        cells = np.zeros((keys.size, 3), np.float64)
        np.add.at(cells, (inverse.ravel(), kind), 1.0)
        pairs = np.stack([keys // n_items, keys % n_items], axis=1).astype(np.int64)
        return cls(n_items, pairs, cells)

    @classmethod
    def from_matrix(cls, wins: npt.ArrayLike) -> PairCounts:
        """From a win matrix: ``wins[i][j]`` = times ``i`` beat ``j`` (ties as halves)."""
        w = np.asarray(wins, dtype=np.float64)
        if w.ndim != 2 or w.shape[0] != w.shape[1]:
            raise ValueError("the win matrix must be square")
        _check_n(w.shape[0])
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError("win counts must be finite and non-negative")
        if np.any(np.diag(w) != 0):
            raise ValueError("the diagonal of the win matrix must be zero")
        i, j = np.triu_indices(w.shape[0], k=1)
        keep = (w[i, j] + w[j, i]) > 0
        i, j = i[keep], j[keep]
        cells = np.stack([w[i, j], w[j, i], np.zeros(i.size)], axis=1)
        return cls(w.shape[0], np.stack([i, j], axis=1).astype(np.int64), cells)

    def matrix(self) -> FloatArray:
        """The win matrix: ``[i][j]`` = times ``i`` beat ``j``, a tie counting half each."""
        w = np.zeros((self.n_items, self.n_items))
        i, j = self.pairs[:, 0], self.pairs[:, 1]
        w[i, j] = self.cells[:, 0] + 0.5 * self.cells[:, 2]
        w[j, i] = self.cells[:, 1] + 0.5 * self.cells[:, 2]
        return w

    def merged(self, other: PairCounts) -> PairCounts:
        """These votes plus ``other``'s (same items)."""
        if other.n_items != self.n_items:
            raise ValueError("cannot merge counts over different item sets")
        pairs = np.concatenate([self.pairs, other.pairs])
        keys, inverse = np.unique(pairs[:, 0] * self.n_items + pairs[:, 1], return_inverse=True)
        cells = np.zeros((keys.size, 3))
        np.add.at(cells, inverse.ravel(), np.concatenate([self.cells, other.cells]))
        merged_pairs = np.stack([keys // self.n_items, keys % self.n_items], axis=1)
        return PairCounts(self.n_items, merged_pairs.astype(np.int64), cells)

    @property
    def total(self) -> float:
        """Number of battles."""
        return float(self.cells.sum())

    def per_item(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """``(battles, wins, losses)`` per item; a tie adds half a win and half a loss."""
        i, j = self.pairs[:, 0], self.pairs[:, 1]
        n = self.n_items
        won_i = self.cells[:, 0] + 0.5 * self.cells[:, 2]
        won_j = self.cells[:, 1] + 0.5 * self.cells[:, 2]
        wins = np.bincount(i, won_i, n) + np.bincount(j, won_j, n)
        losses = np.bincount(i, won_j, n) + np.bincount(j, won_i, n)
        return (
            (wins + losses).astype(np.float64),
            wins.astype(np.float64),
            losses.astype(np.float64),
        )


def _check_n(n_items: int) -> None:
    if n_items < 1:
        raise ValueError("there must be at least one item")


# -- fitting ------------------------------------------------------------------------------------


class _Design:
    """The pairs of a fit and their per-pair arrays, shared by every bootstrap round."""

    def __init__(self, n_items: int, pairs: IntArray) -> None:
        self.n = n_items
        self.i = pairs[:, 0]
        self.j = pairs[:, 1]
        self._scatter: dict[int, tuple[IntArray, IntArray]] = {}

    def _targets(self, rounds: int) -> tuple[IntArray, IntArray]:
        """Flat (round, item) indices of each pair's two sides, built once per batch size."""
        if rounds not in self._scatter:
            base = (np.arange(rounds) * self.n)[:, None]
            self._scatter[rounds] = ((base + self.i).ravel(), (base + self.j).ravel())
        return self._scatter[rounds]

    def gradient(
        self, theta: FloatArray, won_i: FloatArray, won_j: FloatArray, prior: float
    ) -> tuple[FloatArray, FloatArray]:
        """Gradient of the penalised log-likelihood per round, and the pair weights p(1−p)·n."""
        rounds = theta.shape[0]
        p = 1.0 / (1.0 + np.exp(theta[:, self.j] - theta[:, self.i]))  # P(i beats j)
        battles = won_i + won_j
        resid = won_i - battles * p
        # Scatter-add each pair's residual to i (+) and j (−) for all rounds at once.
        to_i, to_j = self._targets(rounds)
        size = rounds * self.n
        flat = np.bincount(to_i, resid.ravel(), size) - np.bincount(to_j, resid.ravel(), size)
        grad = flat.reshape(rounds, self.n) - prior * theta
        return grad, battles * p * (1.0 - p)

    def precision(self, weights: FloatArray, prior: float) -> FloatArray:
        """Negative Hessian per round ``(B, n, n)``: the weighted graph Laplacian plus ridge."""
        rounds = weights.shape[0]
        h = np.zeros((rounds, self.n, self.n))
        h[:, self.i, self.j] = -weights
        h[:, self.j, self.i] = -weights
        idx = np.arange(self.n)
        h[:, idx, idx] = -h.sum(axis=2) + prior
        return h


def _clip(step: npt.NDArray[np.floating]) -> tuple[FloatArray, FloatArray]:
    biggest = np.abs(step).max(axis=1) if step.shape[1] else np.zeros(step.shape[0])
    scale = np.minimum(1.0, _MAX_STEP / np.maximum(biggest, 1e-300))
    return np.asarray(step * scale[:, None], dtype=np.float64), biggest


def _newton(
    design: _Design,
    won_i: FloatArray,
    won_j: FloatArray,
    theta: FloatArray,
    prior: float,
    tol: float = _TOL,
) -> FloatArray:
    """Maximise the penalised BT log-likelihood for each round (rows of ``won_*``) exactly."""
    theta = theta.copy()
    active = np.arange(theta.shape[0])
    for _ in range(_MAX_ITER):
        grad, weights = design.gradient(theta[active], won_i[active], won_j[active], prior)
        precision = design.precision(weights, prior)
        step, biggest = _clip(np.linalg.solve(precision, grad[:, :, None])[:, :, 0])
        theta[active] += step
        active = active[biggest >= tol]
        if active.size == 0:
            break
    return theta


def _chord(
    design: _Design,
    won_i: FloatArray,
    won_j: FloatArray,
    theta: FloatArray,
    covariance: FloatArray,
    prior: float,
) -> FloatArray:
    """Newton with the Hessian frozen at the full-data fit (``covariance`` is its inverse).

    Resamples sit close to the full data, so this converges in a handful of matrix products
    instead of one ``(B, n, n)`` solve per step; rounds it does not settle go to ``_newton``.
    """
    theta = theta.copy()
    biggest = np.full(theta.shape[0], np.inf)
    for _ in range(_CHORD_ITER):
        grad, _ = design.gradient(theta, won_i, won_j, prior)
        step, biggest = _clip(grad @ covariance)
        theta += step
        if biggest.max() < _BOOT_TOL:
            return theta
    left = np.flatnonzero(~(biggest < _BOOT_TOL))
    theta[left] = _newton(design, won_i[left], won_j[left], theta[left], prior, _BOOT_TOL)
    return theta


def _wins(counts: PairCounts) -> tuple[FloatArray, FloatArray]:
    c = counts.cells
    return c[:, 0] + 0.5 * c[:, 2], c[:, 1] + 0.5 * c[:, 2]


def _fit(counts: PairCounts, prior: float) -> tuple[FloatArray, FloatArray]:
    """θ and the precision matrix (negative Hessian) at θ."""
    if not prior > 0:
        raise ValueError("prior must be positive")
    design = _Design(counts.n_items, counts.pairs)
    won_i, won_j = _wins(counts)
    theta = _newton(design, won_i[None], won_j[None], np.zeros((1, counts.n_items)), prior)
    _, weights = design.gradient(theta, won_i[None], won_j[None], prior)
    return theta[0], design.precision(weights, prior)[0]


def fit_laplace(
    counts: PairCounts, *, prior: float = DEFAULT_PRIOR
) -> tuple[FloatArray, FloatArray]:
    """θ (natural-log strengths, centred) and the precision matrix of the fit at θ: its
    inverse is the Laplace covariance (what matchmaking plans with)."""
    return _fit(counts, prior)


def fit_bradley_terry(counts: PairCounts, *, prior: float = DEFAULT_PRIOR) -> FloatArray:
    """Log-strengths θ (natural log, Σθ = 0) maximising the BT likelihood plus the ridge.

    Items without battles get θ = 0 (the mean). Raises ``ValueError`` if ``prior <= 0``.
    """
    return _fit(counts, prior)[0]


def to_elo(
    theta: npt.ArrayLike, *, center: float = ELO_CENTER, scale: float = ELO_SCALE
) -> FloatArray:
    """Ratings ``center + scale · log10(strength)`` for natural-log strengths ``theta``."""
    return center + (scale / math.log(10.0)) * np.asarray(theta, dtype=np.float64)


def _bootstrap_theta(
    counts: PairCounts,
    theta: FloatArray,
    precision: FloatArray,
    rounds: int,
    prior: float,
    rng: np.random.Generator,
) -> FloatArray:
    """θ refitted on ``rounds`` resamples of the battles, shape ``(rounds, n)``."""
    # One multinomial over the non-empty (pair, outcome) cells resamples every battle at once.
    flat = counts.cells.ravel()
    full = np.flatnonzero(flat)
    draws = np.zeros((rounds, flat.size))
    total = flat[full].sum()
    draws[:, full] = rng.multinomial(round(total), flat[full] / total, size=rounds)
    cells = draws.reshape(rounds, -1, 3)
    won_i = cells[:, :, 0] + 0.5 * cells[:, :, 2]
    won_j = cells[:, :, 1] + 0.5 * cells[:, :, 2]
    design = _Design(counts.n_items, counts.pairs)
    start = np.broadcast_to(theta, (rounds, theta.size))
    if counts.n_items <= _EXACT_NEWTON:
        return _newton(design, won_i, won_j, start, prior, _BOOT_TOL)
    covariance = np.asarray(np.linalg.inv(precision), dtype=np.float64)
    return _chord(design, won_i, won_j, start, covariance, prior)


# -- standings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rating:
    """One item's line in the standings. Ranks count from 1 (best); ``rank_low`` is the best
    rank the intervals allow, ``rank_high`` the worst. Wins and losses count a tie as half."""

    id: str
    score: float
    ci_low: float
    ci_high: float
    rank: int
    rank_low: int
    rank_high: int
    battles: int
    wins: float
    losses: float


def standings(
    counts: PairCounts,
    ids: Sequence[str] | None = None,
    *,
    rounds: int = 200,
    confidence: float = 0.95,
    rng: np.random.Generator | None = None,
    center: float = ELO_CENTER,
    scale: float = ELO_SCALE,
    prior: float = DEFAULT_PRIOR,
    inverse: bool = False,
) -> list[Rating]:
    """Ratings with bootstrap intervals and rank ranges, best first.

    ``ids`` name the items (default ``"0"``, ``"1"``, …). ``inverse`` ranks the item that
    loses most first (an instruction like "which is worse?"). ``rounds=0`` skips the
    bootstrap: the interval collapses to the score. Raises ``ValueError`` on a wrong number
    of ids, ``rounds < 0``, a confidence outside (0, 1) or a non-positive prior or scale.
    """
    n = counts.n_items
    names = [str(k) for k in range(n)] if ids is None else [str(x) for x in ids]
    if len(names) != n:
        raise ValueError(f"expected {n} ids, got {len(names)}")
    if rounds < 0:
        raise ValueError("rounds must be >= 0")
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must lie strictly between 0 and 1")
    if not scale > 0:
        raise ValueError("scale must be positive")
    if inverse:
        counts = PairCounts(n, counts.pairs, counts.cells[:, [1, 0, 2]])
    theta, precision = _fit(counts, prior)
    score = to_elo(theta, center=center, scale=scale)
    if rounds and counts.total > 0:
        rng = rng if rng is not None else np.random.default_rng()
        boot_theta = _bootstrap_theta(counts, theta, precision, rounds, prior, rng)
        boot = to_elo(boot_theta, center=center, scale=scale)
        tail = 50.0 * (1.0 - confidence)
        low, high = np.percentile(boot, [tail, 100.0 - tail], axis=0)
        # The point fit lies inside its own bootstrap range but for rounding; keep it so.
        low, high = np.minimum(low, score), np.maximum(high, score)
    else:
        low, high = score.copy(), score.copy()
    rank = 1 + (score[None, :] > score[:, None]).sum(axis=1)
    rank_low = 1 + (low[None, :] > high[:, None]).sum(axis=1)
    rank_high = n - (high[None, :] < low[:, None]).sum(axis=1)
    battles, wins, losses = counts.per_item()
    order = np.lexsort((np.arange(n), -score))
    return [
        Rating(
            id=names[k],
            score=float(score[k]),
            ci_low=float(low[k]),
            ci_high=float(high[k]),
            rank=int(rank[k]),
            rank_low=int(rank_low[k]),
            rank_high=int(rank_high[k]),
            battles=round(float(battles[k])),
            wins=float(wins[k]),
            losses=float(losses[k]),
        )
        for k in order
    ]
