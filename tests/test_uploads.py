"""Local files, URLs and partial failures through the public SDK."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from rapidata_async import AsyncRapidataClient, FailedUploadException


def make_images(tmp_path: Path, n: int, size: int = 2048) -> list[str]:
    paths = []
    for i in range(n):
        p = tmp_path / f"img_{i}.jpg"
        p.write_bytes(bytes([i % 256]) * size)
        paths.append(str(p))
    return paths


async def test_local_files_become_datapoints(client: AsyncRapidataClient, tmp_path: Path) -> None:
    images = make_images(tmp_path, 6)
    definition = await client.job.create_classification_job_definition(
        name="Local files",
        instruction="What animal is in the image?",
        answer_options=["Cat", "Dog"],
        datapoints=images,
        media_contexts=[images[0]] * 6,
        responses_per_datapoint=2,
    )
    audience = await client.audience.get_audience_by_id("global")
    job = await audience.assign_job(definition)
    with anyio.fail_after(30):
        results = await job.get_results()
    assert len(results.results) == 6
    names = [r.original_file_name for r in results.results]
    assert all(n and n.startswith(f"img_{i}") for i, n in enumerate(names))


async def test_missing_file_is_a_per_item_failure(
    client: AsyncRapidataClient, tmp_path: Path
) -> None:
    images = make_images(tmp_path, 3)
    missing = str(tmp_path / "missing.jpg")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    datapoints = [images[0], missing, images[1], str(empty), str(tmp_path), images[2]]
    with pytest.raises(FailedUploadException) as info:
        await client.job.create_classification_job_definition(
            name="Partly missing",
            instruction="What animal is in the image?",
            answer_options=["Cat", "Dog"],
            datapoints=datapoints,
            responses_per_datapoint=2,
            failure_tolerance=0.2,  # 3 of 6 failed: beyond it, so no definition yet
        )
    e = info.value
    assert [f.asset[0] for f in e.failed_uploads] == [missing, str(empty), str(tmp_path)]
    assert {d.error_type for d in e.detailed_failures} == {"AssetUploadFailed"}
    assert "not found" in e.detailed_failures[0].error_message
    assert "empty" in e.detailed_failures[1].error_message
    assert e.job_definition is None
    assert sum(len(v) for v in e.failures_by_reason.values()) == 3
    assert missing in e.detailed_failures[0].error_message  # the message names the file

    # Fix two files and retry into the same dataset: 1 of 6 still fails, within the tolerance.
    Path(missing).write_bytes(b"now here")
    empty.write_bytes(b"now filled")
    definition = await e.retry()
    assert definition.dataset_id == e.dataset.id

    audience = await client.audience.get_audience_by_id("global")
    job = await audience.assign_job(definition)
    with anyio.fail_after(30):
        results = await job.get_results()
    assert len(results.results) == 5


async def test_same_asset_uploaded_once(client: AsyncRapidataClient, tmp_path: Path) -> None:
    (a,) = make_images(tmp_path, 1)
    definition = await client.job.create_compare_job_definition(
        name="Shared asset",
        instruction="Which is better?",
        datapoints=[[a, f"https://example.com/{i}.jpg"] for i in range(5)],
        responses_per_datapoint=1,
    )
    audience = await client.audience.get_audience_by_id("global")
    job = await audience.assign_job(definition)
    with anyio.fail_after(30):
        results = await job.get_results()
    left = {next(iter(r.aggregated_results)) for r in results.results}
    assert len(left) == 1


async def test_failures_group_by_cause_not_by_file_name(
    client: AsyncRapidataClient, tmp_path: Path
) -> None:
    images = make_images(tmp_path, 1)
    missing = [str(tmp_path / f"gone_{i}.jpg") for i in range(4)]
    with pytest.raises(FailedUploadException) as info:
        await client.job.create_classification_job_definition(
            name="Many missing",
            instruction="What animal is in the image?",
            answer_options=["Cat", "Dog"],
            datapoints=[images[0], *missing, str(tmp_path)],
            responses_per_datapoint=2,
        )
    grouped = {k: [dp.asset[0] for dp in v] for k, v in info.value.failures_by_reason.items()}
    assert grouped == {
        "Asset upload failed: file not found": missing,
        "Asset upload failed: not a regular file": [str(tmp_path)],
    }
    assert "4 x Asset upload failed: file not found" in str(info.value)
