"""Job definitions, jobs, progress and results through the public SDK against the local backend."""

from __future__ import annotations

import itertools

import anyio
import pytest

from rapidata_async import (
    AllowNeitherBoth,
    AsyncRapidataClient,
    JobProgress,
    NoShuffle,
    NotFoundError,
)

URL_A = "https://assets.rapidata.ai/midjourney-5.2_37_3.jpg"
URL_B = "https://assets.rapidata.ai/flux-1-pro_37_0.jpg"


async def test_quickstart_flow(client: AsyncRapidataClient) -> None:
    audience = (await client.audience.find_audiences("alignment"))[0]
    assert "alignment" in audience.name.lower()
    job_definition = await client.job.create_compare_job_definition(
        name="Example Image Prompt Alignment",
        instruction="Which image matches the description better?",
        datapoints=[[URL_A, URL_B]],
        contexts=["A small blue book sitting on a large red book."],
    )
    url = await job_definition.preview()
    assert url.endswith(f"/definitions/{job_definition.id}")
    job = await audience.assign_job(job_definition)
    snapshots: list[JobProgress] = []
    with anyio.fail_after(30):
        async for p in job.progress():
            snapshots.append(p)
    assert snapshots[-1].state == "Completed"
    assert snapshots[-1].completion_percentage == 100.0
    assert all(
        a.completion_percentage <= b.completion_percentage for a, b in itertools.pairwise(snapshots)
    )
    results = await job.get_results()
    assert len(results.results) == 1
    item = results.results[0]
    assert item.context == "A small blue book sitting on a large red book."
    assert sum(item.aggregated_results.values()) == 10  # the naive referee's default
    frame = results.to_polars()
    assert frame.height == 1
    assert results.to_polars(split_details=True).height == sum(item.aggregated_results.values())


async def test_classification_text_with_settings(client: AsyncRapidataClient) -> None:
    options = ["1: Poor", "2: Fair", "3: Good"]
    definition = await client.job.create_classification_job_definition(
        name="Likert text",
        instruction="Rate the quality of this sentence",
        answer_options=options,
        datapoints=["The cat sat on the mat.", "Mat the on sat cat the."],
        contexts=["first", "second"],
        data_type="text",
        responses_per_datapoint=5,
        settings=[NoShuffle()],
    )
    audience = await client.audience.get_audience_by_id("global")
    assert audience.id == "global"
    job = await audience.assign_job(definition)
    with anyio.fail_after(30):
        results = await job.get_results()
    assert [r.context for r in results.results] == ["first", "second"]
    for r in results.results:
        assert set(r.aggregated_results) <= set(options)
        assert sum(r.aggregated_results.values()) == 5
    revision = await definition.get_revision()
    assert [(f.key, f.value) for f in revision.feature_flags] == [("no_shuffle", "true")]


async def test_find_and_get(client: AsyncRapidataClient) -> None:
    definition = await client.job.create_compare_job_definition(
        name="Findable definition",
        instruction="Which is better?",
        datapoints=[["left text", "right text"]],
        data_type="text",
        responses_per_datapoint=3,
    )
    found = await client.job.find_job_definitions("Findable")
    assert [d.id for d in found] == [definition.id]
    fetched = await client.job.get_job_definition_by_id(definition.id)
    assert (fetched.name, fetched.revision_number) == ("Findable definition", 1)

    audience = await client.audience.get_audience_by_id("global")
    job = await audience.assign_job(fetched)
    assert [j.id for j in await client.job.find_jobs("Findable")] == [job.id]
    assert [j.id for j in await audience.find_jobs("Findable")] == [job.id]
    again = await client.job.get_job_by_id(job.id)
    assert (again.name, again.audience_id, again.definition_id) == (
        "Findable definition",
        "global",
        definition.id,
    )
    assert job.url.endswith(f"/audiences/global/job/{job.id}")
    with pytest.raises(NotFoundError):
        await client.job.get_job_by_id("does-not-exist")


async def test_early_stopping_reports_confidence(client: AsyncRapidataClient) -> None:
    definition = await client.job.create_classification_job_definition(
        name="Cat or Dog with Early Stopping",
        instruction="What animal is in the image?",
        answer_options=["Cat", "Dog"],
        datapoints=["https://assets.rapidata.ai/dog.jpeg"],
        responses_per_datapoint=50,
        confidence_threshold=0.99,
    )
    audience = (await client.audience.find_audiences("alignment"))[0]
    job = await audience.assign_job(definition)
    with anyio.fail_after(30):
        results = await job.get_results()
    item = results.results[0]
    votes = sum(item.aggregated_results.values())
    assert 1 <= votes < 50
    assert item.confidence_per_category is not None
    assert max(item.confidence_per_category.values()) >= 0.99


async def test_allow_neither_both_and_a_b_names(client: AsyncRapidataClient) -> None:
    definition = await client.job.create_compare_job_definition(
        name="Named sides",
        instruction="Which image is higher quality?",
        datapoints=[[URL_A, URL_B]],
        a_b_names=["Flux", "Midjourney"],
        settings=[AllowNeitherBoth()],
        responses_per_datapoint=5,
    )
    revision = await definition.get_revision()
    assert revision.a_b_names == ("Flux", "Midjourney")
    assert revision.responses_per_datapoint == 5
    assert [(f.key, f.value) for f in revision.feature_flags] == [("compare_unsure", "5000")]


async def test_listings_await_one_page_or_iterate_all(client: AsyncRapidataClient) -> None:
    created = []
    for i in range(5):
        definition = await client.job.create_compare_job_definition(
            name=f"Paged {i}",
            instruction="Which?",
            datapoints=[["x", "y"]],
            data_type="text",
            responses_per_datapoint=1,
        )
        created.append(definition.id)
    first_page = await client.job.find_job_definitions("Paged", amount=2)
    assert [d.id for d in first_page] == created[::-1][:2]  # newest first
    everything = [d.id async for d in client.job.find_job_definitions("Paged", amount=2)]
    assert everything == created[::-1]
    with pytest.raises(ValueError, match=r"^amount:"):
        client.job.find_job_definitions(amount=0)  # rejected before any request
