"""``/asset``: single uploads (file, URL) and URL batch uploads."""

from __future__ import annotations

from typing import Literal

from ._base import WireModel

BatchUploadStatus = Literal["Processing", "Completed", "Aborted"]
BatchUploadUrlStatus = Literal["Pending", "Completed", "Failed"]


class UploadOutput(WireModel):
    """Answer of ``POST /asset/file`` and ``POST /asset/url``."""

    file_name: str
    warnings: list[str]
    was_compressed: bool
    original_size_bytes: int | None = None
    final_size_bytes: int | None = None


class CompressionOverride(WireModel):
    enabled: bool | None = None
    quality: int | None = None
    max_dimension: int | None = None


class CreateBatchUploadInput(WireModel):
    urls: list[str]
    correlation_id: str | None = None
    compression: CompressionOverride | None = None


class CreateBatchUploadOutput(WireModel):
    batch_upload_id: str


class BatchUploadStatusOutput(WireModel):
    status: BatchUploadStatus
    total_count: int
    completed_count: int
    failed_count: int
    completed_batches: list[str]


class BatchUploadUrlOutput(WireModel):
    url: str
    status: BatchUploadUrlStatus
    file_name: str | None = None
    warnings: list[str] = []
    error_message: str | None = None
    stage: str | None = None
    upstream_http_status: int | None = None


class BatchUploadResultOutput(WireModel):
    batch_upload_id: str
    status: BatchUploadStatus
    total_count: int
    completed_count: int
    failed_count: int
    items: list[BatchUploadUrlOutput]
