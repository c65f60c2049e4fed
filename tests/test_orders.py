"""Legacy orders (``client.order``) end to end on both stores: the docs' migration guide before
and after, find/get, preceding orders, user filters, failed uploads keeping the order, the
deprecation warning, and hostile input at the SDK and at the HTTP edge."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from rapidata_async import (
    AsyncRapidataClient,
    CountryFilter,
    FailedUploadException,
    JobBlockedError,
    LabelingSelection,
    NotFoundError,
    RapidataOrder,
    ValidationSelection,
)
from rapidata_async.local import LocalBackend
from rapidata_async.order._manager import DEPRECATION
from rapidata_async.results import CompareResult

INSTRUCTION = "Which image follows the prompt better?"
PAIRS = [
    [
        "https://assets.rapidata.ai/flux_image.jpg",
        "https://assets.rapidata.ai/midjourney_image.jpg",
    ],
    [
        "https://assets.rapidata.ai/flux_image2.jpg",
        "https://assets.rapidata.ai/midjourney_image2.jpg",
    ],
]
CONTEXTS = ["A cat on a chair", "A sunset over mountains"]
pytestmark = pytest.mark.filterwarnings("ignore:client.order is the legacy:DeprecationWarning")


async def _compare(client: AsyncRapidataClient, name: str, **kwargs: Any) -> RapidataOrder:
    return await client.order.create_compare_order(
        name=name,
        instruction=INSTRUCTION,
        datapoints=PAIRS,
        contexts=CONTEXTS,
        responses_per_datapoint=kwargs.pop("responses_per_datapoint", 3),
        **kwargs,
    )


# -- the docs' migration guide -----------------------------------------------------------------
DOCS = Path(__file__).resolve().parents[1] / "docs" / "orders.md"


def _docs_example() -> dict[str, Any]:
    """The namespace of the docs' "Before and after" block, run as a module would be."""
    text = DOCS.read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "def before" in b)
    namespace: dict[str, Any] = {"__name__": "docs_orders"}
    exec(compile(block, str(DOCS), "exec"), namespace)
    return namespace


async def test_migration_guide_before_and_after_give_results_of_one_shape(
    client: AsyncRapidataClient, backend: LocalBackend
) -> None:
    example = _docs_example()
    before = await example["before"](client)
    after = await example["after"](client)

    assert before.type == after.type == "Compare"
    assert len(before) == len(after) == 2
    assert before.response_count == after.response_count == 20
    assert before.to_polars().columns == after.to_polars().columns
    assert list(before.to_pandas().columns) == list(after.to_pandas().columns)
    assert [r.context for r in before.results] == example["CONTEXTS"]
    keys = [set(json.loads(r.to_json_bytes())["results"][0]) for r in (before, after)]
    assert keys[0] == keys[1]
    found = await client.order.find_orders("Prompt Alignment Comparison")
    assert len(found) == 1
    row = await backend.store.orders.get(found[0].id, owner=await _tenant(backend))
    assert row.body.validation_set_id is not None  # the guide's validation set went with it
    sets = await client.validation.find_validation_sets("Image Comparison Validation")
    assert [s.id for s in sets] == [row.body.validation_set_id]


async def test_classification_order_with_settings_runs_on_the_global_crowd(
    client: AsyncRapidataClient,
) -> None:
    order = await client.order.create_classification_order(
        name="Image Quality Rating",
        instruction="How would you rate the quality of this image?",
        answer_options=["1: Poor", "2: Fair", "3: Good", "4: Excellent"],
        datapoints=["https://assets.rapidata.ai/a.jpg", "https://assets.rapidata.ai/b.jpg"],
        responses_per_datapoint=4,
        selections=[LabelingSelection(amount=3)],
    )
    assert await order.get_status() == "Preview"
    assert (await order.view()).endswith(f"/order/detail/{order.id}")
    await order.run()
    await order.display_progress_bar(refresh_rate=0.1)  # no terminal here: returns when done
    assert await order.get_status() == "Completed"
    snapshots = [p async for p in order.progress()]
    assert snapshots[-1].state == "Completed" and snapshots[-1].completion_percentage == 100.0
    results = await order.get_results()
    assert results.type == "Classification"
    assert results.response_count == 2 * 4


# -- find / get ----------------------------------------------------------------------------------
async def test_find_and_get_orders(client: AsyncRapidataClient) -> None:
    first = await _compare(client, "nightly run 1")
    second = await _compare(client, "nightly run 2")
    await _compare(client, "other")
    found = await client.order.find_orders("nightly")
    assert [o.id for o in found] == [second.id, first.id]  # newest first
    assert [o.id for o in await client.order.find_orders(amount=1)] != [first.id]
    assert len([o async for o in client.order.find_orders("", amount=1)]) == 3
    fetched = await client.order.get_order_by_id(first.id)
    assert (fetched.id, fetched.name) == (first.id, "nightly run 1")
    with pytest.raises(NotFoundError):
        await client.order.get_order_by_id("no-such-order")


async def test_another_tenants_orders_are_not_found(backend: LocalBackend) -> None:
    credential = await backend.create_client()
    async with backend.client() as a, backend.client(credential=credential) as b:
        order = await _compare(a, "A's order")
        with pytest.raises(NotFoundError):
            await b.order.get_order_by_id(order.id)
        assert await b.order.find_orders() == []
        stranger = RapidataOrder(b._context, id=order.id, name="x")
        with pytest.raises(NotFoundError):
            await stranger.run()
        with pytest.raises(NotFoundError):
            await stranger.get_results()
        own = await _compare(b, "B's order")
        with pytest.raises(NotFoundError):
            await own.run(after=order)  # A's order cannot precede B's


# -- preceding orders, filters -----------------------------------------------------------------
async def test_an_order_run_after_another_starts_once_that_one_finished(
    client: AsyncRapidataClient, backend: LocalBackend
) -> None:
    first = await _compare(client, "first", responses_per_datapoint=10)
    second = await _compare(client, "second")
    with pytest.raises(Exception, match="submitted"):
        await second.run(after=first)  # the preceding order must run first
    await first.run()
    await second.run(after=first)
    await second.get_results()
    store = backend.store
    rows = {o.name: o for o in (await store.orders.list(_query(), owner=await _tenant(backend)))[0]}
    assert rows["second"].preceding_order_id == first.id
    first_job = await store.jobs.get(rows["first"].job_id or "", owner=None)
    second_job = await store.jobs.get(rows["second"].job_id or "", owner=None)
    assert second_job.preceding_job_id == first_job.id
    assert first_job.completed_at is not None and second_job.completed_at is not None
    assert first_job.completed_at <= second_job.completed_at


async def test_user_filters_narrow_the_crowd(client: AsyncRapidataClient) -> None:
    order = await _compare(client, "Germans only", filters=[CountryFilter(["DE"])])
    await order.run()
    results = await order.get_results()
    countries = {
        r.user_details.country
        for item in results.results
        for r in item.detailed_results
        if r.user_details is not None
    }
    assert countries == {"DE"}


# -- failed uploads ----------------------------------------------------------------------------
async def test_a_failed_upload_keeps_the_order_and_retries_into_its_dataset(
    client: AsyncRapidataClient, tmp_path: Path
) -> None:
    good = tmp_path / "good.png"
    good.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    missing = tmp_path / "late.png"
    with pytest.raises(FailedUploadException) as caught:
        await client.order.create_compare_order(
            name="partly uploaded",
            instruction=INSTRUCTION,
            datapoints=[[str(good), PAIRS[0][0]], [str(missing), PAIRS[0][1]]],
            responses_per_datapoint=3,
        )
    e = caught.value
    assert isinstance(e.order, RapidataOrder) and e.job_definition is None
    assert e.dataset is not None and e.dataset.id == e.order.dataset_id
    assert len(e.failed_uploads) == 1
    assert (await client.order.get_order_by_id(e.order.id)).name == "partly uploaded"
    missing.write_bytes(b"\x89PNG\r\n\x1a\n" + b"1" * 64)
    order = await e.retry()
    assert order is e.order
    await order.run()
    results = await order.get_results()
    assert len(results) == 2


# -- the deprecation, hostile input ------------------------------------------------------------
async def test_the_deprecation_warning_comes_once_per_client(client: AsyncRapidataClient) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await client.order.find_orders()
        await client.order.find_orders()
    assert [str(w.message) for w in caught] == [DEPRECATION]
    assert caught[0].category is DeprecationWarning
    assert caught[0].filename == __file__  # points at the caller


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"filters": ["US"]}, "filters[0]"),
        ({"selections": [LabelingSelection(1), "x"]}, "selections[1]"),
        ({"validation_set_id": ""}, "validation_set_id"),
        ({"responses_per_datapoint": 0}, "responses_per_datapoint"),
        ({"datapoints": [["only one"]]}, "datapoints[0]"),
    ],
)
async def test_bad_arguments_fail_before_any_request(
    client: AsyncRapidataClient, backend: LocalBackend, kwargs: dict[str, Any], message: str
) -> None:
    backend.context.stats.clear()
    args: dict[str, Any] = {"name": "bad", "instruction": INSTRUCTION, "datapoints": PAIRS}
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        await client.order.create_compare_order(**(args | kwargs))
    with pytest.raises(ValueError, match="amount"):
        ValidationSelection("set", amount=0)
    assert not any(k.startswith(("POST", "GET /order")) for k in backend.context.stats)


@pytest.fixture
async def http(
    backend: LocalBackend,
) -> AsyncIterator[tuple[aiohttp.ClientSession, dict[str, str]]]:
    async with aiohttp.ClientSession(backend.url) as session:
        form = {"client_id": backend.client_id, "client_secret": backend.client_secret}
        async with session.post("/connect/token", data=form) as response:
            token = (await response.json())["access_token"]
        yield session, {"Authorization": f"Bearer {token}"}


COMPARE = {"_t": "SimpleWorkflow", "blueprint": {"_t": "CompareBlueprint", "criteria": "Which?"}}
REFEREE = {"_t": "NaiveReferee", "totalVotes": 3}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"orderName": " ", "workflow": COMPARE, "referee": REFEREE}, "orderName"),
        ({"orderName": "o", "workflow": {"_t": "SimpleWorkflow"}, "referee": REFEREE}, "workflow"),
        ({"orderName": "o", "workflow": COMPARE, "referee": {"_t": "Nope"}}, "referee"),
        (
            {"orderName": "o", "workflow": COMPARE, "referee": REFEREE, "userFilters": [{}]},
            "userFilters",
        ),
        (
            {"orderName": "o", "workflow": COMPARE, "referee": REFEREE, "precedingOrderId": "x"},
            "precedingOrderId",
        ),
    ],
)
async def test_bad_orders_get_4xx_naming_the_field(
    http: tuple[aiohttp.ClientSession, dict[str, str]], body: dict[str, Any], field: str
) -> None:
    session, auth = http
    async with session.post("/order", json=body, headers=auth) as response:
        assert 400 <= response.status < 500, await response.text()
        problem = await response.json()
    assert field in str(problem.get("errors") or problem), problem


async def test_order_states_guard_submit_patch_and_results(
    http: tuple[aiohttp.ClientSession, dict[str, str]],
    client: AsyncRapidataClient,
    backend: LocalBackend,
) -> None:
    session, auth = http
    body = {"orderName": "empty", "workflow": COMPARE, "referee": REFEREE}
    async with session.post("/order", json=body, headers=auth) as response:
        created = await response.json()
    order_id = created["orderId"]
    async with session.post(f"/order/{order_id}/submit", headers=auth) as response:
        assert response.status == 400  # no datapoints
        assert "datasetId" in (await response.json())["errors"]
    async with session.get(f"/order/{order_id}/download-results", headers=auth) as response:
        assert response.status == 409
    patch = {"precedingOrderId": order_id}
    async with session.patch(f"/order/{order_id}", json=patch, headers=auth) as response:
        assert response.status == 400
        assert "precedingOrderId" in (await response.json())["errors"]
    async with session.get("/orders?sort=nope", headers=auth) as response:
        assert response.status == 400
    other = (await _compare(client, "to precede")).id
    for preceding in (other, None):  # set, then an explicit null clears it
        patch = {"precedingOrderId": preceding}
        async with session.patch(f"/order/{order_id}", json=patch, headers=auth) as response:
            assert response.status == 204, await response.text()
        async with session.patch(f"/order/{order_id}", json={"name": "renamed"}, headers=auth):
            pass  # a rename alone keeps the preceding order
        row = await backend.store.orders.get(order_id, owner=await _tenant(backend))
        assert (row.preceding_order_id, row.name) == (preceding, "renamed")
    order = await _compare(client, "twice")
    await order.run()
    with pytest.raises(Exception, match="submitted already"):
        await order.run()
    await order.get_results()
    never_run = await _compare(client, "never run")
    with pytest.raises(JobBlockedError, match="run"):
        await never_run.get_results()
    results = await order.get_results()
    assert all(isinstance(r, CompareResult) for r in results.results)


def _query() -> Any:
    from rapidata_async.local.store.base import ListQuery

    return ListQuery(page_size=100, order=(("order_date", True),))


async def _tenant(backend: LocalBackend) -> str:
    found = await backend.store.clients.get(backend.client_id)
    assert found is not None
    return found[0].tenant


async def test_the_validation_set_must_exist_and_goes_with_the_job(
    client: AsyncRapidataClient,
    backend: LocalBackend,
    http: tuple[aiohttp.ClientSession, dict[str, str]],
) -> None:
    session, auth = http
    with pytest.raises(NotFoundError):
        await _compare(client, "unknown set", validation_set_id="no-such-set")
    body = {"orderName": "o", "workflow": COMPARE, "referee": REFEREE, "validationSetId": "nope"}
    async with session.post("/order", json=body, headers=auth) as response:
        assert response.status == 404
        assert "validationSetId" in (await response.json())["errors"]
    selections = [{"_t": "ValidationSelection", "amount": 1, "validationSetId": "nope"}]
    body = {"orderName": "o", "workflow": COMPARE, "referee": REFEREE, "selections": selections}
    async with session.post("/order", json=body, headers=auth) as response:
        assert response.status == 404
    async with session.post("/validation-set", json={"name": "checks"}, headers=auth) as response:
        set_id = (await response.json())["validationSetId"]
    order = await _compare(
        client,
        "with a validation set",
        validation_set_id=set_id,
        selections=[ValidationSelection(set_id), LabelingSelection(2)],
    )
    await order.run()
    await order.get_results()
    row = await backend.store.orders.get(order.id, owner=await _tenant(backend))
    job = await backend.store.jobs.get(row.job_id or "", owner=None)
    revision = await backend.store.definitions.revision(job.definition_id, owner=None)
    assert revision.validation_set_id == set_id
    assert job.audience_id == "global"
