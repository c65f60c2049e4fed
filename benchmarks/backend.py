"""Benchmarks of the local backend's core.

Part (a), ``engine``: responses through the referee in ``instant`` pace, persisted by the store.
100 jobs x 1,000 datapoints x 10 responses (naive referee) = 1,000,000 responses on the global
audience; prints responses/s from the engine's start to the last job ``Completed``::

    python benchmarks/backend.py engine                      # SQLite in memory
    python benchmarks/backend.py engine --db bench.sqlite3   # SQLite file (WAL)
    python benchmarks/backend.py engine --db postgresql://user@host/db
    python benchmarks/backend.py engine --jobs 10            # a smaller run

More parts (uploads, API requests/s) are further sub-commands.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio

# `python benchmarks/backend.py` from a checkout: make the package importable uninstalled.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rapidata_async._wire import dataset as dwire
from rapidata_async._wire import job as jwire
from rapidata_async._wire.common import TextAssetInput
from rapidata_async.local._tasks import TaskManager
from rapidata_async.local.engine import Engine
from rapidata_async.local.store import open_store
from rapidata_async.local.store.base import Store

GLOBAL_AUDIENCE = "global"


async def create_jobs(store: Store, n_jobs: int, n_datapoints: int, votes: int) -> list[str]:
    """One classification dataset and definition, ``n_jobs`` jobs on it (all ``Submitted``)."""
    dataset_id = await store.datasets.create(dwire.CreateDatasetInput(name="bench"))
    for i in range(n_datapoints):
        await store.datasets.add_datapoint(
            dataset_id,
            dwire.CreateDatapointInput(asset=TextAssetInput(text=f"item {i}"), sort_index=i),
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
    definition_id, _ = await store.definitions.create(body, "Classification")
    revision = await store.definitions.revision(definition_id)
    jobs = []
    for i in range(n_jobs):
        job = await store.jobs.create(
            jwire.CreateJobInput(job_definition_id=definition_id, audience_id=GLOBAL_AUDIENCE),
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
                rows = [await store.jobs.get(j) for j in job_ids]
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
            f"(naive), instant pace, {args.db or 'SQLite in memory'}"
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


PARTS: dict[str, Callable[[argparse.Namespace], Awaitable[None]]] = {"engine": engine_part}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=sorted(PARTS))
    parser.add_argument("--db", default=None, help="SQLite file or postgresql:// URL")
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--datapoints", type=int, default=1000)
    parser.add_argument("--votes", type=int, default=10)
    args = parser.parse_args()
    anyio.run(PARTS[args.part], args)


if __name__ == "__main__":
    main()
