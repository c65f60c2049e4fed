"""The app pages over plain HTTP: headers, the audience check, results, the missing extra."""

from __future__ import annotations

import aiohttp
import pytest

from rapidata_async import AsyncRapidataClient
from rapidata_async.__main__ import main
from rapidata_async.local import LocalBackend
from rapidata_async.local.web import _missing

HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy")


async def _get(url: str) -> tuple[int, dict[str, str], str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return (
            response.status,
            {k.lower(): v for k, v in response.headers.items()},
            (await response.text()),
        )


async def test_every_page_sends_the_security_headers(
    client: AsyncRapidataClient, backend: LocalBackend
) -> None:
    audience = (await client.audience.find_audiences("alignment"))[0]
    definition = await client.job.create_classification_job_definition(
        name="Headers",
        instruction="Pick one",
        answer_options=["yes", "no"],
        datapoints=["one", "two"],
        data_type="text",
        responses_per_datapoint=3,
    )
    job = await audience.assign_job(definition)
    await job.wait(timeout=30)
    base = f"/audiences/{audience.id}/job/{job.id}"
    for path, status in [
        ("/", 200),
        (f"/definitions/{definition.id}", 200),
        ("/definitions/nope", 404),
        (base, 200),
        (f"{base}/results", 200),
        (f"{base}/events", 200),
        (f"/audiences/someone-else/job/{job.id}", 404),
        ("/mri/benchmarks/b1", 404),
        ("/mri/benchmarks/b1/leaderboard/l1", 404),
        ("/static/app.css", 200),
        ("/static/nope.js", 404),
        ("/media/nope.png", 404),
    ]:
        got, headers, _ = await _get(backend.url + path)
        assert got == status, path
        assert all(h in headers for h in HEADERS), (path, headers)
        assert headers["x-content-type-options"] == "nosniff"
        assert "default-src 'none'" in headers["content-security-policy"]


async def test_job_view_shows_counts_once_complete(
    client: AsyncRapidataClient, backend: LocalBackend
) -> None:
    audience = (await client.audience.find_audiences("alignment"))[0]
    definition = await client.job.create_classification_job_definition(
        name="Counts",
        instruction="Pick one",
        answer_options=["yes", "no"],
        datapoints=["one"],
        data_type="text",
        responses_per_datapoint=4,
    )
    job = await audience.assign_job(definition)
    results = await job.get_results(timeout=30)
    _, _, text = await _get(f"{backend.url}/audiences/{audience.id}/job/{job.id}")
    votes = results.results[0].aggregated_results
    assert "4 votes over 1 items" in text
    for category, count in votes.items():
        assert f"{category}: <b>{count}</b>" in text
    _, _, events = await _get(f"{backend.url}/audiences/{audience.id}/job/{job.id}/events")
    assert events.startswith("event: progress\ndata: ")
    assert events.rstrip().endswith('event: done\ndata: {"state": "Completed"}')


async def test_without_the_web_extra_the_api_works_and_pages_name_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_missing, "WEB_MODULES", (*_missing.WEB_MODULES, "no_such_module_x"))
    async with LocalBackend() as backend, backend.client() as client:
        assert await client.audience.find_audiences("alignment")
        status, _, text = await _get(f"{backend.url}/definitions/anything")
    assert status == 501
    assert "no_such_module_x" in text and "rapidata-async[web]" in text
    assert main(["serve", "--port", "0", "--db", ":memory:"]) == 2
    assert "rapidata-async[web]" in capsys.readouterr().err
