"""Reading datapoints in both wire shapes: 3.27.1 ``segments`` and the Aug-2026 flat fields.

The store uses ``asset_refs``/``check_schema`` to validate a datapoint before inserting it; the
runner and the pages use ``view`` to find a datapoint's asset, context and answer options the
way the job definition's rapid (or legacy blueprint) binds them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._wire import dataset as dwire
from .._wire import job as jwire
from .._wire.common import AssetInput, ExistingAssetInput, MultiAssetInput, TextAssetInput
from .domain.errors import Invalid

DEFAULT_ASSET = "asset"
DEFAULT_CONTEXT = "context"
DEFAULT_CONTEXT_ASSET = "context_asset"
DEFAULT_OPTIONS = "answer_options"


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


def asset_label(asset: AssetInput) -> str:
    """How an asset is named in answers and results: the uploaded file name, or the text."""
    if isinstance(asset, ExistingAssetInput):
        return asset.name
    if isinstance(asset, TextAssetInput):
        return asset.text
    return ", ".join(asset_label(inner) for inner in asset.assets)


def asset_labels(asset: AssetInput) -> list[str]:
    """The individual items of an asset input (the two sides of a compare pair)."""
    if isinstance(asset, MultiAssetInput):
        return [asset_label(inner) for inner in asset.assets]
    return [asset_label(asset)]


@dataclass(frozen=True, slots=True)
class Rapid:
    """What a job definition asks, independent of the rapid (3.27.1) / blueprint (Aug) form."""

    kind: str  # "Compare" | "Classify"
    instruction: str
    asset_key: str = DEFAULT_ASSET
    context_key: str | None = DEFAULT_CONTEXT
    context_literal: str | None = None
    context_asset_key: str = DEFAULT_CONTEXT_ASSET
    options_key: str | None = None
    options_literal: tuple[str, ...] | None = None
    index_identifiers: tuple[str, ...] | None = None


def rapid_of(workflow: jwire.SimpleWorkflow) -> Rapid | None:
    rapid = workflow.rapid
    if isinstance(rapid, jwire.CompareRapid | jwire.ClassifyRapid):
        context_key: str | None = DEFAULT_CONTEXT
        context_literal = None
        if rapid.context is not None:
            context_key = rapid.context.segment
            context_literal = rapid.context.literal
        context_asset_key = (
            rapid.context_assets[0].segment if rapid.context_assets else DEFAULT_CONTEXT_ASSET
        )
        if isinstance(rapid, jwire.CompareRapid):
            return Rapid(
                "Compare",
                rapid.criteria.literal or "",
                asset_key=rapid.asset.segment,
                context_key=context_key,
                context_literal=context_literal,
                context_asset_key=context_asset_key,
                index_identifiers=tuple(rapid.index_identifiers)
                if rapid.index_identifiers
                else None,
            )
        literal = rapid.categories.literal
        return Rapid(
            "Classify",
            rapid.title.literal or "",
            asset_key=rapid.asset.segment,
            context_key=context_key,
            context_literal=context_literal,
            context_asset_key=context_asset_key,
            options_key=rapid.categories.segment,
            options_literal=tuple(o.value for o in literal) if literal is not None else None,
        )
    blueprint = workflow.blueprint
    if isinstance(blueprint, jwire.CompareBlueprint):
        return Rapid(
            "Compare",
            blueprint.criteria,
            index_identifiers=tuple(blueprint.index_identifiers)
            if blueprint.index_identifiers
            else None,
        )
    if isinstance(blueprint, jwire.ClassifyBlueprint):
        return Rapid(
            "Classify",
            blueprint.title,
            options_literal=tuple(c.value for c in blueprint.categories),
        )
    return None


@dataclass(frozen=True, slots=True)
class DatapointView:
    asset: AssetInput | None
    context: str | None
    context_asset: AssetInput | None
    options: list[str] | None
    private_metadata: dict[str, str] | None


def view(body: dwire.CreateDatapointInput, rapid: Rapid) -> DatapointView:
    """The datapoint as ``rapid`` sees it, from whichever shape it was sent in."""
    if body.segments is None:
        return DatapointView(
            body.asset,
            body.context if body.context is not None else rapid.context_literal,
            body.context_asset,
            list(rapid.options_literal) if rapid.options_literal is not None else None,
            body.private_metadata,
        )
    by_key = {seg.key: seg for seg in body.segments}
    asset_seg = by_key.get(rapid.asset_key)
    context = rapid.context_literal
    if rapid.context_key is not None and rapid.context_key in by_key:
        context = by_key[rapid.context_key].text
    context_asset_seg = by_key.get(rapid.context_asset_key)
    options: list[str] | None = None
    if rapid.options_literal is not None:
        options = list(rapid.options_literal)
    elif rapid.options_key is not None and rapid.options_key in by_key:
        options = [o.value for o in by_key[rapid.options_key].options or ()]
    return DatapointView(
        asset_seg.asset if asset_seg is not None else None,
        context,
        context_asset_seg.asset if context_asset_seg is not None else None,
        options,
        body.private_metadata,
    )
