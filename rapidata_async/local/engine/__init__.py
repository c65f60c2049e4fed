"""The job engine: leased runs of jobs and recruiting, responses one at a time through the
referee, persisted in batches."""

from ._engine import CROWD_MODES, Engine
from ._leaderboards import LeaderboardSessions

__all__ = ["CROWD_MODES", "Engine", "LeaderboardSessions"]
