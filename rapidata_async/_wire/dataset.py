"""``/dataset``: datasets and their datapoints (segment shape of 3.27.1, flat shape of Aug 2026)."""

from __future__ import annotations

from typing import Literal

from ._base import WireModel
from .common import AssetInput

SegmentKind = Literal["Text", "Asset", "OptionList"]


class DatasetSegmentDefinition(WireModel):
    key: str
    kind: SegmentKind
    required: bool
    label: str | None = None
    max_length: int | None = None


class CreateDatasetInput(WireModel):
    name: str
    schema: list[DatasetSegmentDefinition] | None = None


class CreateDatasetOutput(WireModel):
    dataset_id: str


class SegmentOption(WireModel):
    label: str
    value: str


class DatasetSegmentInput(WireModel):
    key: str
    kind: SegmentKind
    text: str | None = None
    asset: AssetInput | None = None
    options: list[SegmentOption] | None = None


class CreateDatapointInput(WireModel):
    """A datapoint. 3.27.1 sends ``segments``; older clients the flat ``asset``/``context``."""

    segments: list[DatasetSegmentInput] | None = None
    sort_index: int | None = None
    group: str | None = None
    private_metadata: dict[str, str] | None = None
    # Aug-2026 flat shape
    asset: AssetInput | None = None
    context: str | None = None
    context_asset: AssetInput | None = None
    transcription: str | None = None


class CreateDatapointOutput(WireModel):
    datapoint_id: str


class ShortenContextItem(WireModel):
    context: str
    question: str


class ShortenContextInput(WireModel):
    items: list[ShortenContextItem]


class ShortenedContext(WireModel):
    shortened_context: str


class ShortenContextOutput(WireModel):
    items: list[ShortenedContext]
