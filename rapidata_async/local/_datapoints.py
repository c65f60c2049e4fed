"""Reading datapoints in both wire shapes: 3.27.1 ``segments`` and the Aug-2026 flat fields.

The store uses ``asset_refs``/``check_schema`` to validate a datapoint before inserting it. How
a job definition's rapid (or legacy blueprint) sees a datapoint (``view``, ``rapid_of``) is a
domain rule in ``domain.tasks``, re-exported here for the store and the pages.
"""

from __future__ import annotations

from .._wire import dataset as dwire
from .._wire.common import AssetInput, ExistingAssetInput, MultiAssetInput
from .domain.errors import Invalid
from .domain.tasks import (
    DEFAULT_ASSET,
    DEFAULT_CONTEXT,
    DEFAULT_CONTEXT_ASSET,
    DEFAULT_OPTIONS,
    DatapointView,
    Rapid,
    asset_label,
    asset_labels,
    rapid_of,
    view,
)

__all__ = [
    "DEFAULT_ASSET",
    "DEFAULT_CONTEXT",
    "DEFAULT_CONTEXT_ASSET",
    "DEFAULT_OPTIONS",
    "DatapointView",
    "Rapid",
    "asset_label",
    "asset_labels",
    "asset_refs",
    "check_schema",
    "check_shape",
    "example_asset_refs",
    "rapid_of",
    "view",
]


def _existing_names(asset: AssetInput, path: str, out: list[tuple[str, str]]) -> None:
    if isinstance(asset, ExistingAssetInput):
        out.append((path, asset.name))
    elif isinstance(asset, MultiAssetInput):
        for i, inner in enumerate(asset.assets):
            _existing_names(inner, f"{path}.assets[{i}]", out)


def asset_refs(body: dwire.CreateDatapointInput) -> list[tuple[str, str]]:
    """``(field path, asset name)`` of every ExistingAssetInput the datapoint references."""
    out: list[tuple[str, str]] = []
    for i, seg in enumerate(body.segments or ()):
        if seg.asset is not None:
            _existing_names(seg.asset, f"segments[{i}].asset", out)
    if body.asset is not None:
        _existing_names(body.asset, "asset", out)
    if body.context_asset is not None:
        _existing_names(body.context_asset, "contextAsset", out)
    return out


def example_asset_refs(
    asset: AssetInput, context_asset: AssetInput | None
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    _existing_names(asset, "asset", out)
    if context_asset is not None:
        _existing_names(context_asset, "contextAsset", out)
    return out


def check_shape(body: dwire.CreateDatapointInput) -> None:
    """A datapoint needs content, and each segment the field its ``kind`` names."""
    if not body.segments and body.asset is None:
        raise Invalid(
            "A datapoint needs segments (or, in the older shape, an asset).",
            errors={"segments": ["At least one segment is required."]},
        )
    needed = {"Text": "text", "Asset": "asset", "OptionList": "options"}
    seen: set[str] = set()
    for i, seg in enumerate(body.segments or ()):
        attr = needed[seg.kind]
        if getattr(seg, attr) is None:
            raise Invalid(
                f"Segment '{seg.key}' of kind {seg.kind} has no {attr}.",
                errors={f"segments[{i}].{attr}": [f"A {seg.kind} segment needs '{attr}'."]},
            )
        if seg.key in seen:
            raise Invalid(
                f"Segment key '{seg.key}' appears twice.",
                errors={f"segments[{i}].key": [f"Duplicate segment key '{seg.key}'."]},
            )
        seen.add(seg.key)


def check_schema(
    schema: list[dwire.DatasetSegmentDefinition], body: dwire.CreateDatapointInput
) -> None:
    """Segments against the dataset's schema: required keys present, kinds and lengths fit."""
    if body.segments is None:
        return  # the flat shape predates schemas
    by_key = {seg.key: (i, seg) for i, seg in enumerate(body.segments)}
    for definition in schema:
        found = by_key.get(definition.key)
        if found is None:
            if definition.required:
                raise Invalid(
                    f"The dataset requires a '{definition.key}' segment.",
                    errors={"segments": [f"Missing required segment '{definition.key}'."]},
                )
            continue
        i, seg = found
        if seg.kind != definition.kind:
            raise Invalid(
                f"Segment '{seg.key}' must be of kind {definition.kind}, got {seg.kind}.",
                errors={f"segments[{i}].kind": [f"Expected {definition.kind}."]},
            )
        if definition.max_length is not None and seg.text is not None:
            if len(seg.text) > definition.max_length:
                raise Invalid(
                    f"Segment '{seg.key}' is longer than {definition.max_length} characters.",
                    errors={
                        f"segments[{i}].text": [
                            f"At most {definition.max_length} characters, got {len(seg.text)}."
                        ]
                    },
                )
