"""MRI: benchmarks of models, their prompts and samples, and the leaderboards ranking them."""

from ._benchmark import RapidataBenchmark
from ._leaderboard import RapidataLeaderboard, Standing, Standings
from ._manager import RapidataBenchmarkManager
from ._types import (
    BenchmarkPrompt,
    LevelOfDetail,
    Origin,
    Participant,
    ParticipantStatus,
    Sample,
    Tag,
    VoteAggregation,
)

__all__ = [
    "BenchmarkPrompt",
    "LevelOfDetail",
    "Origin",
    "Participant",
    "ParticipantStatus",
    "RapidataBenchmark",
    "RapidataBenchmarkManager",
    "RapidataLeaderboard",
    "Sample",
    "Standing",
    "Standings",
    "Tag",
    "VoteAggregation",
]
