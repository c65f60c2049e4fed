"""The MRI values a caller passes in or gets back: tags, origins, prompts, samples, participants."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

import msgspec

from .._wire import mri as wire

LevelOfDetail = Literal["debug", "low", "medium", "high", "very high"]
"""Named response budgets of a leaderboard run (``level_of_detail``)."""

RESPONSE_BUDGETS: dict[str, int] = {
    "debug": 20,
    "low": 2000,
    "medium": 4000,
    "high": 8000,
    "very high": 16000,
}
"""``level_of_detail`` -> ``responseBudget``."""

ParticipantStatus = wire.ParticipantStatus
"""A participant's state: ``Created``, ``Submittable``, ``Submitted`` or ``Disabled``."""


class VoteAggregation(StrEnum):
    """How the votes on one matchup count: each vote (``ALL_VOTES``) or one majority result
    per matchup (``MAJORITY_VOTE``, the default). The values are the API's."""

    ALL_VOTES = "AllVotes"
    MAJORITY_VOTE = "MajorityVote"


class Tag(msgspec.Struct, frozen=True):
    """A tag of a benchmark prompt, used to filter standings; never shown to labelers.
    ``category`` optionally groups tags (``Tag("landscape", category="scene")``)."""

    value: str
    category: str | None = None


class Origin(msgspec.Struct, frozen=True):
    """Where a benchmark prompt came from (e.g. a source dataset)."""

    source: str


class BenchmarkPrompt(msgspec.Struct, frozen=True, kw_only=True):
    """One prompt of a benchmark: what ``add_prompts`` sends, and what a failure names."""

    identifier: str
    """Matches model outputs (samples) to this prompt."""
    prompt: str | None = None
    """The prompt text (segment ``prompt``)."""
    prompt_asset: tuple[str, ...] | None = None
    """Paths or URLs shown with the prompt (segment ``prompt_asset``; several: one multi-asset)."""
    tags: tuple[Tag, ...] = ()
    """Tags for filtering the standings."""
    origin: Origin | None = None
    """Where the prompt came from."""


class Sample(msgspec.Struct, frozen=True, kw_only=True):
    """One model output for one prompt (``POST /participant/{id}/sample``)."""

    identifier: str
    """The prompt's identifier."""
    asset: str
    """A path or URL (``data_type="media"``) or the text itself (``"text"``)."""
    data_type: Literal["media", "text"] = "media"
    """How ``asset`` is sent: uploaded media or a text asset."""
    index: int = 0
    """Position in the ``media`` list given to ``evaluate_model``."""


class Participant(msgspec.Struct, frozen=True, kw_only=True):
    """A model taking part in a benchmark (``GET /benchmark/{id}/participants``)."""

    id: str
    """The participant id."""
    name: str
    """The model's name."""
    benchmark_id: str
    """The benchmark it belongs to."""
    status: ParticipantStatus
    """``Created`` (samples coming), ``Submittable``, ``Submitted`` (in the matchups) or
    ``Disabled``."""
