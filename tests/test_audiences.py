"""Audiences through the public SDK: curated, global and custom with qualification examples."""

from __future__ import annotations

import anyio
import pytest

from rapidata_async import AsyncRapidataClient, BadRequestError

FLUX = "https://assets.rapidata.ai/flux_sign_diffusion.jpg"
MJ = "https://assets.rapidata.ai/mj_sign_diffusion.jpg"
ALIGNMENT_ID = "a1ea11e0c0a1000000000001"  # the curated audience every backend seeds


async def test_curated_audience_is_found_before_custom_namesakes(
    client: AsyncRapidataClient,
) -> None:
    await client.audience.create_audience("Prompt Alignment Audience")
    found = await client.audience.find_audiences("alignment")
    names = [a.name for a in found]
    assert sorted(names) == ["Alignment Audience", "Prompt Alignment Audience"]
    assert (found[0].id, found[0].name) == (ALIGNMENT_ID, "Alignment Audience")
    assert (await found[0].get_status()) == "Ready"


async def test_custom_audience_end_to_end(client: AsyncRapidataClient) -> None:
    audience = await client.audience.create_audience(name="Prompt Alignment Audience")
    assert await audience.get_status() == "Created"
    for _ in range(3):
        await audience.add_compare_example(
            instruction="Which image follows the prompt more accurately?",
            datapoint=[FLUX, MJ],
            truth=FLUX,
            context="A sign that says 'Diffusion'.",
        )
    definition = await client.job.create_compare_job_definition(
        name="Prompt Alignment Job",
        instruction="Which image follows the prompt more accurately?",
        datapoints=[
            [
                "https://assets.rapidata.ai/flux_flower.jpg",
                "https://assets.rapidata.ai/mj_flower.jpg",
            ]
        ],
        contexts=["A yellow flower sticking out of a green pot."],
        responses_per_datapoint=5,
    )
    job = await audience.assign_job(definition)
    with anyio.fail_after(30):
        results = await job.get_results()
    assert sum(results.results[0].aggregated_results.values()) == 5
    metrics = await audience.get_user_metrics()
    assert metrics.get("Graduated", 0) > 0
    assert await audience.get_status() == "Ready"  # qualified before the job could run


async def test_custom_audience_needs_three_examples(client: AsyncRapidataClient) -> None:
    audience = await client.audience.create_audience(name="Too few examples")
    await audience.add_classification_example(
        instruction="What do you see in the image?",
        answer_options=["Cat", "Dog"],
        datapoint="https://assets.rapidata.ai/cat.jpeg",
        truth=["Cat"],
    )
    definition = await client.job.create_classification_job_definition(
        name="Needs examples",
        instruction="What do you see?",
        answer_options=["Cat", "Dog"],
        datapoints=["https://assets.rapidata.ai/dog.jpeg"],
        responses_per_datapoint=3,
    )
    with pytest.raises(BadRequestError) as info:
        await audience.assign_job(definition)
    assert "example" in str(info.value).lower()
