"""The upload pipeline: assets (files, URL batches) then datapoints, concurrently and bounded."""

from ._pipeline import UploadOutcome, run_uploads, upload_datapoints
from ._progress import UploadProgress, UploadTracker

__all__ = ["UploadOutcome", "UploadProgress", "UploadTracker", "run_uploads", "upload_datapoints"]
