"""The job engine: leased runs of jobs and recruiting, responses one at a time through the
referee, persisted in batches."""

from ._engine import Engine

__all__ = ["Engine"]
