"""The MRI store on both implementations: owner scoping (another tenant's ids are unknown),
prompt identifiers unique per benchmark, one sample per participant and identifier, paging,
sorting and filters, submission, and the samples the engine reads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from rapidata_async._wire.common import ExistingAssetInput, TextAssetInput
from rapidata_async.local.domain.errors import Conflict, Invalid, NotFound
from rapidata_async.local.store import open_store
from rapidata_async.local.store.base import (
    ANY_OWNER,
    Filter,
    LeaderboardSpec,
    ListQuery,
    ParticipantSpec,
    PromptSpec,
    PromptTag,
    Store,
)

A, B = "tenant-a", "tenant-b"


@pytest.fixture
async def store(backend_options: dict[str, Any]) -> AsyncIterator[Store]:
    opened = open_store(backend_options["db"], assets_dir=backend_options["assets_dir"])
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


def _spec(identifier: str, *tags: str) -> PromptSpec:
    return PromptSpec(
        identifier=identifier,
        text=f"prompt {identifier}",
        asset=ExistingAssetInput(name=f"{identifier}.png"),
        tags=[PromptTag(t, "scene" if t == "outdoor" else None) for t in tags],
        origin="coco",
    )


async def test_benchmarks_are_scoped_to_their_tenant(store: Store) -> None:
    mine = await store.benchmarks.create("Image bench", owner=A, min_assets_per_prompt=2)
    await store.benchmarks.create("Other bench", owner=B)
    assert (await store.benchmarks.get(mine.id, owner=A)).min_assets_per_prompt == 2
    with pytest.raises(NotFound) as raised:
        await store.benchmarks.get(mine.id, owner=B, field="benchmarkId")
    assert raised.value.errors == {"benchmarkId": [f"Benchmark '{mine.id}' does not exist."]}
    assert (await store.benchmarks.get(mine.id, owner=ANY_OWNER)).name == "Image bench"
    rows, total = await store.benchmarks.list(ListQuery(), owner=A)
    assert (total, [r.name for r in rows]) == (1, ["Image bench"])
    with pytest.raises(NotFound):
        await store.benchmarks.add_prompt(mine.id, _spec("p1"), owner=B)
    with pytest.raises(NotFound):
        await store.benchmarks.add_participant(mine.id, ParticipantSpec(name="m"), owner=B)


async def test_prompts_keep_order_tags_and_unique_identifiers(store: Store) -> None:
    bench = await store.benchmarks.create("b", owner=A)
    for identifier, tags in (("p1", ["outdoor"]), ("p2", []), ("p3", ["indoor", "outdoor"])):
        await store.benchmarks.add_prompt(bench.id, _spec(identifier, *tags), owner=A)
    with pytest.raises(Conflict) as raised:
        await store.benchmarks.add_prompt(bench.id, _spec("p2"), owner=A)
    assert "identifier" in (raised.value.errors or {})
    rows, total = await store.benchmarks.prompts(bench.id, None, owner=A)
    assert (total, [r.spec.identifier for r in rows]) == (3, ["p1", "p2", "p3"])
    assert rows[0].spec.tags == [PromptTag("outdoor", "scene")]
    assert rows[0].spec.asset == ExistingAssetInput(name="p1.png")
    page = ListQuery(page=2, page_size=2, order=(("created_at", False),))
    rows, total = await store.benchmarks.prompts(bench.id, page, owner=A)
    assert (total, [r.spec.identifier for r in rows]) == (3, ["p3"])
    only = ListQuery(filters=(Filter("identifier", "in", ("p1", "p3")),))
    rows, total = await store.benchmarks.prompts(bench.id, only, owner=A)
    assert total == 2
    with pytest.raises(Invalid):
        await store.benchmarks.prompts(bench.id, ListQuery(order=(("bogus", True),)), owner=A)
    with pytest.raises(NotFound):
        await store.benchmarks.prompts(bench.id, None, owner=B)


async def test_samples_one_per_identifier_and_submission(store: Store) -> None:
    bench = await store.benchmarks.create("b", owner=A)
    for identifier in ("p1", "p2"):
        await store.benchmarks.add_prompt(bench.id, _spec(identifier), owner=A)
    first = await store.benchmarks.add_participant(bench.id, ParticipantSpec(name="m1"), owner=A)
    second = await store.benchmarks.add_participant(
        bench.id, ParticipantSpec(name="m2", cost=0.5, cost_unit="UsdPerImage"), owner=A
    )
    await store.benchmarks.add_sample(first.id, "p1", TextAssetInput(text="a"), owner=A)
    await store.benchmarks.add_sample(first.id, "p2", TextAssetInput(text="b"), owner=A)
    await store.benchmarks.add_sample(second.id, "p1", TextAssetInput(text="c"), owner=A)
    with pytest.raises(Conflict):
        await store.benchmarks.add_sample(first.id, "p1", TextAssetInput(text="again"), owner=A)
    with pytest.raises(Invalid) as raised:
        await store.benchmarks.add_sample(first.id, "nope", TextAssetInput(text="x"), owner=A)
    assert "identifier" in (raised.value.errors or {})
    with pytest.raises(NotFound):
        await store.benchmarks.add_sample(first.id, "p2", TextAssetInput(text="x"), owner=B)
    samples, total = await store.benchmarks.samples(first.id, None, owner=A)
    assert (total, [s.identifier for s in samples]) == (2, ["p1", "p2"])
    assert samples[1].asset == TextAssetInput(text="b")
    assert await store.benchmarks.benchmark_samples(bench.id) == {}
    with pytest.raises(NotFound) as missing:
        await store.benchmarks.submit([first.id, "unknown"], owner=A)
    assert "participantIds[1]" in (missing.value.errors or {})
    assert (await store.benchmarks.participant(first.id, owner=A)).status == "Created"
    rows = await store.benchmarks.submit([first.id, second.id], owner=A)
    assert [(r.status, r.sample_count) for r in rows] == [("Submitted", 2), ("Submitted", 1)]
    assert rows[1].spec.cost_unit == "UsdPerImage"
    by_participant = await store.benchmarks.benchmark_samples(bench.id)
    assert by_participant[first.id] == {
        "p1": TextAssetInput(text="a"),
        "p2": TextAssetInput(text="b"),
    }
    status = ListQuery(filters=(Filter("status", "eq", ("Submitted",)),), order=(("name", True),))
    listed, total = await store.benchmarks.participants(bench.id, status, owner=A)
    assert (total, [p.spec.name for p in listed]) == (2, ["m2", "m1"])


async def test_leaderboards_targets_and_running_state(store: Store) -> None:
    bench = await store.benchmarks.create("b", owner=A)
    spec = LeaderboardSpec(
        name="Preference",
        instruction="Which image do you prefer?",
        response_budget=20,
        min_responses=3,
        included_tags=["outdoor"],
    )
    running = await store.benchmarks.add_leaderboard(bench.id, spec, owner=A, target_votes=20)
    idle = await store.benchmarks.add_leaderboard(bench.id, spec, owner=A, target_votes=0)
    assert (running.state, idle.state) == ("Running", "Idle")
    assert await store.benchmarks.running_leaderboards() == [running.id]
    await store.benchmarks.set_target(idle.id, 40, "Running")
    assert await store.benchmarks.running_leaderboards() == [running.id, idle.id]
    row = await store.benchmarks.leaderboard(idle.id, owner=A)
    assert (row.target_votes, row.owner, row.spec.included_tags) == (40, A, ["outdoor"])
    with pytest.raises(NotFound):
        await store.benchmarks.leaderboard(idle.id, owner=B)
    rows, total = await store.benchmarks.leaderboards(bench.id, None, owner=A)
    assert (total, [r.id for r in rows]) == (2, [running.id, idle.id])
    await store.reset()
    assert await store.benchmarks.running_leaderboards() == []
    with pytest.raises(NotFound):
        await store.benchmarks.get(bench.id, owner=A)
