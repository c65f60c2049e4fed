"""Closed sets of values in the public API, as ``Literal`` types for type checkers."""

from __future__ import annotations

from typing import Literal

DataType = Literal["media", "text"]
"""What the datapoints are: ``"media"`` (paths or URLs, uploaded) or ``"text"`` (shown as is)."""

JobState = Literal[
    "Submitted",
    "Running",
    "Completed",
    "Failed",
    "ManualApproval",
    "Queued",
    "Paused",
    "StaleResults",
    "SpendLimited",
    "Blocked",
]
"""The state of a job (``GET /job/{id}`` ``state``)."""

OrderState = Literal[
    "Created",
    "Preview",
    "Submitted",
    "ManualReview",
    "Queued",
    "Processing",
    "Paused",
    "Completed",
    "Cancelled",
    "Failed",
    "StaleResults",
]
"""The state of a legacy order (``GET /order/{id}`` ``state``)."""

AudienceStatus = Literal["Created", "Pending", "Recruiting", "Ready"]
"""The state of an audience: ``Created`` until recruiting starts, ``Ready`` once qualified."""

FlowItemState = Literal[
    "Pending", "Running", "Completed", "Failed", "Stopping", "Stopped", "Incomplete"
]
"""The state of a ranking flow item (``GET /flow/ranking/item/{id}`` ``state``): final once
``Completed``, ``Failed``, ``Stopped`` or ``Incomplete`` (time to live over, partial results)."""

RevisionState = Literal["Pending", "Completed", "Failed"]
"""The state of a job definition's revision."""

AgeGroupName = Literal["0-17", "18-29", "30-39", "40-49", "50-64", "65+"]
GenderName = Literal["Male", "Female", "Other"]
DeviceTypeName = Literal["Unknown", "Phone", "Tablet"]

__all__ = [
    "AgeGroupName",
    "AudienceStatus",
    "DataType",
    "DeviceTypeName",
    "FlowItemState",
    "GenderName",
    "JobState",
    "OrderState",
    "RevisionState",
]
