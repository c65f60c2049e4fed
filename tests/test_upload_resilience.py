"""Uploads through a fault-injecting proxy: retries, lost answers, cache, progress."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from _poll import eventually
from _proxy import FaultProxy

from rapidata_async import (
    AsyncRapidataClient,
    FailedUploadException,
    UploadProgress,
    UploadTracker,
)
from rapidata_async.local import LocalBackend


@pytest.fixture
async def proxy(backend: LocalBackend) -> AsyncIterator[FaultProxy]:
    async with FaultProxy(backend.url) as p:
        yield p


def proxied(backend: LocalBackend, proxy: FaultProxy) -> AsyncRapidataClient:
    return AsyncRapidataClient(
        backend.client_id, backend.client_secret, api_url=proxy.url, auth_url=backend.url
    )


def images(tmp_path: Path, n: int) -> list[str]:
    out = []
    for i in range(n):
        p = tmp_path / f"pic_{i}.png"
        p.write_bytes(i.to_bytes(2, "big") * 512)
        out.append(str(p))
    return out


def freeze_batch_status(proxy: FaultProxy) -> None:
    """Every batch status poll answers "Processing, nothing done": the server stopped."""
    frozen = (
        b'{"status":"Processing","totalCount":2,"completedCount":0,"failedCount":0,'
        b'"completedBatches":[]}'
    )
    proxy.fail(
        200,
        times=10_000,
        path="/asset/batch-upload/status",
        body=frozen,
        content_type="application/json",
    )


async def results_count(client: AsyncRapidataClient, definition_id: str) -> list[int]:
    audience = await client.audience.get_audience_by_id("global")
    definition = await client.job.get_job_definition_by_id(definition_id)
    job = await audience.assign_job(definition)
    with anyio.fail_after(30):
        results = await job.get_results()
    return [sum(r.aggregated_results.values()) for r in results.results]


async def test_transient_failures_are_retried_without_duplicates(
    backend: LocalBackend, proxy: FaultProxy
) -> None:
    proxy.fail(503, times=2, path="/dataset/")
    proxy.cut(times=2, path="/dataset/", mid_body=True)  # created upstream, answer lost
    pairs = [[f"left {i}", f"right {i}"] for i in range(8)]
    async with proxied(backend, proxy) as client:
        definition = await client.job.create_compare_job_definition(
            name="Flaky network",
            instruction="Which?",
            datapoints=pairs,
            data_type="text",
            responses_per_datapoint=1,
        )
        counts = await results_count(client, definition.id)
    assert proxy.pending_faults == 0
    assert len(proxy.calls("/dataset/")) == 8 + 4
    assert counts == [1] * 8  # every datapoint exactly once


async def test_permanent_failure_is_not_retried_and_can_be_retried_later(
    backend: LocalBackend, proxy: FaultProxy, tmp_path: Path
) -> None:
    proxy.fail(400, times=1, path="/dataset/", body=b'{"title":"Datapoint rejected","status":400}')
    files = images(tmp_path, 4)
    async with proxied(backend, proxy) as client:
        with pytest.raises(FailedUploadException) as info:
            await client.job.create_classification_job_definition(
                name="One rejected",
                instruction="What?",
                answer_options=["a", "b"],
                datapoints=files,
                responses_per_datapoint=1,
            )
        e = info.value
        assert len(proxy.calls("/dataset/")) == 4  # the 400 was not retried
        assert [d.error_type for d in e.detailed_failures] == ["BadRequestError"]
        assert e.detailed_failures[0].error_message == "Datapoint rejected"
        assert e.job_definition is None  # strict by default: one failure stops it
        definition = await e.retry()
        assert await results_count(client, definition.id) == [1] * 4


async def test_second_run_uploads_no_unchanged_file(
    backend: LocalBackend, proxy: FaultProxy, tmp_path: Path
) -> None:
    files = images(tmp_path, 5)

    async def run() -> UploadProgress:
        tracker = UploadTracker()
        async with proxied(backend, proxy) as client:  # a new client: only the disk remembers
            await client.job.create_classification_job_definition(
                name="Cached",
                instruction="What?",
                answer_options=["a", "b"],
                datapoints=files,
                responses_per_datapoint=1,
                upload_progress=tracker,
            )
        assert tracker.latest is not None
        return tracker.latest

    first, second = await run(), await run()
    assert (first.files_uploaded, first.files_cached) == (5, 0)
    assert (second.files_uploaded, second.files_cached) == (0, 5)
    assert len(proxy.calls("/asset/file")) == 5

    Path(files[0]).write_bytes(b"changed content")  # a changed file is uploaded again
    assert (await run()).files_uploaded == 1
    assert len(proxy.calls("/asset/file")) == 6


async def test_progress_iterator_follows_the_upload(client: AsyncRapidataClient) -> None:
    tracker = UploadTracker()
    seen: list[UploadProgress] = []

    async def watch() -> None:
        async for p in tracker:
            seen.append(p)

    async with anyio.create_task_group() as tg:
        tg.start_soon(watch)
        await client.job.create_compare_job_definition(
            name="Tracked",
            instruction="Which?",
            data_type="text",
            datapoints=[[f"a{i}", f"b{i}"] for i in range(30)],
            responses_per_datapoint=1,
            upload_progress=tracker,
        )
    assert seen, "the iterator yielded nothing"
    assert seen[-1].finished and seen[-1].created == 30 and seen[-1].failed == 0
    assert [p.done for p in seen] == sorted(p.done for p in seen)


@pytest.mark.sqlite_only  # its own in-memory backends, whatever the store under test
async def test_cached_names_a_fresh_backend_does_not_know_are_uploaded_again(
    local_backend: LocalBackend, tmp_path: Path
) -> None:
    files = images(tmp_path, 3)
    first = LocalBackend()
    async with first:
        port = int(first.url.rsplit(":", 1)[1])
        async with first.client() as client:
            await client.job.create_classification_job_definition(
                name="Before restart",
                instruction="What?",
                answer_options=["a", "b"],
                datapoints=files,
                responses_per_datapoint=1,
            )
    # Same URL, empty database: every name in the upload cache is unknown there.
    async with LocalBackend(port=port) as second, second.client() as client:
        tracker = UploadTracker()
        definition = await client.job.create_classification_job_definition(
            name="After restart",
            instruction="What?",
            answer_options=["a", "b"],
            datapoints=files,
            responses_per_datapoint=1,
            upload_progress=tracker,
        )
        assert tracker.latest is not None
        assert (tracker.latest.files_cached, tracker.latest.files_uploaded) == (3, 3)
        assert await results_count(client, definition.id) == [1, 1, 1]


async def test_a_stalled_url_batch_fails_its_urls_instead_of_polling_forever(
    backend: LocalBackend, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rapidata_async import _constants

    monkeypatch.setattr(_constants, "BATCH_STALL_TIMEOUT", 0.3)
    freeze_batch_status(proxy)
    async with proxied(backend, proxy) as client:
        with anyio.fail_after(20), pytest.raises(FailedUploadException) as info:
            await client.job.create_compare_job_definition(
                name="Stalled",
                instruction="Which?",
                responses_per_datapoint=1,
                datapoints=[["https://example.com/a.png", "https://example.com/b.png"]],
            )
    (failure,) = info.value.detailed_failures
    assert "no progress" in failure.error_message
    assert info.value.job_definition is None
    assert [c.method for c in proxy.calls("/asset/batch-upload/") if c.path.endswith("/abort")] == [
        "POST"
    ]


async def test_cancelling_an_upload_aborts_its_unfinished_url_batches(
    backend: LocalBackend, proxy: FaultProxy
) -> None:
    freeze_batch_status(proxy)
    scope = anyio.CancelScope()

    async def upload(client: AsyncRapidataClient) -> None:
        with scope:
            await client.job.create_compare_job_definition(
                name="Cancelled",
                instruction="Which?",
                responses_per_datapoint=1,
                datapoints=[["https://example.com/c.png", "https://example.com/d.png"]],
            )

    def batch_submitted() -> bool:
        # The SDK polls the status only once it holds a batch id, so the batch exists upstream.
        submitted = [
            c for c in proxy.calls("/asset/batch-upload") if c.path == "/asset/batch-upload"
        ]
        polled = proxy.calls("/asset/batch-upload/status")
        return any(c.status == 200 for c in submitted) and bool(polled)

    async with proxied(backend, proxy) as client, anyio.create_task_group() as tg:
        tg.start_soon(upload, client)
        await eventually(batch_submitted, deadline=20)
        scope.cancel()
    assert scope.cancelled_caught
    aborts = [c for c in proxy.calls("/asset/batch-upload/") if c.path.endswith("/abort")]
    assert len(aborts) == 1 and aborts[0].status == 204
