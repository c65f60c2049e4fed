"""Two ``serve`` processes on one PostgreSQL database are one backend.

Each test starts two real ``python -m rapidata_async serve --db postgresql://…`` processes on a
fresh schema, sharing one assets directory, with a short lease TTL. The SDK creates a job
through one process while the other answers reads; then the process holding the job's lease
is killed with SIGKILL mid-job, and the other one takes the job over once the lease expires
and completes it: every datapoint ends with exactly the referee's number of responses, in the
responses table and in the results document (nothing lost, nothing counted twice).

The official 3.27.1 client's flows run through a round-robin TCP proxy in front of both
processes (https; each connection goes to the next process), so its calls land on both.

Needs ``RAPIDATA_TEST_POSTGRES_DSN`` (skipped with a "postgres:" reason otherwise).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from _postgres import DSN, SKIP_REASON, postgres_schema
from _serve import RoundRobin, Served, official_client_env, served

from rapidata_async import AsyncRapidataClient
from rapidata_async.results import CompareResult

pytestmark = pytest.mark.skipif(not DSN, reason=SKIP_REASON)

LEASE_TTL = 2.0
# Crowd seconds per wall-clock second: the job below collects its responses over a few
# seconds, long enough to be caught mid-way by progress polls every 50 ms.
SPEED = 30.0
DATAPOINTS = 16
VOTES = 6


async def _lease_owner(dsn: str, job_id: str) -> str | None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        owner: str | None = await conn.fetchval(
            "SELECT owner FROM leases WHERE kind = 'job' AND key = $1", job_id
        )
        return owner
    finally:
        await conn.close()


async def _responses_per_datapoint(dsn: str, job_id: str) -> Counter[str]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT datapoint_id, count(*) FROM responses WHERE job_id = $1 GROUP BY datapoint_id",
            job_id,
        )
        return Counter({row[0]: row[1] for row in rows})
    finally:
        await conn.close()


def _pid_of(owner: str | None) -> int | None:
    # Owners read "<host>/<pid>/<random>".
    if owner is None:
        return None
    return int(owner.split("/")[1])


def _client(proc: Served, **kwargs: Any) -> AsyncRapidataClient:
    return AsyncRapidataClient(
        proc.client_id,
        proc.client_secret,
        api_url=proc.url,
        auth_url=proc.url,
        app_url=proc.url,
        **kwargs,
    )


def _pairs(n: int) -> list[list[str]]:
    return [
        [f"https://example.com/left_{i}.jpg", f"https://example.com/right_{i}.jpg"]
        for i in range(n)
    ]


@asynccontextmanager
async def _two(
    dsn: str,
    tmp_path: Path,
    *extra: str,
    pace: tuple[str, ...] = ("realistic", "--speed", str(SPEED)),
) -> AsyncIterator[tuple[Served, Served]]:
    args = [
        "--db",
        dsn,
        "--assets-dir",
        str(tmp_path / "assets"),
        "--pace",
        *pace,
        "--lease-ttl",
        str(LEASE_TTL),
        *extra,
    ]
    async with served(args, logs=tmp_path) as a, served(args, logs=tmp_path) as b:
        yield a, b


@pytest.fixture
async def dsn(anyio_backend: Any) -> AsyncIterator[str]:
    async with postgres_schema() as schema_dsn:
        yield schema_dsn


async def test_two_processes_are_one_backend_and_survive_a_kill(dsn: str, tmp_path: Path) -> None:
    async with _two(dsn, tmp_path) as (a, b):
        assert a.client_id == b.client_id and a.url != b.url
        async with _client(a) as on_a, _client(b) as on_b:
            # The docs' quickstart on A ...
            audience = (await on_a.audience.find_audiences("alignment"))[0]
            definition = await on_a.job.create_compare_job_definition(
                name="Example Image Prompt Alignment",
                instruction="Which image matches the description better?",
                datapoints=_pairs(DATAPOINTS),
                contexts=[f"context {i}" for i in range(DATAPOINTS)],
                responses_per_datapoint=VOTES,
            )
            job = await audience.assign_job(definition)

            # ... while B answers the reads.
            found = [j.id async for j in on_b.job.find_jobs("Example")]
            assert job.id in found
            assert (await on_b.audience.get_audience_by_id(audience.id)).name == audience.name
            job_on_b = await on_b.job.get_job_by_id(job.id)
            total = DATAPOINTS * VOTES
            with anyio.fail_after(30):
                while True:
                    progress = await job_on_b.get_progress()
                    assert progress.state != "Completed", "the job ended before it was caught"
                    if progress.response_count >= total // 4:
                        break
                    await anyio.sleep(0.05)
            holder_pid = _pid_of(await _lease_owner(dsn, job.id))
            assert holder_pid in (a.pid, b.pid)
            holder, survivor = (a, b) if holder_pid == a.pid else (b, a)
            holder.kill()
            await holder.process.wait()
            killed_at = (await job_on_b.get_progress()).response_count if survivor is b else None

        async with _client(survivor) as client:
            survivor_job = await client.job.get_job_by_id(job.id)
            owners: set[int | None] = set()
            with anyio.fail_after(40):
                while (progress := await survivor_job.get_progress()).state != "Completed":
                    assert progress.state == "Running"
                    owners.add(_pid_of(await _lease_owner(dsn, job.id)))
                    await anyio.sleep(0.1)
            assert survivor.pid in owners  # the survivor took the lease over
            assert progress.response_count == total
            results = await survivor_job.get_results()

        stored = await _responses_per_datapoint(dsn, job.id)
        assert sorted(stored.values()) == [VOTES] * DATAPOINTS
        assert len(results.results) == DATAPOINTS
        for item in results.results:
            assert isinstance(item, CompareResult)
            assert len(item.detailed_results) == VOTES
        if killed_at is not None:
            assert killed_at < total  # B saw it mid-way


# -- the official client through a round-robin proxy ------------------------------------------
OFFICIAL_TIMEOUT = 90.0


async def test_the_official_client_runs_on_two_processes(dsn: str, tmp_path: Path) -> None:
    pytest.importorskip("rapidata", reason="optional extra: dev (the official client)")
    trustme = pytest.importorskip("trustme", reason="optional extra: dev (trustme)")
    ca = trustme.CA()
    ca_pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_pem))
    cert = ca.issue_cert("api.localhost", "auth.localhost", "127.0.0.1")
    cert_pem, key_pem = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_pem))
    cert.private_key_pem.write_to_path(str(key_pem))
    tls = ("--tls-cert", str(cert_pem), "--tls-key", str(key_pem))
    async with _two(dsn, tmp_path, *tls, pace=("instant",)) as (a, b):
        async with RoundRobin([a.port, b.port]).running() as proxy:
            reports = await _run_official(proxy.port, ca_pem, a, tmp_path / "home")
            assert proxy.connections >= 2
        for name in ("quickstart", "classification"):
            report = reports[name]
            assert "error" not in report, report["error"]
            assert report["validation_warnings"] == []
            assert report["status"] == "Completed"
        # Both processes read the jobs the official client made, with their full results.
        for proc in (a, b):
            async with _client(proc, cert_path=str(ca_pem)) as client:
                for name, votes in (("quickstart", 10), ("classification", 5)):
                    job = await client.job.get_job_by_id(reports[name]["job_id"])
                    assert await job.get_status() == "Completed"
                    results = await job.get_results()
                    assert (
                        sum(len(r.detailed_results) for r in results.results)
                        == (reports[name]["responses"])
                    )
                    assert reports[name]["responses"] == votes * reports[name]["datapoints"]


async def _run_official(port: int, ca_pem: Path, proc: Served, home: Path) -> dict[str, Any]:
    home.mkdir()
    env = official_client_env(port, ca_pem, proc.client_id, proc.client_secret, home)
    runner = Path(__file__).with_name("_official_client.py")
    with anyio.fail_after(OFFICIAL_TIMEOUT):
        done = await anyio.run_process(
            [sys.executable, str(runner), "quickstart", "classification"],
            env=env,
            cwd=str(home),
            check=False,
        )
    try:
        reports: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"runner exited {done.returncode}: {done.stderr.decode()[-3000:]}")
    return reports
