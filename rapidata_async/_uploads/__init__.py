"""The upload pipeline: assets (files, URL batches) then datapoints, concurrently and bounded."""

from ._pipeline import UploadOutcome, upload_datapoints

__all__ = ["UploadOutcome", "upload_datapoints"]
