"""``/job``: job definitions (workflow, referee, revisions), jobs, progress."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ._base import Tagged, WireModel
from .common import FeatureFlag

AudienceJobState = Literal[
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
LabelingState = Literal["Created", "Started", "Labeling", "Paused", "Done", "Failed"]
DefinitionType = Literal["Compare", "Classify"]


# -- bindings of the 3.27.1 rapid specs -------------------------------------------------------
class TextBinding(WireModel):
    literal: str | None = None
    segment: str | None = None
    language: str | None = None


class AssetBinding(WireModel):
    segment: str


class OptionsBindingOption(WireModel):
    label: str
    value: str


class OptionsBinding(WireModel):
    literal: list[OptionsBindingOption] | None = None
    segment: str | None = None


class CompareRapid(Tagged, tag="Compare"):
    asset: AssetBinding
    criteria: TextBinding
    context: TextBinding | None = None
    context_assets: list[AssetBinding] | None = None
    index_identifiers: list[str] | None = None


class ClassifyRapid(Tagged, tag="Classify"):
    asset: AssetBinding
    title: TextBinding
    categories: OptionsBinding
    context: TextBinding | None = None
    context_assets: list[AssetBinding] | None = None


RapidSpec = CompareRapid | ClassifyRapid


# -- blueprints of the Aug-2026 spec (3.20.1 orders) ------------------------------------------
class CompareBlueprint(Tagged, tag="CompareBlueprint"):
    criteria: str
    index_identifiers: list[str] | None = None


class ClassifyCategory(WireModel):
    label: str
    value: str


class ClassifyBlueprint(Tagged, tag="ClassifyBlueprint"):
    title: str
    categories: list[ClassifyCategory]
    possible_categories: list[str] | None = None


Blueprint = CompareBlueprint | ClassifyBlueprint


class SimpleWorkflow(Tagged, tag="SimpleWorkflow"):
    rapid: RapidSpec | None = None
    blueprint: Blueprint | None = None
    batch_size: int | None = None
    feature_flags: list[FeatureFlag] | None = None


Workflow = SimpleWorkflow


class NaiveReferee(Tagged, tag="NaiveReferee"):
    total_votes: int


class EarlyStoppingReferee(Tagged, tag="EarlyStoppingReferee"):
    max_votes: int
    threshold: float


class QuorumReferee(Tagged, tag="QuorumReferee"):
    """Stop a datapoint once ``threshold`` responses agree, at most ``max_votes``."""

    max_votes: int
    threshold: int


Referee = NaiveReferee | EarlyStoppingReferee | QuorumReferee


class CreateJobDefinitionInput(WireModel):
    definition_name: str
    workflow: Workflow
    referee: Referee
    dataset_id: str
    rapid_feature_flags: list[FeatureFlag] | None = None
    campaign_feature_flags: list[FeatureFlag] | None = None
    aggregator_type: str | None = None


class CreateJobDefinitionOutput(WireModel):
    definition_id: str
    pipeline_id: str


class _DefinitionCore(WireModel):
    definition_id: str
    name: str
    definition_type: str
    created_at: datetime
    owner_id: str
    owner_mail: str
    organization_id: str


class JobDefinitionOutput(_DefinitionCore, kw_only=True):
    """``GET /job/definition/{id}``."""

    is_public: bool


class JobDefinitionListItem(_DefinitionCore, kw_only=True):
    """Items of ``GET /job/definitions``."""

    revision_count: int


class JobRevisionOutput(WireModel):
    definition_id: str
    revision_number: int
    state: Literal["Pending", "Completed", "Failed"]
    pipeline_id: str
    dataset_id: str
    workflow: Workflow
    referee: Referee
    feature_flags: list[FeatureFlag]
    campaign_feature_flags: list[FeatureFlag]
    created_at: datetime
    created_by_id: str
    created_by_mail: str
    aggregator_type: str | None = None
    validation_set_id: str | None = None
    base_revision_number: int | None = None


class CreateJobInput(WireModel):
    job_definition_id: str
    audience_id: str
    revision_number: int | None = None
    name: str | None = None
    priority: int | None = None
    preceding_job_id: str | None = None
    notify_owner_on_completion: bool | None = None
    check_for_explicit_content: bool | None = None
    experiment_id: str | None = None


class CostWarning(WireModel):
    estimated_cost: float
    available_balance: float
    shortfall: float


class CreateJobOutput(WireModel):
    job_id: str
    recruiting_started: bool
    content_check_skip_denied: bool = False
    experiment_id: str | None = None
    cost_warning: CostWarning | None = None


class JobOutput(WireModel):
    """``GET /job/{id}``."""

    job_id: str
    name: str
    definition_id: str
    audience_id: str
    revision_number: int
    pipeline_id: str
    state: AudienceJobState
    created_at: datetime
    owner_id: str
    owner_mail: str
    organization_id: str
    is_public: bool
    audience_deleted: bool
    audience_name: str | None = None
    campaign_id: str | None = None
    completed_at: datetime | None = None
    failed_at: datetime | None = None
    failure_message: str | None = None
    review_reason: str | None = None
    experiment_id: str | None = None


class JobListItem(WireModel):
    """Items of ``GET /jobs``."""

    job_id: str
    name: str
    job_definition_id: str
    audience_id: str
    revision_number: int
    pipeline_id: str
    state: AudienceJobState
    owner_mail: str
    organization_id: str
    created_at: datetime
    is_shared: bool
    progress: float | None = None
    campaign_id: str | None = None


class JobProgressOutput(WireModel):
    completion_percentage: float
    total: int
    completed: int
    state: LabelingState
    response_count: int
