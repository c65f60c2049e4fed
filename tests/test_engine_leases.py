"""The engine on a real (in-memory SQLite) store: several engines share one database's work
through leases, each job is run by one of them, and a lease left by a dead process is taken
over once it expires."""

from __future__ import annotations

import anyio
from anyio.abc import TaskGroup

from rapidata_async._wire import dataset as dwire
from rapidata_async._wire import job as jwire
from rapidata_async._wire.common import TextAssetInput
from rapidata_async.local._tasks import TaskManager
from rapidata_async.local.engine import Engine
from rapidata_async.local.store import open_store
from rapidata_async.local.store.base import Store

OWNER = "tenant-a"


async def _jobs(store: Store, n_jobs: int, n_datapoints: int, votes: int) -> list[str]:
    dataset_id = await store.datasets.create(dwire.CreateDatasetInput(name="d"), owner=OWNER)
    for i in range(n_datapoints):
        await store.datasets.add_datapoint(
            dataset_id,
            dwire.CreateDatapointInput(asset=TextAssetInput(text=f"t{i}"), sort_index=i),
            owner=OWNER,
        )
    body = jwire.CreateJobDefinitionInput(
        definition_name="d",
        workflow=jwire.SimpleWorkflow(
            blueprint=jwire.ClassifyBlueprint(
                title="?", categories=[jwire.ClassifyCategory(label=c, value=c) for c in "AB"]
            )
        ),
        referee=jwire.NaiveReferee(total_votes=votes),
        dataset_id=dataset_id,
    )
    definition_id, _ = await store.definitions.create(body, "Classification", owner=OWNER)
    revision = await store.definitions.revision(definition_id, owner=OWNER)
    out = []
    for i in range(n_jobs):
        job = await store.jobs.create(
            jwire.CreateJobInput(job_definition_id=definition_id, audience_id="global"),
            name=f"j{i}",
            revision=revision,
            total=n_datapoints,
            owner=OWNER,
        )
        out.append(job.id)
    return out


async def _all_final(store: Store, job_ids: list[str]) -> None:
    with anyio.fail_after(30):
        while True:
            rows = [await store.jobs.get(j, owner=OWNER) for j in job_ids]
            if all(r.state in ("Completed", "Failed") for r in rows):
                return
            await anyio.sleep(0.05)


def _engine(store: Store, tg: TaskGroup, owner: str) -> Engine:
    return Engine(store, TaskManager(tg), owner=owner, scan_interval=0.1, lease_ttl=1.0)


async def test_two_engines_share_the_jobs_of_one_database() -> None:
    store = open_store(None)
    await store.open()
    try:
        job_ids = await _jobs(store, 6, 20, 4)
        async with anyio.create_task_group() as tg:
            first, second = _engine(store, tg, "first"), _engine(store, tg, "second")
            await first.resume()
            await second.resume()
            await _all_final(store, job_ids)
            tg.cancel_scope.cancel()
        for job_id in job_ids:
            row = await store.jobs.get(job_id, owner=OWNER)
            assert (row.state, row.completed, row.response_count) == ("Completed", 20, 80)
            work = await store.jobs.work(job_id)
            for responses in work.responses.values():
                assert len({r.labeler_id for r in responses}) == len(responses) == 4
    finally:
        await store.close()


async def test_a_dead_owners_lease_is_taken_over_after_it_expires() -> None:
    store = open_store(None)
    await store.open()
    try:
        (job_id,) = await _jobs(store, 1, 5, 3)
        # a process that took the job and died: its lease runs out after 2 s
        assert await store.leases.acquire("job", [job_id], "dead", 2.0) == [job_id]
        async with anyio.create_task_group() as tg:
            engine = _engine(store, tg, "alive")
            await engine.resume()
            await anyio.sleep(0.5)  # several scans, none may take the job yet
            assert (await store.jobs.get(job_id, owner=OWNER)).state == "Submitted"
            await _all_final(store, [job_id])
            tg.cancel_scope.cancel()
        row = await store.jobs.get(job_id, owner=OWNER)
        assert (row.state, row.response_count) == ("Completed", 15)
    finally:
        await store.close()
