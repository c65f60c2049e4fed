"""Connecting: one base URL, hosts never named, options per client, lifecycle hints, and
waits that ride out outages. Everything runs against the real local backend on loopback,
through ``tests/_proxy.FaultProxy`` where faults are needed."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from _proxy import FaultProxy

from rapidata_async import (
    AsyncRapidataClient,
    InternalServerError,
    Job,
    RapidataTimeoutError,
    WaitTimeoutError,
)
from rapidata_async import _constants as C
from rapidata_async.local import LocalBackend

URL_A = "https://assets.rapidata.ai/midjourney-5.2_37_3.jpg"
URL_B = "https://assets.rapidata.ai/flux-1-pro_37_0.jpg"


@pytest.fixture
async def proxy(backend: LocalBackend) -> AsyncIterator[FaultProxy]:
    async with FaultProxy(backend.url) as p:
        yield p


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RAPIDATA_BASE_URL", "RAPIDATA_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)


def through(backend: LocalBackend, proxy: FaultProxy, **kw: Any) -> AsyncRapidataClient:
    return AsyncRapidataClient(backend.client_id, backend.client_secret, base_url=proxy.url, **kw)


async def finished_job(client: AsyncRapidataClient) -> Job:
    audience = await client.audience.get_audience_by_id("global")
    definition = await client.job.create_compare_job_definition(
        name="outage", instruction="Which is better?", datapoints=[[URL_A, URL_B]],
        responses_per_datapoint=3,
    )  # fmt: skip
    job = await audience.assign_job(definition)
    with anyio.fail_after(30):
        await job.wait()
    return job


# -- one base URL, never an unnamed host ------------------------------------------------------


async def test_base_url_derives_api_token_and_app_hosts(
    backend: LocalBackend, proxy: FaultProxy, no_env: None
) -> None:
    async with through(backend, proxy) as client:
        assert client.api_url == client.auth_url == client.app_url == proxy.url
        audiences = await client.audience.find_audiences("alignment")
        assert audiences
    assert [c.method for c in proxy.calls("/connect/token")] == ["POST"]
    assert proxy.calls("/audiences")


async def test_base_url_from_the_environment(
    backend: LocalBackend, proxy: FaultProxy, no_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPIDATA_BASE_URL", proxy.url + "/")
    async with AsyncRapidataClient(backend.client_id, backend.client_secret) as client:
        assert client.api_url == proxy.url
        await client.audience.find_audiences("alignment")
    assert proxy.calls("/connect/token") and proxy.calls("/audiences")
    # An explicit environment argument wins over the variable.
    assert AsyncRapidataClient(environment="rapidata.ai").api_url == "https://api.rapidata.ai"


def test_api_url_alone_never_sends_credentials_elsewhere(no_env: None) -> None:
    with pytest.raises(ValueError, match=r"without auth_url.*https://auth\.rapidata\.ai.*base_url"):
        AsyncRapidataClient("id", "secret", api_url="http://127.0.0.1:9")
    # A ready token needs no token endpoint, so api_url alone is fine.
    client = AsyncRapidataClient(api_url="http://127.0.0.1:9", token={"access_token": "t"})
    assert client.api_url == "http://127.0.0.1:9"


@pytest.mark.parametrize("value", ["127.0.0.1:8080", "localhost:8080", "http://127.0.0.1:8080"])
def test_environment_that_is_an_address_fails_clearly(
    value: str, no_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPIDATA_ENVIRONMENT", value)
    with pytest.raises(ValueError, match=r"RAPIDATA_ENVIRONMENT=.*RAPIDATA_BASE_URL='http://"):
        AsyncRapidataClient("id", "secret")


def test_hosted_environment_and_bad_combinations(no_env: None) -> None:
    client = AsyncRapidataClient(environment="rapidata.dev")
    assert (client.api_url, client.auth_url, client.app_url) == (
        "https://api.rapidata.dev",
        "https://auth.rapidata.dev",
        "https://app.rapidata.dev",
    )
    with pytest.raises(ValueError, match="either base_url"):
        AsyncRapidataClient(base_url="http://127.0.0.1:1", environment="rapidata.ai")
    with pytest.raises(ValueError, match="base_url must be an http"):
        AsyncRapidataClient(base_url="127.0.0.1:8080")
    with pytest.raises(ValueError, match="read_timeout must be"):
        AsyncRapidataClient(base_url="http://127.0.0.1:1", timeout=0)


# -- timeouts and options ---------------------------------------------------------------------


def test_defaults_surface_a_silent_server_within_a_minute() -> None:
    # A silent server costs one read timeout per attempt, and a timed-out attempt is
    # repeated TIMEOUT_RETRIES times; backoff between them is at most a few seconds.
    worst = (1 + C.TIMEOUT_RETRIES) * C.READ_TIMEOUT + C.BACKOFF_BASE * 2
    assert worst <= 65
    assert C.CONNECT_TIMEOUT * (1 + C.TIMEOUT_RETRIES) <= 30


async def test_silent_server_surfaces_after_one_repeat(
    backend: LocalBackend, proxy: FaultProxy
) -> None:
    async with through(backend, proxy, timeout=0.3, max_retries=3) as client:
        await client.audience.find_audiences("alignment")  # token fetched
        proxy.delay(30, times=5, path="/audiences")
        started = time.monotonic()
        with pytest.raises(RapidataTimeoutError, match="waiting for data"):
            await client.audience.find_audiences("alignment")
    assert time.monotonic() - started < 5
    assert len(proxy.calls("/audiences")) == 1 + 2  # the first call, then two attempts


async def test_with_options_shares_the_pool_and_changes_retries(
    backend: LocalBackend, proxy: FaultProxy
) -> None:
    async with through(backend, proxy) as client:
        strict = client.with_options(max_retries=0)
        await strict.audience.find_audiences("alignment")
        proxy.fail(503, path="/audiences")
        with pytest.raises(InternalServerError):
            await strict.audience.find_audiences("alignment")
        proxy.fail(503, path="/audiences")
        assert await client.audience.find_audiences("alignment")  # retried past the 503
        await strict.close()  # closes nothing: the pool is the original's
        assert await client.audience.find_audiences("alignment")
    assert len(proxy.calls("/connect/token")) == 1  # one token for both
    with pytest.raises(RuntimeError, match="closed"):
        await strict.audience.find_audiences("alignment")  # the original closed the pool


# -- lifecycle hints --------------------------------------------------------------------------


async def test_unopened_closed_and_not_awaited_hints(backend: LocalBackend) -> None:
    client = backend.client()
    with pytest.raises(RuntimeError, match=r"not open yet.*async with.*await client\.open\(\)"):
        client.audience  # noqa: B018
    await client.open()
    listing = client.audience.find_audiences("alignment")
    with pytest.raises(TypeError, match=r"not awaited.*\(await client\.audience\.find_audiences"):
        listing[0]
    with pytest.raises(TypeError, match="not awaited"):
        len(listing)
    assert (await listing)[0].name
    await client.close()
    await client.close()  # twice is fine
    with pytest.raises(RuntimeError, match="closed"):
        client.job  # noqa: B018


# -- waits ride out outages -------------------------------------------------------------------


async def test_get_results_rides_out_failed_polls(
    client: AsyncRapidataClient, backend: LocalBackend, proxy: FaultProxy
) -> None:
    job = await finished_job(client)
    async with through(backend, proxy, max_retries=0) as flaky:
        again = await flaky.job.get_job_by_id(job.id)
        # Every request of this job fails for a while: cut connections, 503s, a 429.
        proxy.cut(times=2, path=f"/job/{job.id}")
        proxy.fail(503, times=2, path=f"/job/{job.id}")
        proxy.fail(429, path=f"/job/{job.id}")
        proxy.cut(path=f"/job/{job.id}/download-results")
        with anyio.fail_after(30):
            results = await again.get_results(timeout=20)
    assert len(results.results) == 1
    assert proxy.pending_faults == 0
    answered = [c.status for c in proxy.calls(f"/job/{job.id}")]
    assert answered.count(None) == 3 and answered.count(503) == 2 and 200 in answered


async def test_progress_polls_through_an_outage_while_the_job_runs(
    client: AsyncRapidataClient, backend: LocalBackend, proxy: FaultProxy
) -> None:
    audience = await client.audience.get_audience_by_id("global")
    definition = await client.job.create_compare_job_definition(
        name="running", instruction="Which is better?", datapoints=[[URL_A, URL_B]],
        responses_per_datapoint=3,
    )  # fmt: skip
    async with through(backend, proxy, max_retries=0) as flaky:
        proxy.fail(503, times=4, path="/job/")
        job = await (await flaky.audience.get_audience_by_id(audience.id)).assign_job(definition)
        with anyio.fail_after(30):
            states = [p.state async for p in job.progress(timeout=20)]
    assert states[-1] == "Completed"
    assert proxy.pending_faults == 0


async def test_wait_deadline_is_a_clear_timeout(
    client: AsyncRapidataClient, backend: LocalBackend, proxy: FaultProxy
) -> None:
    job = await finished_job(client)
    async with through(backend, proxy, max_retries=0) as flaky:
        again = await flaky.job.get_job_by_id(job.id)
        proxy.fail(503, times=10_000, path=f"/job/{job.id}")
        started = time.monotonic()
        with pytest.raises(WaitTimeoutError, match=rf"job {job.id}.*within 0\.5 s") as info:
            await again.get_results(timeout=0.5)
        assert isinstance(info.value, TimeoutError)
        with pytest.raises(WaitTimeoutError, match=r"did not finish within 0\.3 s"):
            await again.wait(timeout=0.3)
    assert time.monotonic() - started < 3
