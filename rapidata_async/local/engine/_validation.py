"""A job's (or a ranking flow item's) validation while it runs: the rules of
``domain.validation`` applied to the responses that answer validation rapids, and the scores
they give each labeler. ``load_validator`` builds it for a run from the stored set and the
answers an earlier run recorded under the same id.

``take`` is only reached for responses that are not a datapoint's (the referee loop's miss
path), ``adjust`` once per datapoint response of a job that has a validation set: jobs without
one never touch this module.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import msgspec

from ..crowd.base import ValidationDeck
from ..domain.errors import NotFound
from ..domain.validation import (
    MAX_PER_LABELER,
    VALIDATION_EVERY,
    LabelerValidation,
    ValidationRapid,
    validation_rapids,
)
from ..store.base import ANY_OWNER, ResponseRecord, Store, ValidationAnswer

log = logging.getLogger("rapidata_async.local")
_replace = msgspec.structs.replace


async def load_validator(store: Store, run_id: str, set_id: str | None) -> Validator | None:
    """The validation of run ``run_id`` (a job, a flow item) when ``set_id`` names a set with
    usable rapids, resumed from the answers stored under ``run_id``; None otherwise."""
    if set_id is None:
        return None
    sets = store.validation_sets
    try:
        rapids = validation_rapids(set_id, await sets.rapids(set_id, owner=ANY_OWNER))
    except NotFound:
        log.warning("%s: validation set %s is gone; running without", run_id, set_id)
        return None
    if not rapids:
        return None
    return Validator(run_id, rapids, await sets.answers(run_id))


class Validator:
    """Checks validation answers and keeps each labeler's score for the job. ``answers``
    (stored by an earlier run) are folded in first, so a resumed run goes on where it was."""

    def __init__(
        self,
        job_id: str,
        rapids: Sequence[ValidationRapid],
        answers: Sequence[ValidationAnswer] = (),
    ) -> None:
        self.job_id = job_id
        self.rapids = {rapid.key: rapid for rapid in rapids}
        self.labelers: dict[str, LabelerValidation] = {}
        self.scores: dict[str, float] = {}
        """Labeler id -> their score in this job (only labelers who answered a rapid)."""
        self.pending: list[ValidationAnswer] = []
        for answer in answers:
            state = self.labelers.get(answer.labeler_id)
            if state is None:
                state = self.labelers[answer.labeler_id] = LabelerValidation(answer.prior)
            self.scores[answer.labeler_id] = state.add(answer.correct, answer.chance)

    def deck(
        self, every: int = VALIDATION_EVERY, *, board_key: str | None = None
    ) -> ValidationDeck:
        """The rapids for the task board, knowing who was shown how many already;
        ``board_key``: the run's key on the board when it is not its id (ranking sessions)."""
        shown = {labeler: state.total for labeler, state in self.labelers.items()}
        rapids = [(rapid.key, rapid.task) for rapid in self.rapids.values()]
        return ValidationDeck(board_key or self.job_id, rapids, every, shown, MAX_PER_LABELER)

    def take(self, response: ResponseRecord) -> bool:
        """True when ``response`` answers a validation rapid: it is checked, the labeler's
        score updated and the answer queued for the store (``drain``); never a datapoint's."""
        rapid = self.rapids.get(response.datapoint_id)
        if rapid is None:
            return False
        labeler = response.labeler_id
        state = self.labelers.get(labeler)
        if state is None:
            # the score the labeler came with (their audience's) is the prior
            state = self.labelers[labeler] = LabelerValidation(response.user_score)
        right = rapid.is_right(response.answer)
        score = self.scores[labeler] = state.add(right, rapid.chance)
        self.pending.append(
            ValidationAnswer(
                self.job_id,
                labeler,
                rapid.key,
                response.answer,
                right,
                rapid.chance,
                state.prior,
                score,
            )
        )
        return True

    def adjust(self, response: ResponseRecord) -> ResponseRecord:
        """The response carrying its labeler's score in this job (as is before their first
        validation answer)."""
        score = self.scores.get(response.labeler_id)
        if score is None or score == response.user_score:
            return response
        return _replace(response, user_score=score)

    def drain(self) -> list[ValidationAnswer]:
        pending, self.pending = self.pending, []
        return pending
