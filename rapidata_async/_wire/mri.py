"""MRI: ``/benchmark…``, ``/benchmarks``, ``/leaderboard…``, ``/participant…`` (CALLS.md §9).

The 3.27.1 shapes: prompts carry ``segments`` (``prompt`` text, ``prompt_asset`` asset), and
participants are submitted in batches through ``POST /participants/submit``. The per-participant
``POST /participants/{id}/submit`` of the Aug-2026 spec has its answer here too.

Standings items may carry ``ciLow``, ``ciHigh``, ``rankLow``, ``rankHigh`` and ``battles``
beyond the contract: the local backend adds its bootstrap intervals and the vote counts there;
the hosted API leaves them out, so they default to ``None``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ._base import Tagged, WireModel
from .common import AssetInput, ExistingAssetInput, FeatureFlag

PromptSegmentKind = Literal["Text", "Asset"]
BenchmarkForkStatus = Literal["Ready", "Forking", "Failed"]
ParticipantStatus = Literal["Created", "Submittable", "Submitted", "Disabled"]
StandingStatus = Literal["Created", "Active", "Idle"]
VoteAggregation = Literal["AllVotes", "MajorityVote"]
ModelLicenseType = Literal["OpenSource", "Proprietary"]
CostUnit = Literal["UsdPerImage", "UsdPerVideoSecond", "UsdPerMillionTokens", "UsdPerSample"]
PromptTextLanguage = Literal["English", "Original"]

PROMPT_SEGMENT = "prompt"
"""Key of the prompt's text segment."""
PROMPT_ASSET_SEGMENT = "prompt_asset"
"""Key of the prompt's asset segment."""


# -- assets as the API answers them (IAsset) ---------------------------------------------------
class FileAssetOutput(Tagged, tag="FileAsset"):
    file_name: str
    metadata: dict[str, object]
    identifier: str


class TranslatedString(WireModel):
    english_text: str
    text: str
    target_language: str
    was_translated: bool | None = None


class TextAssetOutput(Tagged, tag="TextAsset"):
    text: str
    metadata: dict[str, object]
    identifier: str
    translated_text: TranslatedString | None = None


class MultiAssetOutput(Tagged, tag="MultiAsset"):
    assets: list[AssetOutput]
    metadata: dict[str, object]
    identifier: str


class NullAssetOutput(Tagged, tag="NullAsset"):
    metadata: dict[str, object]
    identifier: str


AssetOutput = FileAssetOutput | TextAssetOutput | MultiAssetOutput | NullAssetOutput


# -- benchmarks ---------------------------------------------------------------------------------
class PromptSegmentDefinition(WireModel):
    key: str
    kind: PromptSegmentKind
    label: str
    required: bool


class CreateBenchmarkInput(WireModel):
    """``POST /benchmark``; the SDK sends ``{"name"}`` only."""

    name: str
    description: str | None = None
    initial_boost_level: int | None = None
    min_assets_per_prompt: int | None = None
    score_shift: float | None = None
    score_scale: float | None = None
    prompt_structure: list[PromptSegmentDefinition] | None = None


class CreateBenchmarkOutput(WireModel):
    id: str


class BenchmarkOutput(WireModel):
    """``GET /benchmark/{benchmarkId}``."""

    id: str
    name: str
    description: str | None
    is_public: bool
    is_published: bool
    created_at: datetime
    initial_boost_level: int | None
    score_shift: float
    score_scale: float
    fork_status: BenchmarkForkStatus
    last_updated_at: datetime | None
    prompt_structure: list[PromptSegmentDefinition]
    publication_date: datetime | None = None
    owner_id: str | None = None
    owner_mail: str | None = None
    organization_id: str | None = None


class BenchmarkListItem(WireModel):
    """Items of ``GET /benchmarks``."""

    id: str
    name: str
    is_managed: bool
    is_public: bool
    is_published: bool
    created_at: datetime
    owner_mail: str
    organization_id: str
    last_updated_at: datetime | None
    publication_date: datetime | None = None


# -- prompts ------------------------------------------------------------------------------------
class Tag(WireModel):
    value: str
    category: str | None = None


class Origin(WireModel):
    source: str


class PromptSegmentInput(WireModel):
    key: str
    kind: PromptSegmentKind
    text: str | None = None
    asset: AssetInput | None = None


class CreatePromptInput(WireModel):
    """``POST /benchmark/{benchmarkId}/prompt``: 3.27.1 segments (``prompt``, ``prompt_asset``)."""

    identifier: str
    segments: list[PromptSegmentInput] | None = None
    tags: list[Tag] | None = None
    origin: Origin | None = None


class CreatePromptOutput(WireModel):
    id: str


class PromptSegment(WireModel):
    key: str
    kind: PromptSegmentKind
    original_text: str | None = None
    english_text: str | None = None
    asset: AssetOutput | None = None


class PromptOutput(WireModel):
    """Items of ``GET /benchmark/{benchmarkId}/prompts``."""

    id: str
    identifier: str
    segments: list[PromptSegment]
    created_at: datetime
    tags: list[Tag]
    english_prompt: str | None = None
    original_prompt: str | None = None
    origin: Origin | None = None


# -- leaderboards -------------------------------------------------------------------------------
class TextSegmentSource(WireModel):
    segment_key: str
    language: PromptTextLanguage


class AssetSegmentSource(WireModel):
    segment_keys: list[str]


class RapidContextProjection(WireModel):
    context: TextSegmentSource | None = None
    context_asset: AssetSegmentSource | None = None


class CreateLeaderboardInput(WireModel):
    """``POST /leaderboard``."""

    name: str
    instruction: str
    show_prompt: bool
    benchmark_id: str | None = None
    benchmark_name: str | None = None
    benchmark_description: str | None = None
    display_instruction: str | None = None
    show_prompt_asset: bool | None = None
    rapid_context_projection: RapidContextProjection | None = None
    response_budget: int | None = None
    min_responses: int | None = None
    is_inversed: bool | None = None
    audience_id: str | None = None
    priority: int | None = None
    weight: float | None = None
    score_shift: float | None = None
    score_scale: float | None = None
    is_hidden: bool | None = None
    is_excluded_from_overall: bool | None = None
    vote_aggregation: VoteAggregation | None = None
    included_tags: list[str] | None = None
    excluded_tags: list[str] | None = None
    feature_flags: list[FeatureFlag] | None = None
    skip_initial_run: bool | None = None


class CreateLeaderboardOutput(WireModel):
    id: str
    benchmark_id: str
    show_prompt: bool
    show_prompt_asset: bool
    response_budget: int
    min_responses: int
    is_inversed: bool
    vote_aggregation: VoteAggregation


class LeaderboardOutput(WireModel):
    """Items of ``GET /benchmark/{benchmarkId}/leaderboards``."""

    id: str
    name: str
    instruction: str
    show_prompt: bool
    show_prompt_asset: bool
    is_inversed: bool
    response_budget: int
    min_responses: int
    audience_id: str
    feature_flags: list[FeatureFlag]
    weight: float
    score_shift: float
    score_scale: float
    is_hidden: bool
    is_excluded_from_overall: bool
    included_tags: list[str]
    excluded_tags: list[str]
    last_updated_at: datetime | None
    display_instruction: str | None = None
    job_definition_id: str | None = None


class ConfidenceInterval(WireModel):
    lower_offset: float
    upper_offset: float


class StandingItem(WireModel):
    """Items of ``GET /leaderboard/{leaderboardId}/standings/query``.

    ``ci_low``…``battles`` are the local backend's additions (absent from the hosted API):
    the score's 95% interval, the rank's interval and the number of matchups decided.
    """

    id: str
    name: str
    status: StandingStatus
    score: float | None
    wins: float
    total_matches: float
    response_count: int
    is_disabled: bool
    family: str | None = None
    lab: str | None = None
    proprietary_name: str | None = None
    license_type: ModelLicenseType | None = None
    cost: float | None = None
    cost_unit: CostUnit | None = None
    logo: str | None = None
    confidence_interval: ConfidenceInterval | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    rank_low: int | None = None
    rank_high: int | None = None
    battles: int | None = None


class StandingsOutput(WireModel):
    """``GET /leaderboard/{leaderboardId}/standings/query``."""

    items: list[StandingItem]
    total_responses: int


# -- participants and samples -------------------------------------------------------------------
class CreateParticipantInput(WireModel):
    """``POST /benchmark/{benchmarkId}/participants``; the SDK sends ``{"name"}``."""

    name: str
    family: str | None = None
    lab: str | None = None
    proprietary_name: str | None = None
    license_type: ModelLicenseType | None = None
    cost: float | None = None
    cost_unit: CostUnit | None = None
    logo: ExistingAssetInput | None = None


class CreateParticipantOutput(WireModel):
    participant_id: str
    dataset_id: str


class ParticipantOutput(WireModel):
    """Items of ``GET /benchmark/{benchmarkId}/participants``."""

    id: str
    name: str
    benchmark_id: str
    status: ParticipantStatus
    votes_excluded: bool
    created_at: datetime
    family: str | None = None
    lab: str | None = None
    proprietary_name: str | None = None
    license_type: ModelLicenseType | None = None
    cost: float | None = None
    cost_unit: CostUnit | None = None
    logo: str | None = None


class CreateSampleInput(WireModel):
    """``POST /participant/{participantId}/sample``: one model output for one prompt."""

    identifier: str
    asset: AssetInput
    cost: float | None = None


class CreateSampleOutput(WireModel):
    id: str


class SampleOutput(Tagged, tag="SampleOutput"):
    """A sample of ``GET /participant/{participantId}/samples``."""

    id: str
    identifier: str
    asset: AssetOutput
    tags: list[str]
    english_prompt: str | None = None
    original_prompt: str | None = None
    prompt_asset: AssetOutput | None = None
    created_at: datetime | None = None
    votes_excluded: bool | None = None
    owner_id: str | None = None
    owner_mail: str | None = None
    organization_id: str | None = None


class PlaceholderSampleOutput(Tagged, tag="PlaceholderSampleOutput"):
    """A prompt without a sample (``fillMissing=true``)."""

    identifier: str
    tags: list[str]
    english_prompt: str | None = None
    original_prompt: str | None = None
    prompt_asset: AssetOutput | None = None


SampleListItem = SampleOutput | PlaceholderSampleOutput


class SubmitParticipantsInput(WireModel):
    """``POST /participants/submit`` (3.27.1, batch)."""

    participant_ids: list[str]


class UnderfilledPrompt(WireModel):
    identifier: str
    asset_count: int


class ParticipantUnderfilledPrompts(WireModel):
    participant_id: str
    underfilled_prompts: list[UnderfilledPrompt]


class BatchMinAssetsPerPromptWarning(WireModel):
    min_assets_per_prompt: int
    underfilled_participants: list[ParticipantUnderfilledPrompts]


class SubmitParticipantsOutput(WireModel):
    valid_datapoints: int
    invalid_datapoints: int
    min_assets_per_prompt_warning: BatchMinAssetsPerPromptWarning | None = None


class MinAssetsPerPromptWarning(WireModel):
    min_assets_per_prompt: int
    underfilled_prompts: list[UnderfilledPrompt]


class SubmitParticipantOutput(WireModel):
    """``POST /participants/{participantId}/submit`` (Aug-2026 spec, one participant)."""

    valid_datapoints: int
    invalid_datapoints: int
    min_assets_per_prompt_warning: MinAssetsPerPromptWarning | None = None
