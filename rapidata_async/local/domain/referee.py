"""Referees: when a datapoint has enough responses.

A referee is built once per job from the wire referee (``RefereeRule.of``) and gives every
datapoint a fresh ``Tally``, fed ONE response at a time; ``add`` answers whether the datapoint
is now done. The state is a fold over the responses, so a resumed job rebuilds it by feeding
the stored responses again in arrival order::

    rule = RefereeRule.of(jwire.EarlyStoppingReferee(max_votes=10, threshold=0.99))
    tally = rule.tally(["Cat", "Dog"])
    for answer, score in stored:
        tally.add(answer, score)
    tally.done, tally.room()

- naive: done after ``total_votes`` responses;
- early stopping: done once one category's confidence reaches ``threshold`` (Both/Neither
  count toward ``max_votes`` but not toward confidence), or after ``max_votes``;
- quorum: done once ``threshold`` responses agree on one answer, or after ``max_votes``.

Every ``add`` is O(number of categories).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..._wire import job as jwire
from .confidence import LogConfidence

__all__ = ["RefereeRule", "Tally"]


@dataclass(frozen=True, slots=True)
class RefereeRule:
    """A job's referee: ``kind`` (naive | early_stopping | quorum), the most responses a
    datapoint may get, and the stopping threshold (confidence, or agreeing responses)."""

    kind: str
    max_votes: int
    threshold: float = 0.0

    @classmethod
    def of(cls, referee: jwire.Referee) -> RefereeRule:
        if isinstance(referee, jwire.NaiveReferee):
            return cls("naive", referee.total_votes)
        if isinstance(referee, jwire.EarlyStoppingReferee):
            return cls("early_stopping", referee.max_votes, referee.threshold)
        return cls("quorum", referee.max_votes, float(referee.threshold))

    def tally(self, categories: Sequence[str]) -> Tally:
        """A fresh state for one datapoint whose answers may be ``categories``."""
        return Tally(self, categories)


class Tally:
    """One datapoint's referee state. ``count``: responses so far; ``done``: no more needed."""

    __slots__ = ("_agree", "_conf", "_max", "_rule", "count", "done")

    def __init__(self, rule: RefereeRule, categories: Sequence[str]) -> None:
        self._rule = rule
        self._max = rule.max_votes
        self.count: int = 0
        self.done: bool = rule.max_votes <= 0
        self._conf = LogConfidence(categories) if rule.kind == "early_stopping" else None
        self._agree: dict[str, int] | None = {} if rule.kind == "quorum" else None

    def add(self, answer: str, user_score: float) -> bool:
        """Fold one response in; True when the datapoint needs no more. Responses after
        ``done`` are ignored (a late answer of a real crowd)."""
        if self.done:
            return True
        self.count += 1
        if self.count >= self._max:
            self.done = True
        elif self._conf is not None:
            self._conf.add(answer, user_score)
            self.done = self._conf.top() >= self._rule.threshold
        elif self._agree is not None:
            agree = self._agree.get(answer, 0) + 1
            self._agree[answer] = agree
            self.done = agree >= self._rule.threshold
        return self.done

    def room(self) -> int:
        """How many more responses may be handed out now without any going to waste: the
        least number after which the datapoint could be done."""
        if self.done:
            return 0
        left = self._max - self.count
        if self._agree is not None:
            best = max(self._agree.values(), default=0)
            return max(1, min(left, int(self._rule.threshold) - best))
        if self._conf is not None:
            return 1
        return left
