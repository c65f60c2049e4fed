"""Structs shared across services: assets, feature flags, pages, ProblemDetails."""

from __future__ import annotations

from typing import Generic, TypeVar

import msgspec

from ._base import Tagged, WireModel

T = TypeVar("T")


class ExistingAssetInput(Tagged, tag="ExistingAssetInput"):
    name: str
    identifier: str | None = None


class TextAssetInput(Tagged, tag="TextAssetInput"):
    text: str
    identifier: str | None = None


class MultiAssetInput(Tagged, tag="MultiAssetInput"):
    assets: list[AssetInput]
    identifier: str | None = None


AssetInput = ExistingAssetInput | TextAssetInput | MultiAssetInput


class FeatureFlag(WireModel):
    key: str
    value: str


class Page(WireModel, Generic[T]):
    """``{"items", "total", "page", "pageSize", "totalPages"}``: one page of a listing."""

    items: list[T]
    total: int
    page: int
    page_size: int
    total_pages: int = 0


class ProblemDetails(WireModel):
    """ASP.NET ProblemDetails, the error body of every non-2xx answer."""

    type: str | None = None
    title: str | None = None
    status: int | None = None
    detail: str | None = None
    errors: dict[str, list[str]] | None = None
    trace_id: str | None = None
    message: str | None = None
    error: str | None = None
    stage: str | None = None
    upstream_http_status: int | None = None


problem_decoder = msgspec.json.Decoder(ProblemDetails)
