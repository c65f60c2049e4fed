"""The SQLite store on its own: responses recorded once per labeler, leases that expire and
change hands, and a file database that keeps credentials and seeds across reset and reopen."""

from __future__ import annotations

import re
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from rapidata_async._wire import audience as auwire
from rapidata_async._wire import dataset as dwire
from rapidata_async._wire import job as jwire
from rapidata_async.local.domain.errors import Invalid, NotFound
from rapidata_async.local.store import open_store
from rapidata_async.local.store.base import ListQuery, ResponseRecord, Store
from rapidata_async.local.store.seeds import SEED_AUDIENCES

OWNER = "tenant-a"


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    opened = open_store(None)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


def _decode(data: dict[str, Any], kind: type[Any]) -> Any:
    return msgspec.json.decode(msgspec.json.encode(data), type=kind)


async def _job(store: Store, points: int) -> tuple[str, list[str]]:
    """A job over ``points`` text datapoints: its id and the datapoint ids (the store keeps
    what it is given; whether datapoints fit the rapid is the service's check)."""
    dataset_id = await store.datasets.create(dwire.CreateDatasetInput(name="d"), owner=OWNER)
    for i in range(points):
        body = {
            "segments": [{"key": "asset", "kind": "Text", "text": f"item {i}"}],
            "sortIndex": i,
        }
        await store.datasets.add_datapoint(
            dataset_id, _decode(body, dwire.CreateDatapointInput), owner=OWNER
        )
    definition = {
        "definitionName": "def",
        "datasetId": dataset_id,
        "workflow": {
            "_t": "SimpleWorkflow",
            "rapid": {
                "_t": "Classify",
                "asset": {"segment": "asset"},
                "title": {"literal": "Which?"},
                "categories": {"segment": "answer_options"},
            },
        },
        "referee": {"_t": "NaiveReferee", "totalVotes": 3},
    }
    definition_id, _ = await store.definitions.create(
        _decode(definition, jwire.CreateJobDefinitionInput), "Classify", owner=OWNER
    )
    revision = await store.definitions.revision(definition_id, owner=OWNER)
    job = await store.jobs.create(
        jwire.CreateJobInput(job_definition_id=definition_id, audience_id="global"),
        name="job",
        revision=revision,
        total=points,
        owner=OWNER,
    )
    return job.id, [dp.id for dp in await store.datasets.datapoints(dataset_id, owner=OWNER)]


def _response(job_id: str, datapoint_id: str, labeler: str, answer: str = "a") -> ResponseRecord:
    return ResponseRecord(job_id, datapoint_id, labeler, answer, 0.9, "CH", "de", "30", "f", "x")


async def test_a_response_counts_once_and_a_closed_datapoint_takes_no_more(store: Store) -> None:
    job_id, (first, second) = await _job(store, 2)
    batch = [_response(job_id, first, "sim:1"), _response(job_id, first, "sim:2", "b")]
    assert await store.jobs.record(job_id, batch, []) == 2
    # A resumed run sends the same responses again, now closing the datapoint.
    assert await store.jobs.record(job_id, [*batch, _response(job_id, first, "sim:3")], [first])
    job = await store.jobs.get(job_id, owner=OWNER)
    assert (job.response_count, job.completed) == (3, 1)
    # Late responses to the closed datapoint and a second close are skipped.
    assert await store.jobs.record(job_id, [_response(job_id, first, "sim:4")], [first]) == 0
    assert await store.jobs.record(job_id, [_response(job_id, second, "sim:4")], []) == 1
    job = await store.jobs.get(job_id, owner=OWNER)
    assert (job.response_count, job.completed) == (4, 1)

    work = await store.jobs.work(job_id)
    assert work.done == frozenset({first})
    assert [r.labeler_id for r in work.responses[first]] == ["sim:1", "sim:2", "sim:3"]
    assert [r.answer for r in work.responses[first]] == ["a", "b", "a"]
    seqs = [r.seq for r in work.responses[first]]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    assert [r.labeler_id for r in work.responses[second]] == ["sim:4"]
    assert [dp.id for dp in work.datapoints] == [first, second]

    with pytest.raises(NotFound):
        await store.jobs.record("no-such-job", [_response("no-such-job", first, "sim:9")], [])
    assert len((await store.jobs.work(job_id)).responses[first]) == 3


async def test_state_reason_and_listing_by_logical_names(store: Store) -> None:
    job_id, _ = await _job(store, 1)
    await store.jobs.set_state(job_id, "Running", reason="Waiting for labelers.")
    assert (await store.jobs.get(job_id, owner=OWNER)).reason == "Waiting for labelers."
    await store.jobs.set_reason(job_id, None)
    assert (await store.jobs.get(job_id, owner=OWNER)).reason is None
    await store.jobs.set_state(job_id, "Completed")
    job = await store.jobs.get(job_id, owner=OWNER)
    assert job.state == "Completed" and job.completed_at is not None
    assert await store.jobs.in_states(["Running"]) == []
    rows, total = await store.jobs.list(ListQuery(order=(("progress", True),)), owner=OWNER)
    assert total == 1 and rows[0].id == job_id
    with pytest.raises(Invalid) as caught:
        await store.jobs.list(ListQuery(order=(("j.state", False),)), owner=OWNER)
    assert caught.value.errors is not None and list(caught.value.errors) == ["sort"]
    # Public audiences first, whatever the requested order.
    custom = await store.audiences.create(
        auwire.CreateAudienceInput(name="A custom one"), owner=OWNER
    )
    rows, total = await store.audiences.list(
        ListQuery(page_size=100, order=(("name", False),)), owner=OWNER
    )
    assert total == len(SEED_AUDIENCES) + 1
    assert [r.id for r in rows][-1] == custom
    assert [r.is_public for r in rows] == [True] * len(SEED_AUDIENCES) + [False]


async def test_leases_expire_and_change_hands(store: Store) -> None:
    leases = store.leases
    assert await leases.acquire("job", ["j1", "j2"], "a", 60) == ["j1", "j2"]
    assert await leases.acquire("job", ["j1", "j3"], "b", 60) == ["j3"]
    assert await leases.acquire("job", ["j1"], "a", 60) == ["j1"]  # its own: renewed
    assert await leases.renew("job", ["j1", "j3"], "a", 60) == ["j1"]
    await leases.release("job", ["j1"], "a")
    assert await leases.acquire("job", ["j1"], "b", 60) == ["j1"]
    # A lease that was not renewed in time (ttl 0: expired at once) goes to the next taker,
    # and its old owner can no longer renew it.
    assert await leases.acquire("recruit", ["r"], "a", 0) == ["r"]
    assert await leases.acquire("recruit", ["r"], "b", 60) == ["r"]
    assert await leases.renew("recruit", ["r"], "a", 60) == []
    assert await leases.acquire("job", [], "a", 60) == []


async def test_file_store_is_wal_and_keeps_credentials_and_seeds(tmp_path: Path) -> None:
    path = tmp_path / "local.sqlite3"
    store = open_store(path)
    await store.open()
    assert await store.clients.list() == []  # the backend, not the store, makes credentials
    assert await store.clients.add("c1", "scrypt$hash") == "c1"
    assert await store.clients.add("c2", "scrypt$other", join_first=True) == "c1"
    assert await store.clients.add("c3", "scrypt$third") == "c3"
    assert store.assets_dir == tmp_path / "local_assets"
    custom = await store.audiences.create(auwire.CreateAudienceInput(name="mine"), owner=OWNER)
    assert await store.audiences.set_status(custom, "Recruiting", only_if="Created")
    assert (await store.audiences.get(custom, owner=OWNER)).recruiting_started_at is not None
    await store.assets.add("a.png", original_name="a.png", source_url=None, size=3, owner=OWNER)
    await store.reset()
    with pytest.raises(NotFound):
        await store.audiences.get(custom, owner=OWNER)
    assert await store.assets.missing(["a.png", "b.png"], owner=OWNER) == {"b.png"}
    await store.close()

    reopened = open_store(path)
    await reopened.open()
    assert [(c.client_id, c.tenant) for c in await reopened.clients.list()] == [
        ("c1", "c1"),
        ("c2", "c1"),
        ("c3", "c3"),
    ]
    found = await reopened.clients.get("c2")
    assert found is not None and found[1] == "scrypt$other"
    assert await reopened.clients.remove("c2") and not await reopened.clients.remove("c2")
    assert await reopened.clients.get("c2") is None
    assert await reopened.audiences.in_status("Ready") != []
    await reopened.close()
    assert path.stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_postgres_url_names_the_extra_when_asyncpg_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # as if not installed
    with pytest.raises(RuntimeError, match=re.escape("pip install 'rapidata-async[postgres]'")):
        open_store("postgresql://localhost/rapidata")
    with pytest.raises(RuntimeError, match="asyncpg"):
        open_store("postgres://localhost/rapidata")
