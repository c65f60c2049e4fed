"""``/flow``: ranking flows, their items (batches), results and vote matrices (3.27.1 shapes).

A flow is a standing ranking task; each ``POST /flow/ranking/{flowId}/item`` hands it one dataset
to rank, and the item runs until its time to live ends or enough responses arrived.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from ._base import Tagged, WireModel
from .common import AssetInput, FeatureFlag
from .job import ClassifyCategory

FlowType = Literal["Ranking", "Simple"]
FlowItemState = Literal[
    "Pending", "Running", "Completed", "Failed", "Stopping", "Stopped", "Incomplete"
]
PidBatchMode = Literal["Total", "PerBatch", "PerBatchTimeWeighted"]
FileType = Literal["Unknown", "Image", "Video", "Audio"]


# -- asset metadata and assets as the API reports them (IMetadata, IAsset) ----------------------
class ClassificationMetadata(Tagged, tag="ClassificationMetadata"):
    classification: str


class CountMetadata(Tagged, tag="CountMetadata"):
    count: int


class FileTypeMetadata(Tagged, tag="FileTypeMetadata"):
    file_type: FileType


class ImageDimensionMetadata(Tagged, tag="ImageDimensionMetadata"):
    height: int | None = None
    width: int | None = None


class LocationMetadata(Tagged, tag="LocationMetadata"):
    x: float
    y: float


class OriginalFilenameMetadata(Tagged, tag="OriginalFilenameMetadata"):
    original_filename: str


class SourceUrlMetadata(Tagged, tag="SourceUrlMetadataModel"):
    url: str


class StreamsMetadata(Tagged, tag="StreamsMetadata"):
    has_video: bool
    has_audio: bool
    has_subtitles: bool


class TextMetadata(Tagged, tag="TextMetadata"):
    text: str | None


class VideoDurationMetadata(Tagged, tag="VideoDurationMetadata"):
    duration: str


Metadata = (
    ClassificationMetadata
    | CountMetadata
    | FileTypeMetadata
    | ImageDimensionMetadata
    | LocationMetadata
    | OriginalFilenameMetadata
    | SourceUrlMetadata
    | StreamsMetadata
    | TextMetadata
    | VideoDurationMetadata
)
"""One entry of an asset's ``metadata`` map; the map's keys name them (``sourceUrl``,
``originalFilename``, …)."""


class FileAsset(Tagged, tag="FileAsset"):
    file_name: str
    metadata: dict[str, Metadata]
    identifier: str


class TextAsset(Tagged, tag="TextAsset"):
    text: str
    metadata: dict[str, Metadata]
    identifier: str


class MultiAsset(Tagged, tag="MultiAsset"):
    assets: list[Asset]
    metadata: dict[str, Metadata]
    identifier: str


class NullAsset(Tagged, tag="NullAsset"):
    metadata: dict[str, Metadata]
    identifier: str


Asset = FileAsset | TextAsset | MultiAsset | NullAsset
"""``IAsset``: an asset as the API reports it (results, flow items)."""


# -- flows ---------------------------------------------------------------------------------------
class CreateFlowInput(WireModel):
    """``POST /flow/ranking``. The 3.27.1 client sets ``name``, ``criteria``,
    ``validationSetId``, ``minResponses``, ``maxResponses``, ``featureFlags``,
    ``drainDurationSeconds`` and ``serveTimeoutSeconds``; unset ones are ``null`` or absent."""

    name: str
    criteria: str
    audience_id: str | None = None
    validation_set_id: str | None = None
    starting_elo: int | None = None
    min_responses: int | None = None
    max_responses: int | None = None
    serve_responses: int | None = None
    serve_to_response_ratio: float | None = None
    serve_timeout_seconds: int | None = None
    feature_flags: list[FeatureFlag] | None = None
    target_response_count: int | None = None
    drain_duration_seconds: int | None = None


class CreateFlowOutput(WireModel):
    flow_id: str


class UpdateConfigInput(WireModel):
    """``PATCH /flow/ranking/{flowId}`` (3.27.1; the Aug-2026 spec had ``…/config``): only the
    fields sent change. The nullable ones distinguish absent (keep, ``UNSET``) from ``null``
    (reset to the default)."""

    criteria: str | None = None
    starting_elo: int | None = None
    min_responses: int | None = None
    max_responses: int | None = None
    feature_flags: list[FeatureFlag] | None = None
    audience_id: str | msgspec.UnsetType | None = msgspec.UNSET
    serve_responses: int | msgspec.UnsetType | None = msgspec.UNSET
    serve_to_response_ratio: float | msgspec.UnsetType | None = msgspec.UNSET
    serve_timeout_seconds: int | msgspec.UnsetType | None = msgspec.UNSET
    drain_duration_seconds: int | msgspec.UnsetType | None = msgspec.UNSET
    target_response_count: int | msgspec.UnsetType | None = msgspec.UNSET


class _FlowCore(Tagged):
    """Fields every ``IFlow`` variant carries (all required in 3.27.1)."""

    id: str
    name: str
    campaign_id: str
    flow_item_count: int
    target_response_count: int | None
    pid_proportional_gain: float
    pid_integral_gain: float
    pid_derivative_gain: float
    pid_output_offset: float
    pid_min_sessions_per_minute: int
    pid_max_sessions_per_minute: int
    pid_batch_mode: PidBatchMode
    serve_timeout_seconds: int | None
    drain_duration_seconds: int | None
    serve_to_response_ratio: float | None
    min_responses: int
    feature_flags: list[FeatureFlag]
    owner_id: str
    owner_mail: str
    organization_id: str
    created_at: datetime


class RankingFlowOutput(_FlowCore, tag="RankingFlow", kw_only=True):
    """``GET /flow/{flowId}`` for a ranking flow."""

    criteria: str | None
    starting_elo: int
    max_responses: int | None
    serve_responses: int | None


class FlowClassifyBlueprint(Tagged, tag="ClassifyBlueprint"):
    """The rapid every item of a classify flow generates."""

    title: str
    categories: list[ClassifyCategory]


class SimpleFlowOutput(_FlowCore, tag="SimpleFlow", kw_only=True):
    """``GET /flow/{flowId}`` for a classify flow (3.27.1, outside the docs)."""

    blueprint: FlowClassifyBlueprint
    max_responses: int


FlowOutput = RankingFlowOutput | SimpleFlowOutput
"""``IFlow``, tagged by ``_t``."""


class FlowListItem(WireModel):
    """Items of ``GET /flow``."""

    id: str
    name: str
    type: FlowType
    owner_id: str
    owner_mail: str
    organization_id: str
    created_at: datetime


# -- flow items ----------------------------------------------------------------------------------
class CreateFlowItemInput(WireModel):
    """``POST /flow/ranking/{flowId}/item``: rank the datapoints of ``datasetId``."""

    dataset_id: str
    context: str | None = None
    context_asset: AssetInput | None = None
    time_to_live_in_seconds: int | None = None
    drain_duration_in_seconds: int | None = None


class CreateFlowItemOutput(WireModel):
    flow_item_id: str


class _FlowItemCore(WireModel):
    id: str
    dataset_id: str
    state: FlowItemState
    created_at: datetime
    workflow_id: str | None = None
    context: str | None = None
    context_asset: Asset | None = None
    failure_message: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    failed_at: datetime | None = None


class FlowItemOutput(_FlowItemCore, kw_only=True):
    """``GET /flow/ranking/item/{flowItemId}``."""

    flow_id: str
    expires_at: datetime | None = None


class FlowItemListItem(_FlowItemCore, kw_only=True):
    """Items of ``GET /flow/ranking/{flowId}/item``."""


class RankingDatapointResult(WireModel):
    """One datapoint of ``GET /flow/ranking/item/{flowItemId}/results``.

    ``ciLow``/``ciHigh`` (Elo confidence interval), ``rankLow``/``rankHigh`` (rank interval) and
    ``battles`` (comparisons it took part in) are sent by the local backend only; the Rapidata
    API leaves them out."""

    id: str
    asset: Asset
    elo: int
    ci_low: float | None = None
    ci_high: float | None = None
    rank_low: int | None = None
    rank_high: int | None = None
    battles: int | None = None


class RankingResultsOutput(WireModel):
    """``GET /flow/ranking/item/{flowItemId}/results`` (409 while the item still runs)."""

    datapoints: list[RankingDatapointResult]
    total_votes: int


class VoteMatrixOutput(WireModel):
    """``GET /flow/ranking/item/{flowItemId}/vote-matrix``: ``data[i][j]`` = how often row ``i``
    was preferred over column ``j``."""

    index: list[str]
    columns: list[str]
    data: list[list[float]]
