"""The job engine through the public SDK: jobs get exactly what their referee needs, a job
whose audience is too small waits with a reason instead of completing, and requests that
would make the backend work for ages are refused."""

from __future__ import annotations

import base64
import time
from typing import Any

import aiohttp
import anyio

from rapidata_async import AsyncRapidataClient, CountryFilter
from rapidata_async.local import LocalBackend

LIKERT = ["1: Poor", "2: Fair", "3: Good", "4: Excellent"]


async def _raw(backend: LocalBackend, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            backend.url + "/connect/token",
            data={"grant_type": "client_credentials", "scope": "openid email api"},
            headers={
                "Authorization": "Basic "
                + base64.b64encode(f"{backend.client_id}:{backend.client_secret}".encode()).decode()
            },
        ) as response:
            token = (await response.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        async with session.request(
            method, backend.url + path, headers=headers, **kwargs
        ) as response:
            return response.status, await response.json(content_type=None)


async def test_likert_example_gets_every_response_20_times(client: AsyncRapidataClient) -> None:
    """Each run: every datapoint has exactly responses_per_datapoint responses."""
    audience = await client.audience.get_audience_by_id("global")
    for run in range(20):
        definition = await client.job.create_classification_job_definition(
            name=f"Likert {run}",
            instruction="Rate the quality of this sentence",
            answer_options=LIKERT,
            datapoints=[f"Sentence {i} of run {run}." for i in range(4)],
            data_type="text",
            responses_per_datapoint=5,
        )
        job = await audience.assign_job(definition)
        with anyio.fail_after(30):
            results = await job.get_results()
        assert len(results.results) == 4
        for item in results.results:
            assert sum(item.aggregated_results.values()) == 5, (run, item.aggregated_results)


async def test_small_audience_job_waits_with_a_reason(
    client: AsyncRapidataClient, backend: LocalBackend
) -> None:
    """25 responses per datapoint from an audience where only a few labelers qualify: the job
    keeps Running, shows its progress and says why, and never reports Completed."""
    audience = await client.audience.create_audience(
        name="Libya only", filters=[CountryFilter(country_codes=["LY"])]
    )
    for _ in range(3):
        await audience.add_compare_example(
            instruction="Which is better?",
            truth="good",
            datapoint=["good", "bad"],
            data_type="text",
        )
    definition = await client.job.create_compare_job_definition(
        name="Needs many",
        instruction="Which is better?",
        datapoints=[["left", "right"], ["up", "down"]],
        data_type="text",
        responses_per_datapoint=25,
    )
    job = await audience.assign_job(definition)
    graduated = 0
    reason = None
    with anyio.fail_after(20):
        while reason is None:
            await anyio.sleep(0.05)
            status, body = await _raw(backend, "GET", f"/job/{job.id}")
            assert status == 200
            assert body["state"] in ("Submitted", "Running")
            reason = body.get("reviewReason")
    graduated = (await audience.get_user_metrics())["Graduated"]
    assert 0 < graduated < 25
    assert reason.startswith("waiting for labelers")
    assert f"{graduated} labeler(s)" in reason
    progress = await job.get_progress()
    assert progress.state == "Running"
    # every qualified labeler answered every datapoint once, and the job still waits
    assert progress.response_count == 2 * graduated
    assert progress.completed == 0


async def test_huge_min_tasks_is_refused_and_the_server_stays_responsive(
    backend: LocalBackend,
) -> None:
    status, body = await _raw(
        backend,
        "POST",
        "/audience",
        json={
            "name": "Endless",
            "graduationRule": {"_t": "TaskAccuracy", "targetAccuracy": 0.8, "minTasks": 10**9},
        },
    )
    assert status == 400
    assert "graduationRule.minTasks" in body["errors"]
    started = time.monotonic()
    status, body = await _raw(backend, "GET", "/audiences")
    assert status == 200 and body["items"]
    assert time.monotonic() - started < 2.0
