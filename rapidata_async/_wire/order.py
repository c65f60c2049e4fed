"""``/order``: the legacy orders of SDK 3.20.1 (Aug-2026 shapes, CALLS.md section 10).

An order bundles what a job definition and a job on the global audience say today: the
workflow (the Aug-2026 ``blueprint`` form; the 3.27.1 ``rapid`` form is accepted too), the
referee, user filters, a validation set and selections. ``POST /order`` answers the dataset to
fill; ``POST /order/{id}/submit`` starts it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ._base import Tagged, WireModel
from .common import FeatureFlag
from .job import Referee, Workflow

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
"""``OrderState`` of the API (the SDK's public copy is ``rapidata_async.OrderState``)."""
AgeGroupValue = Literal["0-17", "18-29", "30-39", "40-49", "50-64", "65+"]
GenderValue = Literal["Male", "Female", "Other"]
DeviceTypeValue = Literal["Unknown", "Phone", "Tablet"]
ComparisonOperator = Literal[
    "Equal", "NotEqual", "LessThan", "LessThanOrEqual", "GreaterThan", "GreaterThanOrEqual"
]
RetrievalMode = Literal["Random", "Shuffled", "Sequential"]


# -- user filters (IUserFilter): who may answer an order ---------------------------------------
class AgeUserFilter(Tagged, tag="AgeFilter"):
    age_groups: list[AgeGroupValue]


class GenderUserFilter(Tagged, tag="GenderFilter"):
    genders: list[GenderValue]


class CountryUserFilter(Tagged, tag="CountryFilter"):
    countries: list[str]


class LanguageUserFilter(Tagged, tag="LanguageFilter"):
    languages: list[str]


class DeviceUserFilter(Tagged, tag="DeviceFilter"):
    device_types: list[DeviceTypeValue]


class CustomUserFilter(Tagged, tag="CustomFilter"):
    identifier: str
    values: list[str]


class NewUserFilter(Tagged, tag="NewUserFilter"):
    pass


class UserScoreUserFilter(Tagged, tag="UserScoreFilter"):
    lowerbound: float | None = None
    upperbound: float | None = None
    dimension: str | None = None


class ResponseCountUserFilter(Tagged, tag="ResponseCountFilter"):
    response_count: int
    dimension: str
    operator: ComparisonOperator


class CampaignUserFilter(Tagged, tag="CampaignFilter"):
    campaign_ids: list[str]


class AndUserFilter(Tagged, tag="AndFilter"):
    filters: list[UserFilter]


class OrUserFilter(Tagged, tag="OrFilter"):
    filters: list[UserFilter]


class NotUserFilter(Tagged, tag="NotFilter"):
    filter: UserFilter


UserFilter = (
    AgeUserFilter
    | GenderUserFilter
    | CountryUserFilter
    | LanguageUserFilter
    | DeviceUserFilter
    | CustomUserFilter
    | NewUserFilter
    | UserScoreUserFilter
    | ResponseCountUserFilter
    | CampaignUserFilter
    | AndUserFilter
    | OrUserFilter
    | NotUserFilter
)


# -- selections (ISelection): which tasks a labeler's session shows -----------------------------
class LabelingSelection(Tagged, tag="LabelingSelection"):
    amount: int | None = None
    effort_budget: int | None = None
    retrieval_mode: RetrievalMode | None = None
    max_iterations: int | None = None


class ValidationSelection(Tagged, tag="ValidationSelection"):
    amount: int
    validation_set_id: str


class CappedSelection(Tagged, tag="CappedSelection"):
    selections: list[Selection]
    max_rapids: int


class ShufflingSelection(Tagged, tag="ShufflingSelection"):
    selections: list[Selection]


Selection = LabelingSelection | ValidationSelection | CappedSelection | ShufflingSelection


class StickyConfig(WireModel):
    is_enabled: bool | None = None
    dimension: str | None = None
    bypass_filters: bool | None = None
    bypass_priority_selection: bool | None = None
    block_other_sticky_campaigns: bool | None = None
    clear_on_pause: bool | None = None


# -- the calls --------------------------------------------------------------------------------
class CreateOrderInput(WireModel):
    """``POST /order`` (``CreateOrder``)."""

    order_name: str
    workflow: Workflow
    referee: Referee
    aggregator: str | None = None
    rapid_feature_flags: list[FeatureFlag] | None = None
    campaign_feature_flags: list[FeatureFlag] | None = None
    priority: int | None = None
    sticky_config: StickyConfig | None = None
    user_score_dimensions: list[str] | None = None
    demographic_keys: list[str] | None = None
    user_filters: list[UserFilter] | None = None
    validation_set_id: str | None = None
    selections: list[Selection] | None = None
    retrieval_mode: RetrievalMode | None = None
    max_iterations: int | None = None
    preceding_order_id: str | None = None


class CreateOrderOutput(WireModel):
    order_id: str
    pipeline_id: str
    dataset_id: str | None = None
    campaign_id: str | None = None


class UpdateOrderInput(WireModel):
    """``PATCH /order/{id}``: only what is given changes (``precedingOrderId: null`` clears)."""

    name: str | None = None
    preceding_order_id: str | None = None


class SubmitOrderInput(WireModel):
    """Body of ``POST /order/{id}/submit`` and ``/preview`` (both optional)."""

    ignore_failed_datapoints: bool | None = None


class OrderOutput(WireModel):
    """``GET /order/{id}``."""

    order_name: str
    customer_mail: str
    order_date: datetime
    state: OrderState
    pipeline_id: str
    is_locked: bool
    is_public: bool
    failure_message: str | None = None


class OrderListItem(WireModel):
    """Items of ``GET /orders``."""

    id: str
    pipeline_id: str
    order_date: datetime | None
    customer_mail: str
    state: OrderState
    order_name: str
    is_public: bool
    failure_message: str | None = None
