"""Confidence per category: how sure a set of ``(answer, user_score)`` votes makes us.

``P(c) ∝ Π_i (s_i·[v_i = c] + (1 − s_i)/K)`` with ``K`` categories: a labeler with score ``s``
knows the answer with probability ``s`` and otherwise guesses uniformly. Early stopping folds
responses into a ``LogConfidence`` one at a time; the results document recomputes the same
numbers with ``confidence_per_category``, so the two cannot drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["LogConfidence", "confidence_per_category"]

_MAX_CERTAINTY = 1.0 - 1e-12


class LogConfidence:
    """Running ``P(c)`` kept as log-weights, one vote at a time (O(K) per vote).

    Logs rather than renormalised products: with products a long-losing category sinks into
    the denormal range, where rounding stops it from shrinking further and later votes revive
    it from a wrong floor. Scores are capped just below 1 so that two contradicting "certain"
    votes cancel out instead of zeroing every category.
    """

    __slots__ = ("_index", "_k", "logw")

    def __init__(self, categories: Sequence[str]) -> None:
        self._k = len(categories)
        self._index = {category: i for i, category in enumerate(categories)}
        self.logw: list[float] = [0.0] * self._k

    def add(self, answer: str, score: float) -> None:
        """Fold one vote in; answers outside the categories (Both/Neither) change nothing."""
        hit = self._index.get(answer)
        if hit is None:
            return
        # `score > 0` is also False for NaN, which then counts as a pure guess
        s = min(score, _MAX_CERTAINTY) if score > 0.0 else 0.0
        base = (1.0 - s) / self._k
        miss, match = math.log(base), math.log(base + s)
        logw = self.logw
        for i in range(self._k):
            logw[i] += match if i == hit else miss

    def probabilities(self) -> list[float]:
        top = max(self.logw)
        weights = [math.exp(lw - top) for lw in self.logw]
        total = sum(weights)
        return [w / total for w in weights]

    def top(self) -> float:
        """The probability of the most likely category."""
        top = max(self.logw)
        return 1.0 / sum(math.exp(lw - top) for lw in self.logw)


def confidence_per_category(
    votes: Sequence[tuple[str, float]], categories: Sequence[str]
) -> dict[str, float]:
    """Probability that each category is the right one, given ``(answer, user_score)`` votes.

    Votes outside ``categories`` (Both/Neither) are ignored; no votes give a uniform result.
    Values are not rounded.

    Docs example: four "Dog" votes scored 0.3, 0.8486, 0.4469, 0.4911 over ``["Cat", "Dog"]``
    give Dog 0.9943, Cat 0.0057.
    """
    if not categories:
        return {}
    acc = LogConfidence(categories)
    for answer, score in votes:
        acc.add(answer, score)
    return dict(zip(categories, acc.probabilities(), strict=True))
