"""The PostgreSQL store, exercised directly: every aggregate, listings, idempotent recording,
leases handed over between two store instances (two processes), and two stores opening one
fresh database at once.

Needs a cluster: ``RAPIDATA_TEST_POSTGRES_DSN`` (``.ci/run`` starts one through
``.ci/postgres.sh``; locally ``eval "$(.ci/postgres.sh start)"``). Each test gets its own
schema, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import anyio
import pytest

from rapidata_async._wire import asset as awire
from rapidata_async._wire import audience as auwire
from rapidata_async._wire import dataset as dwire
from rapidata_async._wire import job as jwire
from rapidata_async._wire.common import ExistingAssetInput, TextAssetInput
from rapidata_async.local.domain.errors import Invalid, NotFound
from rapidata_async.local.store.base import BatchRow, Filter, ListQuery, ResponseRecord
from rapidata_async.local.store.seeds import SEED_AUDIENCES, now_iso

DSN = os.environ.get("RAPIDATA_TEST_POSTGRES_DSN", "")
pytestmark = pytest.mark.skipif(
    not DSN, reason="postgres: RAPIDATA_TEST_POSTGRES_DSN is unset (see .ci/postgres.sh)"
)

if DSN:
    import asyncpg

    from rapidata_async.local.store.postgres import PostgresStore

StoreFactory = Callable[[], Awaitable["PostgresStore"]]

OWNER = "tenant-a"


@pytest.fixture
async def schema_dsn() -> AsyncIterator[str]:
    """A DSN whose connections work in a fresh, empty schema (dropped afterwards)."""
    name = f"t_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(DSN)
    try:
        await conn.execute(f"CREATE SCHEMA {name}")
        yield f"{DSN}{'&' if '?' in DSN else '?'}search_path={name}"
    finally:
        await conn.execute(f"DROP SCHEMA {name} CASCADE")
        await conn.close()


@pytest.fixture
async def open_store(schema_dsn: str, tmp_path: Path) -> AsyncIterator[StoreFactory]:
    """Opens stores on the test's schema, one per call (each one is a backend process)."""
    opened: list[PostgresStore] = []

    async def factory() -> PostgresStore:
        store = PostgresStore(schema_dsn, assets_dir=tmp_path, min_size=1, max_size=3)
        await store.open()
        opened.append(store)
        return store

    yield factory
    for store in opened:
        await store.close()


@pytest.fixture
async def store(open_store: StoreFactory) -> PostgresStore:
    return await open_store()


# -- builders ----------------------------------------------------------------------------------
def text_point(text: str, sort_index: int | None) -> dwire.CreateDatapointInput:
    return dwire.CreateDatapointInput(
        segments=[dwire.DatasetSegmentInput(key="asset", kind="Text", text=text)],
        sort_index=sort_index,
    )


def definition_body(dataset_id: str, name: str = "def") -> jwire.CreateJobDefinitionInput:
    return jwire.CreateJobDefinitionInput(
        definition_name=name,
        workflow=jwire.SimpleWorkflow(
            blueprint=jwire.ClassifyBlueprint(
                title="Cat?", categories=[jwire.ClassifyCategory(label="Yes", value="yes")]
            )
        ),
        referee=jwire.NaiveReferee(total_votes=3),
        dataset_id=dataset_id,
    )


def response(job_id: str, datapoint_id: str, labeler: str, seq: int = 0) -> ResponseRecord:
    return ResponseRecord(
        job_id, datapoint_id, labeler, "yes", 0.8, "CH", "de", "25-34", "Other", "None", seq
    )


async def make_job(store: PostgresStore, points: int = 3, name: str = "job") -> str:
    dataset_id = await store.datasets.create(dwire.CreateDatasetInput(name="d"), owner=OWNER)
    for i in range(points):
        await store.datasets.add_datapoint(dataset_id, text_point(f"t{i}", i), owner=OWNER)
    definition_id, _ = await store.definitions.create(
        definition_body(dataset_id), "Classify", owner=OWNER
    )
    revision = await store.definitions.revision(definition_id, owner=OWNER)
    job = await store.jobs.create(
        jwire.CreateJobInput(job_definition_id=definition_id, audience_id="global"),
        name=name,
        revision=revision,
        total=points,
        owner=OWNER,
    )
    return job.id


def query(
    *filters: Filter, order: tuple[tuple[str, bool], ...] = (), logic: str = "and"
) -> ListQuery:
    return ListQuery(
        page=1,
        page_size=100,
        order=order or (("created_at", True),),
        filters=filters,
        logic=logic,
    )


# -- opening, credentials, reset ---------------------------------------------------------------
async def test_two_stores_opening_one_fresh_database_share_tenant_and_seeds(
    schema_dsn: str, tmp_path: Path
) -> None:
    stores = [PostgresStore(schema_dsn, assets_dir=tmp_path) for _ in range(3)]
    try:
        async with anyio.create_task_group() as tg:
            for s in stores:
                tg.start_soon(s.open)
        # Three processes adding their first credential at once end up in one tenant.
        tenants: list[str] = []

        async def add(i: int) -> None:
            tenants.append(await stores[i].clients.add(f"c{i}", "h", join_first=True))

        async with anyio.create_task_group() as tg:
            for i in range(3):
                tg.start_soon(add, i)
        assert len(set(tenants)) == 1
        _, total = await stores[1].audiences.list(query(), owner=OWNER)
        assert total == len(SEED_AUDIENCES)
        assert stores[2].assets_dir == tmp_path
    finally:
        for s in stores:
            await s.close()
    conn = await asyncpg.connect(schema_dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM clients") == 3
        assert await conn.fetchval("SELECT count(*) FROM meta WHERE key = 'signing_key'") == 0
    finally:
        await conn.close()


async def test_credentials_survive_reopen_and_reset_keeps_assets_and_seeds(
    open_store: StoreFactory,
) -> None:
    first = await open_store()
    assert await first.clients.add("c1", "scrypt$h") == "c1"
    assert await first.clients.add("c2", "scrypt$i", tenant="c1") == "c1"
    assert await first.clients.get("nobody") is None
    await first.assets.add("a.png", original_name="a.png", source_url=None, size=3, owner=OWNER)
    dataset_id = await first.datasets.create(dwire.CreateDatasetInput(name="d"), owner=OWNER)
    custom = await first.audiences.create(auwire.CreateAudienceInput(name="mine"), owner=OWNER)
    await first.audiences.set_status("global", "Recruiting", counts=(9, 9, 9))

    second = await open_store()
    assert [(c.client_id, c.tenant) for c in await second.clients.list()] == [
        ("c1", "c1"),
        ("c2", "c1"),
    ]

    await second.reset()
    with pytest.raises(NotFound):
        await first.datasets.get(dataset_id, owner=OWNER)
    with pytest.raises(NotFound):
        await first.audiences.get(custom, owner=OWNER)
    assert await first.assets.missing(["a.png"], owner=OWNER) == set()
    found = await first.clients.get("c1")
    assert found is not None and found[1] == "scrypt$h"
    assert await second.clients.remove("c2") and await first.clients.get("c2") is None
    seeded = await first.audiences.get("global", owner=OWNER)
    assert (seeded.status, seeded.qualified_count) == ("Ready", 0)


async def test_closed_store_refuses_calls(schema_dsn: str) -> None:
    store = PostgresStore(schema_dsn)
    with pytest.raises(RuntimeError):
        await store.datasets.create(dwire.CreateDatasetInput(name="d"), owner=OWNER)
    with pytest.raises(RuntimeError):
        await store.clients.list()
    assert store.assets_dir is None


# -- assets and batches ------------------------------------------------------------------------
async def test_assets_missing_and_urls(store: PostgresStore) -> None:
    await store.assets.add(
        "a.png", original_name="cat.png", source_url="https://x/a", size=1, owner=OWNER
    )
    await store.assets.add("a.png", original_name="cat.png", source_url=None, size=10, owner=OWNER)
    await store.assets.add(
        "b.png", original_name=None, source_url="https://x/b.png", size=None, owner=OWNER
    )
    assert await store.assets.missing(["a.png", "b.png", "c.png", "c.png"], owner=OWNER) == {
        "c.png"
    }
    assert await store.assets.urls(["a.png", "b.png", "c.png"]) == {"b.png": "https://x/b.png"}


async def test_batches_save_get_find_and_completed_items_become_assets(
    store: PostgresStore,
) -> None:
    items = [
        awire.BatchUploadUrlOutput(url="https://x/1.png", status="Completed", file_name="1.png"),
        awire.BatchUploadUrlOutput(url="https://x/2.png", status="Processing"),
    ]
    created = now_iso()
    await store.batches.save(BatchRow("b1", "corr", "Processing", created, items, owner=OWNER))
    await store.batches.save(BatchRow("b2", None, "Completed", now_iso(), [], owner=OWNER))
    assert await store.assets.urls(["1.png"]) == {"1.png": "https://x/1.png"}
    assert await store.batches.in_status("Processing") == ["b1"]

    done = [items[0], awire.BatchUploadUrlOutput(url="https://x/2.png", status="Failed")]
    await store.batches.save(BatchRow("b1", "corr", "Completed", created, done, owner=OWNER))
    got = await store.batches.get("b1", owner=OWNER)
    assert (got.status, got.correlation_id, [i.status for i in got.items]) == (
        "Completed",
        "corr",
        ["Completed", "Failed"],
    )
    assert await store.batches.in_status("Processing") == []
    assert [b.id for b in await store.batches.find("corr", [], owner=OWNER)] == ["b1"]
    assert [b.id for b in await store.batches.find("corr", ["b2"], owner=OWNER)] == ["b1", "b2"]
    assert [b.id for b in await store.batches.find(None, ["b2", "zz"], owner=OWNER)] == ["b2"]
    assert await store.batches.find(None, [], owner=OWNER) == []
    with pytest.raises(NotFound):
        await store.batches.get("zz", owner=OWNER)


# -- datasets and datapoints -------------------------------------------------------------------
async def test_datapoints_are_idempotent_per_sort_index_and_content(store: PostgresStore) -> None:
    dataset_id = await store.datasets.create(dwire.CreateDatasetInput(name="d"), owner=OWNER)
    row = await store.datasets.get(dataset_id, owner=OWNER)
    assert (row.name, row.schema) == ("d", None)

    first, created = await store.datasets.add_datapoint(dataset_id, text_point("x", 0), owner=OWNER)
    assert created
    again, created = await store.datasets.add_datapoint(dataset_id, text_point("x", 0), owner=OWNER)
    assert (again, created) == (first, False)
    other, created = await store.datasets.add_datapoint(dataset_id, text_point("y", 0), owner=OWNER)
    assert created and other != first
    # Without a sortIndex nothing identifies a retry: each one is a new datapoint.
    loose = [
        await store.datasets.add_datapoint(dataset_id, text_point("z", None), owner=OWNER)
        for _ in "ab"
    ]
    assert loose[0][0] != loose[1][0]
    await store.datasets.add_datapoint(dataset_id, text_point("w", -5), owner=OWNER)

    points = await store.datasets.datapoints(dataset_id, owner=OWNER)
    assert [p.sort_index for p in points] == [-5, 0, 0, None, None]
    assert [p.id for p in points[1:3]] == [first, other]
    assert [p.id for p in points[3:]] == [loose[0][0], loose[1][0]]
    assert points[0].body == text_point("w", -5)
    assert await store.datasets.datapoint_count(dataset_id) == 5


async def test_datapoint_errors_name_the_field(store: PostgresStore) -> None:
    with pytest.raises(NotFound) as missing:
        await store.datasets.get("nope", field="datasetId", owner=OWNER)
    assert missing.value.errors is not None and "datasetId" in missing.value.errors
    with pytest.raises(NotFound):
        await store.datasets.add_datapoint("nope", text_point("x", 0), owner=OWNER)

    dataset_id = await store.datasets.create(dwire.CreateDatasetInput(name="d"), owner=OWNER)
    await store.assets.add("known.png", original_name=None, source_url=None, size=1, owner=OWNER)
    body = dwire.CreateDatapointInput(
        segments=[
            dwire.DatasetSegmentInput(
                key="asset", kind="Asset", asset=ExistingAssetInput(name="known.png")
            ),
            dwire.DatasetSegmentInput(
                key="context_asset", kind="Asset", asset=ExistingAssetInput(name="gone.png")
            ),
        ],
        sort_index=1,
    )
    with pytest.raises(Invalid) as invalid:
        await store.datasets.add_datapoint(dataset_id, body, owner=OWNER)
    assert invalid.value.errors is not None
    assert list(invalid.value.errors) == ["segments[1].asset"]
    assert await store.datasets.datapoint_count(dataset_id) == 0


# -- definitions -------------------------------------------------------------------------------
async def test_definitions_and_revisions(store: PostgresStore) -> None:
    with pytest.raises(NotFound) as unknown:
        await store.definitions.create(definition_body("nope"), "Classify", owner=OWNER)
    assert unknown.value.errors is not None and "datasetId" in unknown.value.errors

    dataset_id = await store.datasets.create(dwire.CreateDatasetInput(name="d"), owner=OWNER)
    definition_id, pipeline_id = await store.definitions.create(
        definition_body(dataset_id, "Cats"), "Classify", owner=OWNER
    )
    row = await store.definitions.get(definition_id, owner=OWNER)
    assert (row.name, row.definition_type, row.revision_count) == ("Cats", "Classify", 1)
    latest = await store.definitions.revision(definition_id, owner=OWNER)
    assert (latest.number, latest.pipeline_id) == (1, pipeline_id)
    assert latest.body == definition_body(dataset_id, "Cats")
    assert (await store.definitions.revision(definition_id, 1, owner=OWNER)).number == 1
    with pytest.raises(NotFound) as no_revision:
        await store.definitions.revision(definition_id, 2, owner=OWNER)
    assert no_revision.value.errors is not None and "revisionNumber" in no_revision.value.errors
    with pytest.raises(NotFound):
        await store.definitions.revision("nope", owner=OWNER)
    with pytest.raises(NotFound) as no_definition:
        await store.definitions.get("nope", field="jobDefinitionId", owner=OWNER)
    assert no_definition.value.errors is not None

    await store.definitions.create(definition_body(dataset_id, "Dogs"), "Classify", owner=OWNER)
    rows, total = await store.definitions.list(query(order=(("name", True),)), owner=OWNER)
    assert (total, [r.name for r in rows]) == (2, ["Dogs", "Cats"])
    rows, total = await store.definitions.list(
        query(Filter("definition_id", "eq", (row.id,))), owner=OWNER
    )
    assert (total, [r.id for r in rows]) == (1, [row.id])


# -- audiences ---------------------------------------------------------------------------------
async def test_audiences_public_first_examples_and_status(store: PostgresStore) -> None:
    custom = await store.audiences.create(
        auwire.CreateAudienceInput(name="Prompt Alignment Audience", description="mine"),
        owner=OWNER,
    )
    rows, total = await store.audiences.list(
        query(Filter("name", "contains", ("alignment",))), owner=OWNER
    )
    assert total == 2
    assert [r.id for r in rows] == ["a1ea11e0c0a1000000000001", custom]
    row = await store.audiences.get(custom, owner=OWNER)
    assert (row.kind, row.status, row.is_public, row.example_count) == (
        "custom",
        "Created",
        False,
        0,
    )
    assert row.body.description == "mine"

    rows, _ = await store.audiences.list(query(Filter("is_public", "eq", ("false",))), owner=OWNER)
    assert [r.id for r in rows] == [custom]
    rows, _ = await store.audiences.list(query(Filter("is_public", "eq", (1,))), owner=OWNER)
    assert len(rows) == len(SEED_AUDIENCES)
    with pytest.raises(Invalid):
        await store.audiences.list(query(Filter("is_public", "eq", ("maybe",))), owner=OWNER)

    example = auwire.AddExampleInput(
        asset=TextAssetInput(text="a cat"),
        payload=auwire.CompareExamplePayload(criteria="Which?"),
        random_correct_probability=0.5,
    )
    assert await store.audiences.add_example(custom, example, owner=OWNER) == 1
    assert await store.audiences.add_example(custom, example, owner=OWNER) == 2
    assert await store.audiences.examples(custom, owner=OWNER) == [example, example]
    assert (await store.audiences.get(custom, owner=OWNER)).example_count == 2
    missing_asset = auwire.AddExampleInput(
        asset=ExistingAssetInput(name="gone.png"),
        payload=auwire.CompareExamplePayload(criteria="Which?"),
        random_correct_probability=0.5,
    )
    with pytest.raises(Invalid) as invalid:
        await store.audiences.add_example(custom, missing_asset, owner=OWNER)
    assert invalid.value.errors is not None and "asset" in invalid.value.errors
    with pytest.raises(NotFound):
        await store.audiences.add_example("nope", example, owner=OWNER)

    assert not await store.audiences.set_status(custom, "Ready", only_if="Recruiting")
    assert await store.audiences.set_status(custom, "Recruiting", only_if="Created")
    started = (await store.audiences.get(custom, owner=OWNER)).recruiting_started_at
    assert started is not None
    assert await store.audiences.set_status(custom, "Recruiting", counts=(3, 4, 1))
    row = await store.audiences.get(custom, owner=OWNER)
    assert row.recruiting_started_at == started  # stamped on entering, not on staying
    assert (row.qualified_count, row.graduated, row.dropped) == (3, 4, 1)
    assert await store.audiences.in_status("Recruiting") == [custom]
    with pytest.raises(NotFound) as unknown:
        await store.audiences.get("nope", field="audienceId", owner=OWNER)
    assert unknown.value.errors is not None and "audienceId" in unknown.value.errors
    with pytest.raises(NotFound):
        await store.audiences.set_status("nope", "Ready")


# -- listings ----------------------------------------------------------------------------------
async def test_listing_operators_logic_and_escaping(store: PostgresStore) -> None:
    names = ["alpha", "Beta", "100%_sure", "100 percent", "gamma"]
    ids = {}
    for name in names:
        ids[name] = await store.audiences.create(auwire.CreateAudienceInput(name=name), owner=OWNER)

    async def names_of(*filters: Filter, logic: str = "and") -> list[str]:
        if logic == "and":  # only the custom audiences made here, not the seeded ones
            filters = (Filter("is_public", "eq", (False,)), *filters)
        rows, total = await store.audiences.list(
            query(*filters, order=(("name", False),), logic=logic), owner=OWNER
        )
        assert total == len(rows)
        return [r.name for r in rows]

    assert await names_of(Filter("name", "eq", ("alpha", "gamma"))) == ["alpha", "gamma"]
    assert await names_of(Filter("name", "neq", ("alpha", "gamma"))) == [
        "100 percent",
        "100%_sure",
        "Beta",
    ]
    # Byte order, as in SQLite: upper case before lower case.
    assert await names_of(Filter("name", "gt", ("alpha",))) == ["gamma"]
    assert await names_of(Filter("name", "gte", ("alpha",))) == ["alpha", "gamma"]
    assert await names_of(Filter("name", "lt", ("Beta",))) == ["100 percent", "100%_sure"]
    assert await names_of(Filter("name", "lte", ("Beta",))) == [
        "100 percent",
        "100%_sure",
        "Beta",
    ]
    assert await names_of(Filter("name", "contains", ("%_",))) == ["100%_sure"]
    assert await names_of(Filter("name", "contains", ("BET", "amm"))) == ["Beta", "gamma"]
    assert await names_of(Filter("name", "not_contains", ("a", "1"))) == []
    assert await names_of(Filter("name", "not_contains", ("%",))) == [
        "100 percent",
        "Beta",
        "alpha",
        "gamma",
    ]
    assert await names_of(Filter("name", "starts_with", ("100_",))) == []
    assert await names_of(Filter("name", "starts_with", ("100%",))) == ["100%_sure"]
    assert await names_of(Filter("name", "ends_with", ("TA", "_sure"))) == ["100%_sure", "Beta"]
    assert await names_of(Filter("name", "in", ("Beta", "nope"))) == ["Beta"]
    assert await names_of(
        Filter("name", "eq", ("alpha",)), Filter("id", "eq", (ids["Beta"],)), logic="or"
    ) == ["Beta", "alpha"]
    assert (
        await names_of(Filter("name", "eq", ("alpha",)), Filter("id", "eq", (ids["Beta"],))) == []
    )

    rows, total = await store.audiences.list(
        ListQuery(
            page=2, page_size=2, order=(("name", True),), filters=(Filter("is_public", "eq", (0,)),)
        ),
        owner=OWNER,
    )
    assert (total, [r.name for r in rows]) == (5, ["Beta", "100%_sure"])

    with pytest.raises(Invalid) as bad_sort:
        await store.audiences.list(query(order=(("nope", False),)), owner=OWNER)
    assert bad_sort.value.errors is not None and "sort" in bad_sort.value.errors
    with pytest.raises(Invalid) as bad_filter:
        await store.audiences.list(query(Filter("nope", "eq", ("x",))), owner=OWNER)
    assert bad_filter.value.errors is not None and "nope[eq]" in bad_filter.value.errors
    with pytest.raises(Invalid):
        await store.audiences.list(query(Filter("name", "like", ("x",))), owner=OWNER)


# -- jobs --------------------------------------------------------------------------------------
async def test_jobs_create_get_list_and_states(store: PostgresStore) -> None:
    first = await make_job(store, points=2, name="first")
    second = await make_job(store, points=4, name="second")
    job = await store.jobs.get(first, owner=OWNER)
    assert (job.state, job.total, job.completed, job.audience_name) == (
        "Submitted",
        2,
        0,
        "Global Audience",
    )
    with pytest.raises(NotFound) as unknown:
        await store.jobs.get("nope", field="jobId", owner=OWNER)
    assert unknown.value.errors is not None and "jobId" in unknown.value.errors

    await store.jobs.set_state(first, "Running", reason="waiting for labelers")
    assert (await store.jobs.get(first, owner=OWNER)).reason == "waiting for labelers"
    await store.jobs.set_reason(first, "still waiting")
    assert (await store.jobs.get(first, owner=OWNER)).reason == "still waiting"
    with pytest.raises(NotFound):
        await store.jobs.set_reason("nope", "x")
    assert await store.jobs.in_states(["Submitted", "Running"]) == [first, second]

    points = await store.datasets.datapoints(
        (await store.jobs.work(first)).revision.body.dataset_id, owner=OWNER
    )
    await store.jobs.record(first, [response(first, points[0].id, "sim:1")], [points[0].id])
    rows, _ = await store.jobs.list(query(order=(("progress", True),)), owner=OWNER)
    assert [r.id for r in rows] == [first, second]
    rows, total = await store.jobs.list(query(Filter("state", "eq", ("Running",))), owner=OWNER)
    assert (total, [r.id for r in rows]) == (1, [first])
    rows, _ = await store.jobs.list(
        query(Filter("definition_id", "eq", (job.definition_id,))), owner=OWNER
    )
    assert [r.id for r in rows] == [first]

    await store.jobs.set_state(first, "Completed", total=3)
    done = await store.jobs.get(first, owner=OWNER)
    assert (done.state, done.total, done.reason, done.failed_at) == ("Completed", 3, None, None)
    assert done.completed_at is not None
    await store.jobs.set_state(second, "Failed", failure_message="boom")
    failed = await store.jobs.get(second, owner=OWNER)
    assert (failed.failure_message, failed.completed_at) == ("boom", None)
    assert failed.failed_at is not None
    assert await store.jobs.in_states(["Submitted", "Running"]) == []
    with pytest.raises(NotFound):
        await store.jobs.set_state("nope", "Running")


async def test_record_is_idempotent_and_skips_closed_datapoints(store: PostgresStore) -> None:
    job_id = await make_job(store, points=3)
    work = await store.jobs.work(job_id)
    assert (work.job.id, work.audience.id, len(work.datapoints)) == (job_id, "global", 3)
    assert (work.responses, work.done) == ({}, frozenset())
    a, b, c = (p.id for p in work.datapoints)

    batch = [response(job_id, a, "sim:1", 9), response(job_id, a, "sim:2", 1)]
    assert await store.jobs.record(job_id, batch, []) == 2
    # A resumed run sends the same responses again, plus one new one and the closing.
    again = [*batch, response(job_id, a, "sim:3", 2), response(job_id, a, "sim:3", 2)]
    assert await store.jobs.record(job_id, again, [a]) == 1
    assert await store.jobs.record(job_id, [], [a]) == 0
    # Late: the referee already closed ``a``.
    assert await store.jobs.record(job_id, [response(job_id, a, "sim:4", 3)], []) == 0
    assert await store.jobs.record(job_id, [response(job_id, b, "sim:1", 0)], [b, c]) == 1

    job = await store.jobs.get(job_id, owner=OWNER)
    assert (job.response_count, job.completed) == (4, 3)
    work = await store.jobs.work(job_id)
    # In arrival order, numbered by the store (the records' own seq is ignored).
    assert [r.labeler_id for r in work.responses[a]] == ["sim:1", "sim:2", "sim:3"]
    seqs = [r.seq for r in work.responses[a]]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    (only,) = work.responses[b]
    assert only == response(job_id, b, "sim:1", only.seq) and only.seq > seqs[-1]
    assert work.done == frozenset({a, b, c})

    with pytest.raises(NotFound):
        await store.jobs.record("nope", [response("nope", a, "sim:9")], [a])
    with pytest.raises(Invalid):
        await store.jobs.record(job_id, [response("other", a, "sim:9")], [])
    assert (await store.jobs.get(job_id, owner=OWNER)).response_count == 4


async def test_two_processes_recording_the_same_responses_count_them_once(
    open_store: StoreFactory,
) -> None:
    one, two = await open_store(), await open_store()
    job_id = await make_job(one, points=50)
    points = [p.id for p in (await one.jobs.work(job_id)).datapoints]
    batch = [response(job_id, p, f"sim:{n}", n) for p in points for n in range(20)]
    added: list[int] = []

    async def push(store: PostgresStore) -> None:
        for start in range(0, len(batch), 100):
            added.append(await store.jobs.record(job_id, batch[start : start + 100], []))

    async with anyio.create_task_group() as tg:
        tg.start_soon(push, one)
        tg.start_soon(push, two)
    assert sum(added) == len(batch)
    job = await two.jobs.get(job_id, owner=OWNER)
    assert job.response_count == len(batch)


# -- leases ------------------------------------------------------------------------------------
async def test_leases_are_exclusive_renewable_and_released(open_store: StoreFactory) -> None:
    one, two = await open_store(), await open_store()
    assert await one.leases.acquire("job", ["j1", "j2"], "p1", 30) == ["j1", "j2"]
    assert await two.leases.acquire("job", ["j2", "j3", "j1"], "p2", 30) == ["j3"]
    assert await one.leases.acquire("job", ["j1"], "p1", 30) == ["j1"]  # already its own
    assert await one.leases.acquire("recruit", ["j1"], "p1", 30) == ["j1"]  # another kind
    assert await one.leases.renew("job", ["j1", "j2", "j3"], "p1", 30) == ["j1", "j2"]
    await one.leases.release("job", ["j1", "j3"], "p1")  # j3 is not p1's to release
    assert await two.leases.acquire("job", ["j1", "j3"], "p2", 30) == ["j1", "j3"]
    assert await one.leases.renew("job", ["j1"], "p1", 30) == []
    assert await one.leases.acquire("job", [], "p1", 30) == []


async def test_an_expired_lease_passes_to_the_next_process(open_store: StoreFactory) -> None:
    crashed, survivor = await open_store(), await open_store()
    assert await crashed.leases.acquire("job", ["j1"], "p1", 0.5) == ["j1"]
    assert await survivor.leases.acquire("job", ["j1"], "p2", 30) == []
    with anyio.fail_after(10):
        while True:
            if await survivor.leases.acquire("job", ["j1"], "p2", 30):
                break
            await anyio.sleep(0.05)
    # The first owner comes back: its lease is gone and it cannot take the work back.
    assert await crashed.leases.renew("job", ["j1"], "p1", 30) == []
    assert await crashed.leases.acquire("job", ["j1"], "p1", 30) == []
