"""Validation rapids in a job: what they ask, who sees them when, and what a labeler's answers
to them do to the labeler's user score in that job.

A job whose revision names a validation set mixes the set's rapids in among its real tasks:
every labeler gets one before their first task of the job and then one after every
``VALIDATION_EVERY`` real tasks, each rapid at most once per labeler (in an order of their
own), as long as the set has rapids they have not seen, ``MAX_PER_LABELER`` at most. Answers
to validation rapids are never responses of a datapoint.

Each answer is checked against the rapid's truth (compare: ``winnerId``; classification: any
of ``correctCategories``) and updates the labeler's score for the job: the posterior mean of
their score ``s`` given their validation answers, where ``s`` means what it means to the
confidence formula (the labeler knows the answer with probability ``s`` and guesses
otherwise), so a right answer has probability ``s + (1 − s)·c`` with ``c`` the rapid's
``randomCorrectProbability``. The prior is a Beta with mean the labeler's user score in the
audience and the weight of ``PRIOR_WEIGHT`` answers: a labeler who guesses (right half the
time on compare rapids) sinks towards 0, one who knows stays near their score. The score is
what their later responses carry, so it weighs them in early stopping and in the results.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..._wire import validation as vwire
from .tasks import TaskSpec, asset_labels

__all__ = [
    "MAX_PER_LABELER",
    "PRIOR_WEIGHT",
    "VALIDATION_EVERY",
    "LabelerValidation",
    "ValidationRapid",
    "validation_rapids",
]

VALIDATION_EVERY = 4
"""Real tasks a labeler answers between two validation rapids of a job."""
MAX_PER_LABELER = 100
"""Validation rapids one labeler is shown in one job at most (their score is settled by then)."""
PRIOR_WEIGHT = 2.0
"""How many validation answers the labeler's user score in the audience weighs as."""

_SCORE_MIN, _SCORE_MAX = 0.0001, 0.9999


@dataclass(frozen=True, slots=True)
class ValidationRapid:
    """One rapid as the crowd sees it (``task``, whose ``truth`` the crowd knows the way it
    knows a datapoint's) and what counts as right."""

    key: str
    task: TaskSpec
    correct: frozenset[str]
    chance: float

    def is_right(self, answer: str) -> bool:
        return answer in self.correct


def validation_rapids(
    set_id: str, rapids: Sequence[vwire.AddValidationRapidInput]
) -> list[ValidationRapid]:
    """The usable rapids of a set (with a truth among at least 2 options), keyed by set and
    position: ``validation␟<set>␟<n>``."""
    out = []
    for i, rapid in enumerate(rapids):
        truth = rapid.truth
        kind: Literal["compare", "classify"]
        correct: list[str] = []
        if isinstance(rapid.payload, vwire.ComparePayload):
            options = asset_labels(rapid.asset)
            if isinstance(truth, vwire.CompareTruth):
                correct = [truth.winner_id]
            kind = "compare"
        else:
            options = list(dict.fromkeys(c.key for c in rapid.payload.categories))
            if isinstance(truth, vwire.AttachCategoryTruth):
                correct = list(truth.correct_categories)
            kind = "classify"
        correct = [c for c in correct if c in options]
        if len(options) < 2 or not correct:
            continue
        chance = rapid.random_correct_probability
        if chance is None or not 0.0 <= chance < 1.0:
            chance = len(set(correct)) / len(options)
        key = f"validation\x1f{set_id}\x1f{i}"
        task = TaskSpec(key, kind, options, context=rapid.context, truth=correct[0])
        out.append(ValidationRapid(key, task, frozenset(correct), min(chance, 0.99)))
    return out


class LabelerValidation:
    """One labeler's validation in one job: right/total and the posterior of their score.

    Exact: with a Beta(a, b) prior, ``r`` right and ``w`` wrong answers the posterior is
    proportional to ``s^(a−1)·(1−s)^(b−1+w)·Π_right (c_i + (1 − c_i)·s)``, a mixture of
    Betas whose weights are the coefficients of that polynomial. ``add`` costs O(right
    answers so far); it runs once per validation answer, never per response.
    """

    __slots__ = ("_a", "_b", "_coefs", "prior", "right", "score", "total")

    def __init__(self, prior: float) -> None:
        self.prior: float = prior
        """The labeler's user score in the audience."""
        p = min(max(prior, 0.001), 0.999)
        self._a, self._b = PRIOR_WEIGHT * p, PRIOR_WEIGHT * (1.0 - p)
        self._coefs = [1.0]  # the polynomial of the right answers, by power of s
        self.right: int = 0
        self.total: int = 0
        self.score: float = prior
        """Their score in the job: the posterior mean, rounded to 4 decimals."""

    def add(self, right: bool, chance: float) -> float:
        """Fold one validation answer in; the labeler's new score."""
        self.total += 1
        if right:
            self.right += 1
            old = self._coefs
            new = [0.0] * (len(old) + 1)
            for k, coef in enumerate(old):
                new[k] += coef * chance
                new[k + 1] += coef * (1.0 - chance)
            top = max(new)
            self._coefs = [c / top for c in new]  # scale-free: keeps the numbers in range
        a, b = self._a, self._b + (self.total - self.right)
        # log B(a + k, b) up to a constant, by B(x + 1, b) = B(x, b)·x / (x + b)
        logs = []
        log_beta = 0.0
        for k, c in enumerate(self._coefs):
            if k:
                log_beta += math.log((a + k - 1) / (a + b + k - 1))
            logs.append(math.log(c) + log_beta if c > 0.0 else -math.inf)
        top = max(logs)
        weights = [math.exp(lw - top) for lw in logs]
        mean = sum(w * (a + k) / (a + b + k) for k, w in enumerate(weights)) / sum(weights)
        self.score = round(min(max(mean, _SCORE_MIN), _SCORE_MAX), 4)
        return self.score
