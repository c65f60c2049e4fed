"""``/audience``: audiences, qualification examples, recruiting and the user funnel."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from ._base import Tagged, WireModel
from .common import AssetInput, FeatureFlag

AudienceStatus = Literal["Created", "Pending", "Recruiting", "Ready"]


# -- filters ----------------------------------------------------------------------------------
class CountryFilter(Tagged, tag="CountryFilter"):
    """Only labelers from these countries (``{"_t": "CountryFilter", "countries": [...]}``)."""

    countries: list[str]
    """ISO 3166-1 alpha-2 codes, e.g. ``["US", "DE"]``."""


class LanguageFilter(Tagged, tag="LanguageFilter"):
    """Only labelers who speak one of these languages."""

    languages: list[str]
    """ISO 639-1 codes, e.g. ``["en", "de"]``."""


class DemographicFilter(Tagged, tag="DemographicFilter"):
    """Only labelers whose demographic ``identifier`` (``age``, ``gender``, ``occupation``, …)
    has one of ``values``."""

    identifier: str
    """The demographic, e.g. ``"age"``."""
    values: list[str]
    """Accepted values, e.g. ``["18-29", "30-39"]``."""


class DeviceFilter(Tagged, tag="DeviceFilter"):
    """Only labelers on these device types."""

    device_types: list[str]
    """E.g. ``["Phone", "Tablet"]``."""


class AndFilter(Tagged, tag="AndFilter"):
    """Labelers who pass every one of ``filters``."""

    filters: list[AudienceFilter]
    """The filters combined."""


class OrFilter(Tagged, tag="OrFilter"):
    """Labelers who pass at least one of ``filters``."""

    filters: list[AudienceFilter]
    """The filters combined."""


class NotFilter(Tagged, tag="NotFilter"):
    """Labelers who do not pass ``filter``."""

    filter: AudienceFilter
    """The filter negated."""


AudienceFilter = (
    CountryFilter
    | LanguageFilter
    | DemographicFilter
    | DeviceFilter
    | AndFilter
    | OrFilter
    | NotFilter
)


# -- graduation rules -------------------------------------------------------------------------
class TaskAccuracyRule(Tagged, tag="TaskAccuracy"):
    target_accuracy: float
    min_tasks: int
    max_tasks: int | None = None


class ScoreThresholdRule(Tagged, tag="ScoreThreshold"):
    graduation_score: float
    demotion_score: float | None = None
    min_responses_to_graduate: int | None = None


GraduationRule = TaskAccuracyRule | ScoreThresholdRule


class CreateAudienceInput(WireModel):
    name: str
    description: str | None = None
    filters: list[AudienceFilter] | None = None
    graduation_rule: GraduationRule | None = None


class CreateAudienceOutput(WireModel):
    audience_id: str


class _AudienceCore(WireModel):
    """The fields ``GET /audience/{id}`` and the items of ``GET /audiences`` share."""

    id: str
    name: str
    status: AudienceStatus
    qualified_user_count: int
    filters: list[AudienceFilter]
    created_at: datetime
    owner_mail: str
    organization_id: str
    is_public: bool
    is_distilling: bool
    graduation_rule: GraduationRule
    description: str | None = None
    logo: str | None = None
    graduated: int = 0
    dropped: int = 0


class AudienceOutput(_AudienceCore, kw_only=True):
    """``GET /audience/{id}``."""

    base_audience_id: str
    owner_id: str
    distilling_campaign_id: str
    distilling_retrieval_mode: str
    boost_level: str


class AudienceListItem(_AudienceCore, kw_only=True):
    """Items of ``GET /audiences``."""

    is_shared: bool


# -- examples ---------------------------------------------------------------------------------
class CompareExamplePayload(Tagged, tag="CompareExamplePayload"):
    criteria: str


class ExampleCategory(WireModel):
    label: str
    value: str


class ClassifyExamplePayload(Tagged, tag="ClassifyExamplePayload"):
    title: str
    categories: list[ExampleCategory]


ExamplePayload = CompareExamplePayload | ClassifyExamplePayload


class CompareExampleTruth(Tagged, tag="CompareExampleTruth"):
    winner_id: str


class ClassifyExampleTruth(Tagged, tag="ClassifyExampleTruth"):
    correct_categories: list[str]


ExampleTruth = CompareExampleTruth | ClassifyExampleTruth


class AddExampleInput(WireModel):
    asset: AssetInput
    payload: ExamplePayload
    random_correct_probability: float
    truth: ExampleTruth | None = None
    explanation: str | None = None
    context: str | None = None
    context_asset: AssetInput | None = None
    sort_index: int | None = None
    feature_flags: list[FeatureFlag] | None = None
    flag_if_incorrect: bool | None = None


class AddExampleOutput(WireModel):
    recalculation_id: str | None = None


class UserMetricsOutput(WireModel):
    users_per_state: dict[str, int]
    capacity: Literal["None", "Low", "Sufficient"] | None  # 3.27.1: required, nullable


# -- examples as listed (GET /audience/{id}/examples; not in the contract subset, shaped as
# the 3.27.1 client reads it) -----------------------------------------------------------------
class FileAsset(Tagged, tag="FileAsset"):
    file_name: str
    identifier: str = ""
    metadata: dict[str, object] = msgspec.field(default_factory=dict)


class TextAsset(Tagged, tag="TextAsset"):
    text: str
    identifier: str = ""
    metadata: dict[str, object] = msgspec.field(default_factory=dict)


class MultiAsset(Tagged, tag="MultiAsset"):
    assets: list[AssetOutput]
    identifier: str = ""
    metadata: dict[str, object] = msgspec.field(default_factory=dict)


class NullAsset(Tagged, tag="NullAsset"):
    identifier: str = ""
    metadata: dict[str, object] = msgspec.field(default_factory=dict)


AssetOutput = FileAsset | TextAsset | MultiAsset | NullAsset


class ExampleOutput(WireModel):
    """One item of ``GET /audience/{id}/examples``."""

    id: str
    asset: AssetOutput
    payload: ExamplePayload
    correct_count: int
    incorrect_count: int
    truth: ExampleTruth | None = None
    rapid_id: str | None = None
    context: str | None = None
    context_asset: AssetOutput | None = None
    explanation: str | None = None
    random_correct_probability: float | None = None
    is_common_sense: bool | None = None
    flag_if_incorrect: bool | None = None
    sort_index: int | None = None
    visibility: Literal["Private", "Public"] | None = None
