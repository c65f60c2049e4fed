"""The simulated crowd as a user meets it through the SDK: oracle, Both/Neither, funnels."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from rapidata_async import AllowNeitherBoth, AsyncRapidataClient
from rapidata_async.local import LocalBackend, TaskSpec


def oracle(task: TaskSpec) -> dict[str, float] | None:
    """Model A (the first item of each pair) wins 90% of pairs; "unsure" pairs are Both."""
    if task.context == "unsure":
        return {"Both": 1.0}
    if task.kind == "compare":
        return {task.options[0]: 0.9, task.options[1]: 0.1}
    return None


@pytest.fixture(scope="module")
async def oracle_client(
    local_backend: LocalBackend, module_backend_options: dict[str, Any]
) -> AsyncIterator[AsyncRapidataClient]:
    # Depends on the session backend so that its task group is entered first and left last.
    async with LocalBackend(**module_backend_options, oracle=oracle, seed=7) as backend:
        async with backend.client() as client:
            yield client


async def run(client: AsyncRapidataClient, audience_name: str, **kwargs):  # type: ignore[no-untyped-def]
    audience = (await client.audience.find_audiences(audience_name))[0]
    definition = await client.job.create_compare_job_definition(**kwargs)
    job = await audience.assign_job(definition)
    with anyio.fail_after(30):
        return await job.get_results()


async def test_oracle_steers_the_crowd(oracle_client: AsyncRapidataClient) -> None:
    results = await run(
        oracle_client,
        "alignment",
        name="Model A vs B",
        instruction="Which is better?",
        datapoints=[[f"model A output {i}", f"model B output {i}"] for i in range(20)],
        data_type="text",
        responses_per_datapoint=10,
    )
    a_votes = sum(r.aggregated_results[r.assets[0]] for r in results.results)
    total = sum(sum(r.aggregated_results.values()) for r in results.results)
    assert total == 200
    assert a_votes / total > 0.75
    assert sum(r.winner_index == 0 for r in results.results) >= 18
    assert results.summary is not None and results.summary.a_wins_total >= 18


async def test_neither_both_votes_and_echoed_contexts(oracle_client: AsyncRapidataClient) -> None:
    results = await run(
        oracle_client,
        "alignment",
        name="Unsure",
        instruction="Which is better?",
        datapoints=[["left", "right"]],
        data_type="text",
        contexts=["unsure"],
        settings=[AllowNeitherBoth()],
        responses_per_datapoint=10,
    )
    (item,) = results.results
    assert item.context == "unsure"
    assert sum(item.aggregated_results.values()) == 10
    assert item.aggregated_results.get("Both", 0) >= 5  # the oracle's lean, not a contract
    votes = {d.voted_for for d in item.detailed_results}
    assert "Both" in votes


async def test_media_context_and_names_are_echoed(client: AsyncRapidataClient) -> None:
    definition = await client.job.create_compare_job_definition(
        name="Echo",
        instruction="Which matches the reference?",
        datapoints=[["https://example.com/a.png", "https://example.com/b.png"]],
        media_contexts=["https://example.com/reference.png"],
        a_b_names=["Flux", "Midjourney"],
        responses_per_datapoint=3,
    )
    audience = await client.audience.get_audience_by_id("global")
    job = await audience.assign_job(definition)
    with anyio.fail_after(30):
        results = await job.get_results()
    (item,) = results.results
    assert item.context_asset is not None and item.context_asset.startswith("reference")
    assert set(item.aggregated_results) <= {"Flux", "Midjourney"}
    frame = results.to_polars(split_details=True)
    assert frame.height == 3
    assert set(frame["voted_for"].to_list()) <= {"Flux", "Midjourney"}


async def test_custom_audience_funnel_moves(client: AsyncRapidataClient) -> None:
    audience = await client.audience.create_audience("Funnel")
    assert not any((await audience.get_user_metrics()).values())
    for i in range(3):
        await audience.add_classification_example(
            instruction="What animal?",
            answer_options=["Cat", "Dog"],
            datapoint=f"https://example.com/cat{i}.jpg",
            truth=["Cat"],
        )
    assert await audience.get_status() == "Created"
    definition = await client.job.create_classification_job_definition(
        name="Funnel job",
        instruction="What animal?",
        answer_options=["Cat", "Dog"],
        datapoints=["https://example.com/x.jpg"],
        responses_per_datapoint=4,
    )
    job = await audience.assign_job(definition)
    with anyio.fail_after(30):
        async for p in job.progress():
            assert 0 <= p.completion_percentage <= 100
    metrics = await audience.get_user_metrics()
    assert metrics["Graduated"] > 0
    assert sum(metrics.values()) > metrics["Graduated"]  # some were dropped or distilling
    assert await audience.get_status() == "Ready"  # qualified before the job could run
    final = await job.get_progress()
    assert (final.state, final.completion_percentage, final.response_count) == (
        "Completed",
        100.0,
        4,
    )
