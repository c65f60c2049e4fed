"""``/validation-set``: validation sets, their rapids (asset, payload, truth) and listings."""

from __future__ import annotations

from datetime import datetime

from ._base import Tagged, WireModel
from .common import AssetInput, FeatureFlag


class CreateValidationSetInput(WireModel):
    name: str


class CreateValidationSetOutput(WireModel):
    validation_set_id: str


# -- rapid payloads and truths (the two kinds the SDK builds) ---------------------------------
class ComparePayload(Tagged, tag="ComparePayload"):
    """A comparison of the rapid's two assets by ``criteria`` (the instruction)."""

    criteria: str


class ClassifyPayloadCategory(WireModel):
    """An answer option; ``value`` (what answers and truths name) defaults to ``label``."""

    label: str
    value: str | None = None

    @property
    def key(self) -> str:
        return self.label if self.value is None else self.value


class ClassifyPayload(Tagged, tag="ClassifyPayload"):
    """A classification of the rapid's asset: ``title`` (the instruction) and its options."""

    title: str
    categories: list[ClassifyPayloadCategory]


RapidPayload = ComparePayload | ClassifyPayload


class CompareTruth(Tagged, tag="CompareTruth"):
    """The asset that should win: its uploaded file name, or the text of a text asset."""

    winner_id: str


class AttachCategoryTruth(Tagged, tag="AttachCategoryTruth"):
    """The categories (by value) that count as a correct answer."""

    correct_categories: list[str]


ValidationTruth = CompareTruth | AttachCategoryTruth


class AddValidationRapidInput(WireModel):
    """``POST /validation-set/{id}/rapid``: one validation task with its known answer."""

    asset: AssetInput
    payload: RapidPayload
    truth: ValidationTruth | None = None
    random_correct_probability: float | None = None
    explanation: str | None = None
    context: str | None = None
    context_asset: AssetInput | None = None
    feature_flags: list[FeatureFlag] | None = None


class UpdateValidationSetInput(WireModel):
    """``PATCH /validation-set/{id}``: only the fields sent change."""

    name: str | None = None
    dimensions: list[str] | None = None
    should_alert: bool | None = None
    is_public: bool | None = None
    is_flag_overruled: bool | None = None


class ValidationSetOutput(WireModel):
    """``GET /validation-set/{id}``."""

    id: str
    name: str
    is_public: bool
    owner_mail: str
    organization_id: str
    owner_id: str
    dimensions: list[str]
    created_at: datetime


class ValidationSetListItem(WireModel):
    """Items of ``GET /validation-sets`` (not in the contract subset; shaped as the 3.27.1
    client reads them)."""

    id: str
    name: str
    asset_type: list[str]
    modality: list[str]
    prompt_type: list[str]
    dimensions: list[str] | None
    is_public: bool
    owner_id: str
    owner_mail: str
    organization_id: str
    created_at: datetime
