"""``client.validation`` end to end on the local backend: both kinds of set, fetched, found
and viewed; failed rapids reported together after all were tried; bad input refused before
any request (both stores)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rapidata_async import (
    AsyncRapidataClient,
    FailedValidationRapidsException,
    RapidataValidationSet,
)
from rapidata_async._wire import validation as wire
from rapidata_async._wire.common import ExistingAssetInput, MultiAssetInput, TextAssetInput
from rapidata_async.local import LocalBackend
from rapidata_async.local.store.base import ANY_OWNER

URL_A = "https://assets.rapidata.ai/midjourney-5.2_37_3.jpg"
URL_B = "https://assets.rapidata.ai/flux-1-pro_37_0.jpg"


def images(tmp_path: Path, n: int) -> list[str]:
    paths = []
    for i in range(n):
        path = tmp_path / f"val_{i}.jpg"
        path.write_bytes(bytes([i + 1]) * 1024)
        paths.append(str(path))
    return paths


async def rapids(backend: LocalBackend, set_id: str) -> list[wire.AddValidationRapidInput]:
    return await backend.store.validation_sets.rapids(set_id, owner=ANY_OWNER)


async def test_compare_set_with_media_round_trips(
    client: AsyncRapidataClient, backend: LocalBackend, tmp_path: Path
) -> None:
    files = images(tmp_path, 3)
    created = await client.validation.create_compare_set(
        name="Prompt alignment checks",
        instruction="Which image follows the prompt better?",
        datapoints=[[URL_A, URL_B], [files[0], files[1]]],
        truths=[URL_B, files[0]],
        contexts=["A red book", "A blue book"],
        media_contexts=[[files[2]], None],  # type: ignore[list-item]
        explanation=["Look at the colour", None],
        dimensions=["alignment"],
    )
    assert isinstance(created, RapidataValidationSet)
    assert created.dimensions == ["alignment"]
    stored = await rapids(backend, created.id)
    assert len(stored) == 2
    by_context = {r.context: r for r in stored}
    first, second = by_context["A red book"], by_context["A blue book"]
    # The truth names the uploaded winner, whatever the order the rapids landed in.
    for rapid, winner in ((first, 1), (second, 0)):
        assert isinstance(rapid.asset, MultiAssetInput)
        names = [a.name for a in rapid.asset.assets]  # type: ignore[union-attr]
        assert isinstance(rapid.truth, wire.CompareTruth)
        assert rapid.truth.winner_id == names[winner]
        assert rapid.random_correct_probability == 0.5
        assert rapid.payload == wire.ComparePayload(
            criteria="Which image follows the prompt better?"
        )
    assert first.explanation == "Look at the colour" and second.explanation is None
    assert isinstance(first.context_asset, ExistingAssetInput)
    assert first.context_asset.name.startswith("val_2")

    fetched = await client.validation.get_validation_set_by_id(created.id)
    assert (fetched.id, fetched.name, fetched.dimensions) == (
        created.id,
        "Prompt alignment checks",
        ["alignment"],
    )
    assert await fetched.view() == f"{client.app_url}/validation-set/detail/{created.id}"
    assert fetched.url.endswith(f"/validation-set/detail/{created.id}")


async def test_classification_set_of_texts_and_find(
    client: AsyncRapidataClient, backend: LocalBackend
) -> None:
    created = await client.validation.create_classification_set(
        name="Sentiment checks",
        instruction="Is the sentence positive?",
        answer_options=["yes", "no", "unsure"],
        datapoints=["I love it.", "I hate it."],
        truths=[["yes"], ["no", "unsure"]],
        data_type="text",
        explanations=[None, "It says hate"],
    )
    stored = sorted(await rapids(backend, created.id), key=lambda r: str(r.asset))
    assert [r.asset for r in stored] == [
        TextAssetInput(text="I hate it."),
        TextAssetInput(text="I love it."),
    ]
    assert [r.truth for r in stored] == [
        wire.AttachCategoryTruth(correct_categories=["no", "unsure"]),
        wire.AttachCategoryTruth(correct_categories=["yes"]),
    ]
    assert [r.random_correct_probability for r in stored] == [pytest.approx(2 / 3), 1 / 3]
    other = await client.validation.create_compare_set(
        name="Other checks",
        instruction="Which?",
        datapoints=[["left", "right"]],
        truths=["left"],
        data_type="text",
    )
    found = await client.validation.find_validation_sets("checks")
    assert [s.id for s in found] == [other.id, created.id]  # newest first
    assert [s.id for s in await client.validation.find_validation_sets("sentiment")] == [created.id]
    paged = [s.id async for s in client.validation.find_validation_sets(amount=1)]
    assert paged == [other.id, created.id]


async def test_failed_rapids_are_reported_together_after_all_were_tried(
    client: AsyncRapidataClient, backend: LocalBackend, tmp_path: Path
) -> None:
    files = images(tmp_path, 4)
    missing = str(tmp_path / "missing.jpg")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    datapoints = [files[0], missing, files[1], str(empty), files[2]]
    with pytest.raises(FailedValidationRapidsException) as info:
        await client.validation.create_classification_set(
            name="Partly broken",
            instruction="Is it a cat?",
            answer_options=["cat", "dog"],
            datapoints=datapoints,
            truths=[["cat"]] * 5,
        )
    exc = info.value
    assert isinstance(exc, RuntimeError)
    assert [(f.index, f.datapoint) for f in exc.failures] == [(1, missing), (3, str(empty))]
    assert {f.error_type for f in exc.failures} == {"AssetUploadFailed"}
    assert "datapoints[1]" in str(exc) and "datapoints[3]" in str(exc)
    # The set exists and holds the three that worked.
    assert isinstance(exc.validation_set, RapidataValidationSet)
    assert len(await rapids(backend, exc.validation_set.id)) == 3


PAIR = [URL_A, URL_B]


@pytest.mark.parametrize(
    ("method", "kwargs", "fragment"),
    [
        ("compare", {"datapoints": [PAIR, [URL_A]], "truths": [URL_A, URL_A]}, "datapoints[1]"),
        ("compare", {"datapoints": [PAIR], "truths": [URL_A, URL_B]}, "truths: has 2"),
        ("compare", {"datapoints": [PAIR], "truths": ["elsewhere.jpg"]}, "truths[0]"),
        ("compare", {"datapoints": [PAIR], "truths": URL_A}, "truths: must be a list"),
        ("compare", {"datapoints": [PAIR], "truths": [URL_A], "contexts": []}, "contexts"),
        (
            "compare",
            {"datapoints": [PAIR], "truths": [URL_A], "explanation": ["a", "b"]},
            "explanations",
        ),
        (
            "compare",
            {"datapoints": [PAIR], "truths": [URL_A], "dimensions": [""]},
            "dimensions[0]",
        ),
        ("compare", {"datapoints": [PAIR], "truths": [URL_A], "name": " "}, "name"),
        ("classify", {"truths": [["cat"], ["bird"]]}, "truths[1][0]"),
        ("classify", {"truths": [["cat"], []]}, "truths[1]"),
        ("classify", {"truths": [["cat"]]}, "truths: has 1"),
        ("classify", {"answer_options": ["cat"]}, "answer_options"),
        ("classify", {"media_contexts": [URL_A]}, "media_contexts"),
        ("classify", {"data_type": "video"}, "data_type"),
    ],
)
async def test_bad_input_is_refused_before_any_request(
    client: AsyncRapidataClient, method: str, kwargs: dict[str, Any], fragment: str
) -> None:
    if method == "compare":
        call: dict[str, Any] = {"name": "s", "instruction": "Which?", **kwargs}
        with pytest.raises(ValueError) as info:
            await client.validation.create_compare_set(**call)
    else:
        call = {
            "name": "s",
            "instruction": "What is it?",
            "answer_options": ["cat", "dog"],
            "datapoints": [URL_A, URL_B],
            "truths": [["cat"], ["dog"]],
            **kwargs,
        }
        with pytest.raises(ValueError) as info:
            await client.validation.create_classification_set(**call)
    assert fragment in str(info.value)
    assert await client.validation.find_validation_sets() == []  # nothing was created


async def test_get_and_update_errors(client: AsyncRapidataClient) -> None:
    from rapidata_async import NotFoundError

    with pytest.raises(NotFoundError):
        await client.validation.get_validation_set_by_id("no-such-set")
    with pytest.raises(ValueError, match="validation_set_id"):
        await client.validation.get_validation_set_by_id("")
    created = await client.validation.create_compare_set(
        "s", "Which?", [["a", "b"]], ["a"], data_type="text"
    )
    await created.update_dimensions(["x", "y"])
    fetched = await client.validation.get_validation_set_by_id(created.id)
    assert fetched.dimensions == ["x", "y"]
    with pytest.raises(ValueError, match="dimensions"):
        await created.update_dimensions("x")
