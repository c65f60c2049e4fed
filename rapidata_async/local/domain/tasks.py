"""What a job asks of one datapoint: the crowd's task and the result item it becomes.

Pure functions over wire structs. A job definition's rapid (3.27.1 ``workflow.rapid``) or legacy
blueprint (Aug-2026) binds a datapoint's segments (or older flat fields) to an asset, a context
and answer options; ``task_for`` turns one datapoint into the ``TaskSpec`` labelers answer and
the vote-less ``ResultItem`` of the results document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from ..._wire import audience as auwire
from ..._wire import dataset as dwire
from ..._wire import job as jwire
from ..._wire.common import AssetInput, ExistingAssetInput, MultiAssetInput, TextAssetInput
from .._results import ResultItem
from .errors import Invalid

DEFAULT_ASSET = "asset"
DEFAULT_CONTEXT = "context"
DEFAULT_CONTEXT_ASSET = "context_asset"
DEFAULT_OPTIONS = "answer_options"
UNSURE_FLAG = "compare_unsure"


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


def check_answer_key(
    what: str, compare: bool, options: Sequence[str], truth: Sequence[str] | None
) -> None:
    """The rule for a task whose answer is known (a qualification example, a validation
    rapid; ``what`` names it): a compare has 2 different assets and its truth (the winner)
    is one of them; a classification has at least 2 categories and its truth is a non-empty
    subset of them. ``Invalid`` names the request field."""
    if compare:
        if len(options) != 2 or options[0] == options[1]:
            raise Invalid.field(
                "asset", f"A compare {what} needs 2 different assets, got {list(options)}."
            )
        if truth is not None and (len(truth) != 1 or truth[0] not in options):
            raise Invalid.field(
                "truth.winnerId",
                f"'{truth[0] if truth else ''}' is not one of the {what}'s assets "
                f"{list(options)}; use the uploaded file name (or the text).",
            )
        return
    if len(set(options)) < 2:
        raise Invalid.field("payload.categories", "A classification needs at least 2 categories.")
    if truth is not None and (not truth or any(c not in options for c in truth)):
        raise Invalid.field(
            "truth.correctCategories",
            f"Correct categories must be a non-empty subset of {list(options)}.",
        )


class TaskError(ValueError):
    """A datapoint that does not fit its job definition."""


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """One datapoint to answer. ``key`` must be stable: it seeds the crowd's truth, difficulty
    and answers."""

    key: str
    kind: Literal["compare", "classify"]
    options: list[str]
    allow_neither_both: bool = False
    context: str | None = None
    truth: str | None = None
    """The known correct option (validation rapids); None: the crowd's own latent truth."""


@dataclass(frozen=True, slots=True)
class ExampleSpec:
    """A qualification example: ``truth`` lists the correct options (compare: the winner)."""

    kind: Literal["compare", "classify"]
    options: list[str]
    truth: list[str]
    key: str = field(default="")


def allows_unsure(flags: Sequence[jwire.FeatureFlag] | None) -> bool:
    """Whether the rapid feature flags allow Both/Neither answers on compare tasks."""
    return any(flag.key == UNSURE_FLAG for flag in flags or ())


def task_for(
    body: dwire.CreateDatapointInput,
    sort_index: int | None,
    position: int,
    rapid: Rapid,
    allow_neither_both: bool,
) -> tuple[TaskSpec, ResultItem]:
    """The crowd task of one datapoint and the (vote-less) result item it will become.
    Raises ``TaskError`` naming the datapoint when it does not fit the rapid."""
    seen = view(body, rapid)
    index = sort_index if sort_index is not None else position
    if seen.asset is None:
        raise TaskError(f"datapoint {index} has no '{rapid.asset_key}' asset")
    context_asset = asset_label(seen.context_asset) if seen.context_asset is not None else None
    kind: Literal["compare", "classify"]
    if rapid.kind == "Compare":
        options = asset_labels(seen.asset)
        if len(options) != 2:
            raise TaskError(
                f"datapoint {index}: a compare datapoint needs exactly 2 assets, got {len(options)}"
            )
        if options[0] == options[1]:
            raise TaskError(f"datapoint {index}: both assets are '{options[0]}'")
        kind = "compare"
        file_name = None
    else:
        options = list(dict.fromkeys(seen.options or ()))
        if len(options) < 2:
            raise TaskError(
                f"datapoint {index}: a classification needs at least 2 answer options, "
                f"got {options}"
            )
        kind = "classify"
        file_name = asset_label(seen.asset)
    item = ResultItem(
        index,
        options,
        [],
        context=seen.context,
        context_asset=context_asset,
        private_metadata=seen.private_metadata,
        original_file_name=file_name,
    )
    key = "\x1f".join([kind, str(index), *options, seen.context or ""])
    task = TaskSpec(
        key,
        kind,
        options,
        allow_neither_both=allow_neither_both and kind == "compare",
        context=seen.context,
    )
    return task, item


def example_specs(
    audience_id: str, examples: Sequence[auwire.AddExampleInput]
) -> list[ExampleSpec]:
    """The qualification examples of an audience as the crowd sees them (examples without a
    usable truth are left out)."""
    specs = []
    for i, example in enumerate(examples):
        payload, truth = example.payload, example.truth
        key = f"{audience_id}:{i}"
        if isinstance(payload, auwire.CompareExamplePayload):
            if isinstance(truth, auwire.CompareExampleTruth):
                specs.append(
                    ExampleSpec("compare", asset_labels(example.asset), [truth.winner_id], key)
                )
        elif isinstance(truth, auwire.ClassifyExampleTruth):
            options = [c.value for c in payload.categories]
            specs.append(ExampleSpec("classify", options, list(truth.correct_categories), key))
    return specs
