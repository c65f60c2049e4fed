"""Qualification on the labeling page: a custom audience's examples as tasks, and the person's
progress through them.

A person invited to a custom audience answers its examples first (``Pending``); their
answers are graded against the examples' truth by the simulated crowd's rule
(``crowd.people.grade``) and the outcome is stored (``Labelers.set_qualification``):
``Graduated`` (they answer the audience's jobs with their accuracy as user score) or
``Dropped``. An audience with fewer than three usable examples qualifies nobody, people
included (as for the simulated crowd).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from aiohttp import web

from ..._wire import audience as auwire
from .._context import ctx
from ..crowd.people import grade, trial_order
from ..domain.errors import NotFound
from ..domain.tasks import ExampleSpec, asset_labels, example_specs
from ..store.base import AudienceRow, LabelerRow
from ..store.seeds import DEFAULT_RULE
from ._media import MediaResolver, flatten
from ._preview import Side, TaskView, side_labels

MIN_EXAMPLES = 3
PROGRESS = "label-qualification"


@dataclass(frozen=True, slots=True)
class Pending:
    """A custom audience the person has yet to qualify for, and where they are."""

    audience: AudienceRow
    examples: list[tuple[auwire.AddExampleInput, ExampleSpec]]
    order: list[int]
    answers: list[tuple[int, str]]

    @property
    def step(self) -> int:
        return len(self.answers)

    @property
    def current(self) -> tuple[auwire.AddExampleInput, ExampleSpec]:
        return self.examples[self.order[self.step]]


def _progress(request: web.Request) -> dict[tuple[str, str], list[tuple[int, str]]]:
    found: dict[tuple[str, str], list[tuple[int, str]]] = ctx(request).pages.setdefault(
        PROGRESS, {}
    )
    return found


def _usable(
    audience_id: str, examples: list[auwire.AddExampleInput]
) -> list[tuple[auwire.AddExampleInput, ExampleSpec]]:
    out = []
    for i, example in enumerate(examples):
        specs = example_specs(audience_id, [example])
        if specs and set(specs[0].truth) <= set(specs[0].options):
            out.append((example, replace(specs[0], key=f"{audience_id}:{i}")))
    return out


def _rule(audience: AudienceRow) -> auwire.TaskAccuracyRule:
    rule = audience.body.graduation_rule
    return rule if isinstance(rule, auwire.TaskAccuracyRule) else DEFAULT_RULE


async def pending(request: web.Request, row: LabelerRow) -> Pending | None:
    """The first custom audience of the person's invite they have not gone through."""
    store = ctx(request).store
    for audience_id in row.audiences:
        if audience_id in row.qualifications:
            continue
        try:
            audience = await store.audiences.get(audience_id, owner=row.owner)
        except NotFound:
            continue
        if audience.kind != "custom":
            continue
        usable = _usable(audience_id, await store.audiences.examples(audience_id, owner=row.owner))
        if len(usable) < MIN_EXAMPLES:
            continue
        order = trial_order(len(usable), _rule(audience).min_tasks, f"{row.id}:{audience_id}")
        answers = _progress(request).setdefault((row.id, audience_id), [])
        return Pending(audience, usable, order, answers)
    return None


async def example_view(request: web.Request, item: Pending) -> TaskView:
    """The current example as a task card."""
    example, _ = item.current
    payload = example.payload
    resolver = MediaResolver(ctx(request).blobs)
    await resolver.resolve(request, flatten(example.asset) + flatten(example.context_asset))
    compare = isinstance(payload, auwire.CompareExamplePayload)
    task = TaskView(
        number=item.step + 1,
        kind="Compare" if compare else "Classify",
        instruction=payload.criteria
        if isinstance(payload, auwire.CompareExamplePayload)
        else payload.title,
        context=example.context,
        context_media=resolver.many(example.context_asset),
    )
    items = resolver.many(example.asset)
    if isinstance(payload, auwire.CompareExamplePayload):
        labels = side_labels(None, len(items))
        task.sides = [Side(label, m) for label, m in zip(labels, items, strict=True)]
    else:
        task.sides = [Side("", m) for m in items]
        task.options = [c.value for c in payload.categories]
    return task


def example_answer(item: Pending, answer: str) -> str | None:
    """What a clicked button means for the current example (None: not one of its answers)."""
    example, spec = item.current
    if isinstance(example.payload, auwire.CompareExamplePayload):
        names = asset_labels(example.asset)
        labels = side_labels(None, len(names))
        return names[labels.index(answer)] if answer in labels else None
    return answer if answer in spec.options else None


async def record(request: web.Request, row: LabelerRow, item: Pending, answer: str) -> str | None:
    """Keep one answer; after the last one, grade and store the outcome: ``Graduated`` or
    ``Dropped`` (None while examples remain)."""
    item.answers.append((item.order[item.step], answer))
    if item.step < len(item.order):
        return None
    engine = ctx(request).runner
    specs = [spec for _, spec in item.examples]
    difficulties = [engine.model.difficulty(spec) for spec in specs]
    target = _rule(item.audience).target_accuracy
    passed, accuracy = grade(specs, difficulties, item.answers, target)
    state = "Graduated" if passed else "Dropped"
    await ctx(request).store.labelers.set_qualification(
        row.id, item.audience.id, state, max(accuracy, 0.0001)
    )
    _progress(request).pop((row.id, item.audience.id), None)
    return state
