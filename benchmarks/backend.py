"""Benchmarks of the local backend's core.

Part (a), ``engine``: responses through the referee in ``instant`` pace, persisted by the store.
100 jobs x 1,000 datapoints x 10 responses (naive referee) = 1,000,000 responses on the global
audience; prints responses/s from the engine's start to the last job ``Completed``::

    python benchmarks/backend.py engine                      # SQLite in memory
    python benchmarks/backend.py engine --db bench.sqlite3   # SQLite file (WAL)
    python benchmarks/backend.py engine --db postgresql://user@host/db
    python benchmarks/backend.py engine --jobs 10            # a smaller run

Part (b), ``uploads``: ``benchmarks/uploads.py`` W1/W2 (``--quick`` sizes unless ``--full``)
with our SDK and the raw aiohttp client, on this checkout's core and, with ``--old-core DIR``, on
a checkout of the core before the store seam (``git worktree add DIR 25f2019``), one after the
other under the same conditions; prints datapoints/s of both and new/old::

    python benchmarks/backend.py uploads --old-core /tmp/old-core [--repeat 2] [--full]

Part (c), ``api``: API requests/s for a read-heavy mix against 1 and then 2 ``serve``
processes on one PostgreSQL database (a fresh schema, dropped afterwards). A few jobs are
created first (instant pace); then ``--clients`` connections, spread over the processes in
turn, each loop for ``--seconds``: GET /job/{id} 30 %, GET /job/{id}/progress 30 %, GET /jobs,
/audiences, /job/definitions 10 % each, writes (POST /dataset, POST /asset/url) 10 %::

    python benchmarks/backend.py api --db postgresql://user:pw@host/db [--seconds 10]

Every part prints the machine's load average before and after (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio

# `python benchmarks/backend.py` from a checkout: make the package importable uninstalled.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rapidata_async._wire import dataset as dwire
from rapidata_async._wire import job as jwire
from rapidata_async._wire.common import TextAssetInput
from rapidata_async.local._tasks import TaskManager
from rapidata_async.local.engine import Engine
from rapidata_async.local.store import describe, open_store
from rapidata_async.local.store.base import Store

ROOT = Path(__file__).resolve().parents[1]
GLOBAL_AUDIENCE = "global"
OWNER = "benchmark"  # the tenant the benchmark's data belongs to


async def create_jobs(store: Store, n_jobs: int, n_datapoints: int, votes: int) -> list[str]:
    """One classification dataset and definition, ``n_jobs`` jobs on it (all ``Submitted``)."""
    dataset_id = await store.datasets.create(dwire.CreateDatasetInput(name="bench"), owner=OWNER)
    for i in range(n_datapoints):
        await store.datasets.add_datapoint(
            dataset_id,
            dwire.CreateDatapointInput(asset=TextAssetInput(text=f"item {i}"), sort_index=i),
            owner=OWNER,
        )
    body = jwire.CreateJobDefinitionInput(
        definition_name="bench",
        workflow=jwire.SimpleWorkflow(
            blueprint=jwire.ClassifyBlueprint(
                title="Which?",
                categories=[jwire.ClassifyCategory(label=c, value=c) for c in ("A", "B", "C")],
            )
        ),
        referee=jwire.NaiveReferee(total_votes=votes),
        dataset_id=dataset_id,
    )
    definition_id, _ = await store.definitions.create(body, "Classification", owner=OWNER)
    revision = await store.definitions.revision(definition_id, owner=OWNER)
    jobs = []
    for i in range(n_jobs):
        job = await store.jobs.create(
            jwire.CreateJobInput(job_definition_id=definition_id, audience_id=GLOBAL_AUDIENCE),
            owner=OWNER,
            name=f"bench {i}",
            revision=revision,
            total=n_datapoints,
        )
        jobs.append(job.id)
    return jobs


def _schedstat() -> tuple[float, float] | None:
    """This thread's seconds on a CPU and seconds ready to run but waiting for one (Linux)."""
    try:
        on_cpu, waiting, _ = Path("/proc/thread-self/schedstat").read_text().split()
    except (OSError, ValueError):
        return None
    return int(on_cpu) / 1e9, int(waiting) / 1e9


async def engine_part(args: argparse.Namespace) -> None:
    store = open_store(args.db)
    await store.open()
    try:
        job_ids = await create_jobs(store, args.jobs, args.datapoints, args.votes)
        expected = args.jobs * args.datapoints * args.votes
        async with anyio.create_task_group() as tg:
            engine = Engine(store, TaskManager(tg), seed=0)
            started = time.perf_counter()
            cpu_started = time.process_time()
            sched_started = _schedstat()
            await engine.resume()
            while True:
                rows = [await store.jobs.get(j, owner=OWNER) for j in job_ids]
                if all(row.state in ("Completed", "Failed") for row in rows):
                    break
                await anyio.sleep(0.2)
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            sched = _schedstat()
            tg.cancel_scope.cancel()
        failed = [row.id for row in rows if row.state != "Completed"]
        stored = sum(row.response_count for row in rows)
        print(
            f"engine: {args.jobs} jobs x {args.datapoints} datapoints x {args.votes} responses "
            f"(naive), instant pace, {describe(args.db)}"
        )
        print(
            f"  {stored:,} responses stored in {elapsed:.1f} s: {stored / elapsed:,.0f} responses/s"
        )
        per_response = cpu / stored * 1e6 if stored else 0.0
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"  CPU {cpu:.1f} s (this process, all threads): {per_response:.1f} µs/response, "
            f"{stored / cpu if cpu else 0:,.0f} responses per CPU-second; load average {load}"
        )
        if sched is not None and sched_started is not None:
            # On a shared machine the event loop's thread may be ready but not running: that
            # time is the machine's, not the engine's.
            print(
                f"  event loop thread: {sched[0] - sched_started[0]:.1f} s on a CPU, "
                f"{sched[1] - sched_started[1]:.1f} s ready but waiting for one"
            )
        if failed or stored != expected:
            print(f"  WRONG: expected {expected:,} responses, {len(failed)} job(s) not Completed")
            raise SystemExit(1)
    finally:
        await store.close()


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# -- (b) uploads -------------------------------------------------------------------------------
def _uploads_runs(root: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    """``uploads.py`` of the checkout at ``root`` (which imports its own package), W1/W2 with
    our SDK and the raw client; its runs as JSON."""
    out = Path(tempfile.mkdtemp(prefix="uploads-")) / "runs.json"
    command = [
        sys.executable,
        str(root / "benchmarks" / "uploads.py"),
        "--workloads",
        "W1,W2",
        "--clients",
        "ours,raw",
        "--repeat",
        str(args.repeat),
        "--json",
        str(out),
        *([] if args.full else ["--quick"]),
    ]
    env = {**os.environ, "PYTHONPATH": str(root)}
    print(f"$ PYTHONPATH={root} {' '.join(command[1:])}", flush=True)
    subprocess.run(command, env=env, check=False, stdout=subprocess.DEVNULL)
    if not out.exists():
        raise SystemExit(f"uploads.py of {root} wrote no runs")
    runs: list[dict[str, Any]] = json.loads(out.read_text())
    return runs


def _best_rates(runs: list[dict[str, Any]]) -> dict[tuple[str, str], float]:
    """The best datapoints/s per (workload, label) over the repeats (failed runs left out)."""
    best: dict[tuple[str, str], float] = {}
    for run in runs:
        result = run["result"]
        if result.get("error") or not result.get("datapoints") or result["seconds"] <= 0:
            continue
        key = (run["workload"], run["label"])
        best[key] = max(best.get(key, 0.0), result["datapoints"] / result["seconds"])
    return best


async def uploads_part(args: argparse.Namespace) -> None:
    print(f"load average before: {load()}")
    cores = {"new": ROOT}
    if args.old_core:
        cores["old"] = Path(args.old_core).resolve()
    rates = {name: _best_rates(_uploads_runs(root, args)) for name, root in cores.items()}
    print(f"load average after: {load()}")
    size = "full" if args.full else "quick"
    print(f"uploads ({size} sizes, best of {args.repeat}): datapoints/s")
    print(f"{'workload':<9}{'client':<17}{'new core':>10}{'old core':>10}{'new/old':>9}")
    for key in sorted(rates["new"].keys() | rates.get("old", {}).keys()):
        new, old = rates["new"].get(key), rates.get("old", {}).get(key)
        ratio = f"{new / old:.2f}" if new and old else "-"
        cells = [f"{v:,.0f}" if v else "-" for v in (new, old)]
        print(f"{key[0]:<9}{key[1]:<17}{cells[0]:>10}{cells[1]:>10}{ratio:>9}")


# -- (c) API requests/s ------------------------------------------------------------------------
@asynccontextmanager
async def _schema(dsn: str) -> AsyncIterator[str]:
    import asyncpg

    name = f"bench_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"CREATE SCHEMA {name}")
        try:
            yield f"{dsn}{'&' if '?' in dsn else '?'}search_path={name}"
        finally:
            await conn.execute(f"DROP SCHEMA {name} CASCADE")
    finally:
        await conn.close()


_CREDENTIALS: dict[str, tuple[str, str]] = {}


async def _credential(dsn: str, env: dict[str, str]) -> tuple[str, str]:
    """A credential of the database's first tenant (``serve`` shows no secret to a pipe), one
    per database so that every process of it is reached with the same one."""
    if dsn not in _CREDENTIALS:

        async def clients(*args: str) -> str:
            command = [sys.executable, "-m", "rapidata_async", "clients", *args, "--db", dsn]
            return (await anyio.run_process(command, env=env, check=True)).stdout.decode()

        tenant = re.search(r"tenant=(\S+)", await clients("list"))
        if tenant is None:
            raise RuntimeError("the database has no client yet")
        created = await clients("create", "--tenant", tenant[1])
        client_id = re.search(r"client_id:\s+(\S+)", created)
        secret = re.search(r"client_secret:\s+(\S+)", created)
        if not (client_id and secret):
            raise RuntimeError(f"clients create printed no credential: {created!r}")
        _CREDENTIALS[dsn] = (client_id[1], secret[1])
    return _CREDENTIALS[dsn]


@asynccontextmanager
async def _serve(dsn: str, workdir: Path) -> AsyncIterator[dict[str, str]]:
    """One ``serve`` process (instant pace, any free port, request log off); its banner."""
    command = [sys.executable, "-m", "rapidata_async", "serve", "--db", dsn, "--port", "0"]
    command += ["--pace", "instant", "--assets-dir", str(workdir / "assets")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = (workdir / f"serve-{secrets.token_hex(3)}.log").open("wb")
    process = await anyio.open_process(command, env=env, stderr=log)
    try:
        assert process.stdout is not None
        text = ""
        with anyio.fail_after(30):
            async for chunk in process.stdout:
                text += chunk.decode()
                if "Press Ctrl-C" in text:
                    break
        url = re.search(r"backend on (\S+)", text)
        if url is None:
            raise RuntimeError(f"serve printed no URL: {text!r}")
        client_id, client_secret = await _credential(dsn, env)
        yield {"url": url[1], "client_id": client_id, "client_secret": client_secret}
    finally:
        with anyio.CancelScope(shield=True):
            process.terminate()
            await process.wait()
            await process.aclose()
            log.close()


async def _seed(banner: dict[str, str], n_jobs: int) -> list[str]:
    from rapidata_async import AsyncRapidataClient

    url = banner["url"]
    async with AsyncRapidataClient(
        banner["client_id"], banner["client_secret"], api_url=url, auth_url=url, app_url=url
    ) as client:
        audience = await client.audience.get_audience_by_id("global")
        definition = await client.job.create_classification_job_definition(
            name="api bench",
            instruction="Which?",
            answer_options=["A", "B"],
            datapoints=[f"item {i}" for i in range(20)],
            data_type="text",
            responses_per_datapoint=3,
        )
        jobs = [await audience.assign_job(definition) for _ in range(n_jobs)]
        for job in jobs:
            await job.wait(timeout=60)
        return [job.id for job in jobs]


async def _load(urls: list[str], token: str, job_ids: list[str], args: argparse.Namespace) -> Any:
    import aiohttp

    counts: Counter[str] = Counter()
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.perf_counter() + args.seconds

    def request(rng: random.Random) -> tuple[str, str, dict[str, Any]]:
        roll, job = rng.random(), rng.choice(job_ids)
        if roll < 0.3:
            return "GET", f"/job/{job}", {}
        if roll < 0.6:
            return "GET", f"/job/{job}/progress", {}
        if roll < 0.7:
            return "GET", "/jobs", {"params": {"page": "1", "pageSize": "10"}}
        if roll < 0.8:
            return "GET", "/audiences", {}
        if roll < 0.9:
            return "GET", "/job/definitions", {}
        if roll < 0.95:
            return "POST", "/dataset", {"json": {"name": f"d{rng.random()}"}}
        return "POST", "/asset/url", {"params": {"url": f"https://example.com/{rng.random()}.jpg"}}

    async def worker(i: int, session: aiohttp.ClientSession) -> None:
        rng, base = random.Random(i), urls[i % len(urls)]
        while time.perf_counter() < deadline:
            method, path, kw = request(rng)
            async with session.request(method, base + path, headers=headers, **kw) as r:
                await r.read()
                counts["ok" if r.status < 400 else f"HTTP {r.status}"] += 1

    started = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=args.clients)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        anyio.create_task_group() as tg,
    ):
        for i in range(args.clients):
            tg.start_soon(worker, i, session)
    return counts, time.perf_counter() - started


async def _token(banner: dict[str, str]) -> str:
    import aiohttp

    form = {"grant_type": "client_credentials", "client_id": banner["client_id"]}
    form["client_secret"] = banner["client_secret"]
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{banner['url']}/connect/token", data=form) as r:
            token: str = (await r.json())["access_token"]
            return token


async def api_part(args: argparse.Namespace) -> None:
    if not args.db or not args.db.startswith(("postgresql://", "postgres://")):
        raise SystemExit("api: pass --db postgresql://... (the part compares 1 vs 2 processes)")
    workdir = Path(tempfile.mkdtemp(prefix="api-bench-"))
    print(f"load average before: {load()}")
    results = {}
    async with _schema(args.db) as dsn:
        for n in (1, 2):
            async with _serve(dsn, workdir) as first, _maybe_second(n, dsn, workdir) as second:
                if n == 1:
                    job_ids = await _seed(first, args.api_jobs)
                token = await _token(first)
                urls = [first["url"]] + ([second["url"]] if second else [])
                counts, elapsed = await _load(urls, token, job_ids, args)
                results[n] = (counts, elapsed)
    print(f"load average after: {load()}")
    print(
        f"api: read-heavy mix, {args.clients} connections for {args.seconds:.0f} s, "
        f"{args.api_jobs} jobs, PostgreSQL"
    )
    for n, (counts, elapsed) in results.items():
        total = sum(counts.values())
        errors = {k: v for k, v in counts.items() if k != "ok"}
        print(
            f"  {n} process{'es' if n > 1 else ''}: {total / elapsed:,.0f} requests/s "
            f"({total:,} in {elapsed:.1f} s){f', errors {errors}' if errors else ''}"
        )


@asynccontextmanager
async def _maybe_second(n: int, dsn: str, workdir: Path) -> AsyncIterator[dict[str, str] | None]:
    if n < 2:
        yield None
        return
    async with _serve(dsn, workdir) as banner:
        yield banner


PARTS: dict[str, Callable[[argparse.Namespace], Awaitable[None]]] = {
    "engine": engine_part,
    "uploads": uploads_part,
    "api": api_part,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=sorted(PARTS))
    parser.add_argument("--db", default=None, help="SQLite file or postgresql:// URL")
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--datapoints", type=int, default=1000)
    parser.add_argument("--votes", type=int, default=10)
    parser.add_argument("--old-core", help="uploads: a checkout of the old core to compare")
    parser.add_argument("--repeat", type=int, default=1, help="uploads: runs per client")
    parser.add_argument("--full", action="store_true", help="uploads: full workload sizes")
    parser.add_argument("--seconds", type=float, default=10.0, help="api: load per setup")
    parser.add_argument("--clients", type=int, default=32, help="api: connections")
    parser.add_argument("--api-jobs", type=int, default=5, help="api: jobs to read")
    args = parser.parse_args()
    anyio.run(PARTS[args.part], args)


if __name__ == "__main__":
    main()
