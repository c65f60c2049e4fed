"""``GET /definitions/{definitionId}``: a job definition's datapoints as a labeler sees them.

Compare pairs side by side, classification items with their answer buttons; the definition's
settings decide the details: ``no_shuffle`` keeps the given order (else the order is shuffled,
stably per datapoint, as each labeler sees its own), ``compare_unsure`` adds Both/Neither and
``use_main_text_markdown`` renders text datapoints as Markdown.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from aiohttp import web

from ..._wire import job as jwire
from ..._wire.common import AssetInput, FeatureFlag
from .._context import ctx
from .._datapoints import Rapid, rapid_of, view
from ..domain.errors import NotFound
from ..store.base import ANY_OWNER, DatapointRow
from ._media import Media, MediaResolver, flatten
from ._render import not_found, page

PREVIEW_DATAPOINTS = 10
NO_SHUFFLE = "no_shuffle"
UNSURE = "compare_unsure"
MARKDOWN = "use_main_text_markdown"


@dataclass(frozen=True, slots=True)
class Side:
    label: str
    media: Media


@dataclass(slots=True)
class TaskView:
    """One datapoint as a labeler sees it."""

    number: int
    kind: str  # Compare | Classify
    instruction: str
    context: str | None = None
    context_media: list[Media] = field(default_factory=list)
    sides: list[Side] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    unsure: bool = False


@dataclass(frozen=True, slots=True)
class Settings:
    no_shuffle: bool = False
    unsure: bool = False
    markdown: bool = False

    @classmethod
    def of(cls, flags: list[FeatureFlag] | None) -> Settings:
        on = {f.key: f.value for f in flags or ()}
        return cls(
            no_shuffle=on.get(NO_SHUFFLE, "").lower() == "true",
            unsure=UNSURE in on,
            markdown=on.get(MARKDOWN, "").lower() == "true",
        )

    def describe(self) -> list[str]:
        return [
            "answer order as given" if self.no_shuffle else "answer order shuffled per labeler",
            *(["Both / Neither allowed"] if self.unsure else []),
            *(["text as Markdown"] if self.markdown else []),
        ]


def _order(items: list[int], settings: Settings, seed: str) -> list[int]:
    if settings.no_shuffle:
        return items
    shuffled = list(items)
    # Stable per datapoint, so a reload shows the same page.
    random.Random(seed).shuffle(shuffled)
    return shuffled


def side_labels(identifiers: tuple[str, ...] | None, n: int) -> list[str]:
    """What the sides of a compare task are called (the definition's index identifiers, else
    A, B, ...), in the order of the datapoint's assets."""
    labels = list(identifiers or ("A", "B"))
    return labels + [chr(ord("A") + i) for i in range(len(labels), n)]


def build_task(
    dp: DatapointRow,
    number: int,
    rapid: Rapid,
    settings: Settings,
    resolver: MediaResolver,
) -> TaskView:
    seen = view(dp.body, rapid)
    task = TaskView(
        number=number,
        kind=rapid.kind,
        instruction=rapid.instruction,
        context=seen.context,
        context_media=resolver.many(seen.context_asset),
        unsure=settings.unsure and rapid.kind == "Compare",
    )
    items = resolver.many(seen.asset, markdown=settings.markdown)
    if rapid.kind == "Compare":
        labels = side_labels(rapid.index_identifiers, len(items))
        order = _order(list(range(len(items))), settings, dp.id)
        task.sides = [Side(labels[i], items[i]) for i in order]
    else:
        task.sides = [Side("", m) for m in items]
        options = seen.options or []
        task.options = [options[i] for i in _order(list(range(len(options))), settings, dp.id)]
    return task


async def tasks_of(
    request: web.Request,
    datapoints: list[DatapointRow],
    rapid: Rapid,
    settings: Settings,
) -> list[TaskView]:
    resolver = MediaResolver(ctx(request).blobs)
    assets: list[AssetInput] = []
    for dp in datapoints:
        seen = view(dp.body, rapid)
        assets += flatten(seen.asset) + flatten(seen.context_asset)
    await resolver.resolve(request, assets)
    return [build_task(dp, i + 1, rapid, settings, resolver) for i, dp in enumerate(datapoints)]


def _referee(referee: jwire.Referee) -> str:
    if isinstance(referee, jwire.NaiveReferee):
        return f"{referee.total_votes} responses per datapoint"
    if isinstance(referee, jwire.EarlyStoppingReferee):
        return f"up to {referee.max_votes} responses, stop at confidence {referee.threshold}"
    return f"up to {referee.max_votes} responses, stop when {referee.threshold} agree"


async def definition_page(request: web.Request) -> web.Response:
    store = ctx(request).store
    definition_id = request.match_info["definitionId"]
    try:
        # By its unguessable id: whoever holds the preview link may see it.
        definition = await store.definitions.get(definition_id, owner=ANY_OWNER)
    except NotFound:
        return not_found("Job definition", f"No job definition {definition_id} here.")
    revision = await store.definitions.revision(definition_id, owner=ANY_OWNER)
    datapoints = await store.datasets.datapoints(revision.body.dataset_id, owner=ANY_OWNER)
    rapid = rapid_of(revision.body.workflow)
    settings = Settings.of(revision.body.rapid_feature_flags)
    shown = datapoints[:PREVIEW_DATAPOINTS]
    tasks = await tasks_of(request, shown, rapid, settings) if rapid is not None else []
    return page(
        "preview.html",
        title=definition.name,
        definition=definition,
        revision=revision.number,
        referee=_referee(revision.body.referee),
        settings=settings.describe(),
        total=len(datapoints),
        tasks=tasks,
    )
