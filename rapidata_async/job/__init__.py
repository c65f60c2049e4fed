"""Job definitions, jobs and their datasets."""

from ._dataset import RapidataDataset
from ._definition import JobDefinition, JobRevision
from ._job import Job, JobProgress
from ._manager import JobManager

__all__ = ["Job", "JobDefinition", "JobManager", "JobProgress", "JobRevision", "RapidataDataset"]
