"""Bad input is rejected before any request, with an error naming the field or item."""

from __future__ import annotations

from typing import Any

import pytest

from rapidata_async import AsyncRapidataClient

PAIR = ["https://example.com/a.jpg", "https://example.com/b.jpg"]


def compare_kwargs(**over: Any) -> dict[str, Any]:
    kw: dict[str, Any] = {"name": "n", "instruction": "Which?", "datapoints": [PAIR, PAIR]}
    kw.update(over)
    return kw


def classify_kwargs(**over: Any) -> dict[str, Any]:
    kw: dict[str, Any] = {
        "name": "n",
        "instruction": "What?",
        "answer_options": ["a", "b"],
        "datapoints": ["https://example.com/a.jpg"],
    }
    kw.update(over)
    return kw


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"contexts": ["only one"]}, "contexts"),
        ({"media_contexts": ["https://example.com/c.jpg"]}, "media_contexts"),
        ({"datapoints": [PAIR, [PAIR[0]]]}, "datapoints[1]"),
        ({"datapoints": [PAIR, [*PAIR, PAIR[0]]]}, "datapoints[1]"),
        ({"instruction": ""}, "instruction"),
        ({"instruction": "x" * 251}, "instruction"),
        ({"confidence_threshold": 1.0}, "confidence_threshold"),
        ({"confidence_threshold": 0}, "confidence_threshold"),
        ({"responses_per_datapoint": 0}, "responses_per_datapoint"),
        ({"data_type": "video"}, "data_type"),
        ({"a_b_names": ["only"]}, "a_b_names"),
        ({"datapoints": [PAIR, ["ftp://example.com/a.jpg", PAIR[1]]]}, "datapoints[1][0]"),
        ({"name": ""}, "name"),
        ({"datapoints": [PAIR, [PAIR[0], PAIR[0]]]}, "datapoints[1]"),
        ({"settings": ["no_shuffle"]}, "settings[0]"),
    ],
)
async def test_compare_rejects(
    client: AsyncRapidataClient, over: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValueError) as info:
        await client.job.create_compare_job_definition(**compare_kwargs(**over))
    assert str(info.value).startswith(f"{field}:")


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"answer_options": ["a", "a"]}, "answer_options[1]"),
        ({"answer_options": ["a", ""]}, "answer_options[1]"),
        ({"answer_options": ["a"]}, "answer_options"),
        ({"datapoints": []}, "datapoints"),
        ({"contexts": ["x", "y"]}, "contexts"),
    ],
)
async def test_classification_rejects(
    client: AsyncRapidataClient, over: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValueError) as info:
        await client.job.create_classification_job_definition(**classify_kwargs(**over))
    assert str(info.value).startswith(f"{field}:")


async def test_example_truth_must_be_an_item(client: AsyncRapidataClient) -> None:
    audience = await client.audience.create_audience("Truth check")
    with pytest.raises(ValueError, match=r"^truth:"):
        await audience.add_compare_example(
            instruction="Which?", datapoint=PAIR, truth="https://example.com/c.jpg"
        )
    with pytest.raises(ValueError, match=r"^truth\[0\]:"):
        await audience.add_classification_example(
            instruction="What?",
            answer_options=["Cat", "Dog"],
            datapoint="https://example.com/a.jpg",
            truth=["Bird"],
        )


async def test_rejected_call_creates_nothing(client: AsyncRapidataClient) -> None:
    before = len(await client.job.find_job_definitions(amount=100))
    with pytest.raises(ValueError):
        await client.job.create_compare_job_definition(**compare_kwargs(contexts=["one"]))
    assert len(await client.job.find_job_definitions(amount=100)) == before
