"""The local backend over raw HTTP: what the SDK cannot exercise (auth failures, malformed
bodies, idempotency, restarts) and the wire shapes of a full job run."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import anyio
import pytest

from rapidata_async.local import LocalBackend

DEADLINE = 15.0
POLL = 0.02


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


class Api:
    """A raw aiohttp session holding a bearer token for one backend."""

    def __init__(self, session: aiohttp.ClientSession, url: str, token: str) -> None:
        self.session = session
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any, Any]:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        async with self.session.request(
            method, self.url + path, headers=headers, **kwargs
        ) as response:
            raw = await response.read()
            body: Any = raw
            if response.content_type.endswith("json") and raw:
                body = json.loads(raw)
            return response.status, body, response.headers

    async def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        status, body, _ = await self.call(method, path, **kwargs)
        assert status in (200, 204), (method, path, status, body)
        return body


async def get_token(
    session: aiohttp.ClientSession,
    backend: LocalBackend,
    credential: tuple[str, str] | None = None,
) -> str:
    client_id, secret = credential or (backend.client_id, backend.client_secret)
    async with session.post(
        backend.url + "/connect/token",
        data={"grant_type": "client_credentials", "scope": "openid email api"},
        headers={"Authorization": basic(client_id, secret)},
    ) as response:
        assert response.status == 200
        return str((await response.json())["access_token"])


async def open_api(session: aiohttp.ClientSession, backend: LocalBackend) -> Api:
    return Api(session, backend.url, await get_token(session, backend))


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def api(backend: LocalBackend, session: aiohttp.ClientSession) -> Api:
    return await open_api(session, backend)


# -- helpers that build a job ----------------------------------------------------------------
async def upload(api: Api, name: str, data: bytes = b"\x89PNG fake image") -> str:
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name, content_type="image/png")
    body = await api.ok("POST", "/asset/file", data=form)
    return str(body["fileName"])


def existing(name: str) -> dict[str, str]:
    return {"_t": "ExistingAssetInput", "name": name}


def compare_point(a: str, b: str, index: int, context: str | None = None) -> dict[str, Any]:
    segments: list[dict[str, Any]] = [
        {
            "key": "asset",
            "kind": "Asset",
            "asset": {"_t": "MultiAssetInput", "assets": [existing(a), existing(b)]},
        },
    ]
    if context is not None:
        segments.append({"key": "context", "kind": "Text", "text": context})
    return {"segments": segments, "sortIndex": index}


async def compare_definition(
    api: Api, pairs: int, *, referee: dict[str, Any] | None = None, name: str = "Compare job"
) -> str:
    dataset = await api.ok("POST", "/dataset", json={"name": f"{name}_dataset", "schema": None})
    dataset_id = dataset["datasetId"]
    for i in range(pairs):
        a = await upload(api, f"left_{i}.png")
        b = await upload(api, f"right_{i}.png")
        await api.ok(
            "POST",
            f"/dataset/{dataset_id}/datapoint",
            json=compare_point(a, b, i, context=f"prompt {i}"),
        )
    body = {
        "definitionName": name,
        "workflow": {
            "_t": "SimpleWorkflow",
            "rapid": {
                "_t": "Compare",
                "asset": {"segment": "asset"},
                "criteria": {"literal": "Which image matches the description better?"},
            },
        },
        "referee": referee or {"_t": "NaiveReferee", "totalVotes": 4},
        "datasetId": dataset_id,
    }
    created = await api.ok("POST", "/job/definition", json=body)
    return str(created["definitionId"])


async def classify_definition(api: Api, items: int, referee: dict[str, Any]) -> str:
    schema = [
        {"key": "asset", "label": "Asset", "kind": "Asset", "required": True},
        {"key": "context", "label": "Context", "kind": "Text", "required": False, "maxLength": 400},
        {
            "key": "answer_options",
            "label": "Answer options",
            "kind": "OptionList",
            "required": True,
        },
    ]
    dataset = await api.ok("POST", "/dataset", json={"name": "classify_dataset", "schema": schema})
    options = [{"label": o, "value": o} for o in ("Cat", "Dog", "Bird")]
    for i in range(items):
        name = await upload(api, f"animal_{i}.png")
        await api.ok(
            "POST",
            f"/dataset/{dataset['datasetId']}/datapoint",
            json={
                "segments": [
                    {"key": "asset", "kind": "Asset", "asset": existing(name)},
                    {"key": "answer_options", "kind": "OptionList", "options": options},
                ],
                "sortIndex": i,
            },
        )
    created = await api.ok(
        "POST",
        "/job/definition",
        json={
            "definitionName": "Classify job",
            "workflow": {
                "_t": "SimpleWorkflow",
                "rapid": {
                    "_t": "Classify",
                    "asset": {"segment": "asset"},
                    "title": {"literal": "What is it?"},
                    "categories": {"segment": "answer_options"},
                },
            },
            "referee": referee,
            "datasetId": dataset["datasetId"],
        },
    )
    return str(created["definitionId"])


async def assign(api: Api, definition_id: str, audience_id: str = "global") -> str:
    body = await api.ok(
        "POST",
        "/job",
        json={
            "audienceId": audience_id,
            "jobDefinitionId": definition_id,
            "revisionNumber": 1,
            "checkForExplicitContent": None,
            "experimentId": None,
            "precedingJobId": None,
        },
    )
    return str(body["jobId"])


async def poll_until(probe: Callable[[], Awaitable[Any]], done: Callable[[Any], bool]) -> Any:
    """Probe until ``done(value)``, failing after DEADLINE seconds."""
    with anyio.fail_after(DEADLINE):
        while True:
            value = await probe()
            if done(value):
                return value
            await anyio.sleep(POLL)


async def wait_state(api: Api, job_id: str, state: str = "Completed") -> dict[str, Any]:
    with anyio.fail_after(DEADLINE):
        while True:
            job = await api.ok("GET", f"/job/{job_id}")
            if job["state"] == state:
                return dict(job)
            assert job["state"] != "Failed", job
            await anyio.sleep(POLL)


# -- auth ------------------------------------------------------------------------------------
async def test_token_with_basic_and_form_credentials(
    backend: LocalBackend, session: aiohttp.ClientSession
) -> None:
    async with session.post(
        backend.url + "/connect/token",
        data={"grant_type": "client_credentials", "scope": "openid email api"},
        headers={"Authorization": basic(backend.client_id, backend.client_secret)},
    ) as response:
        assert response.status == 200
        token = await response.json()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert token["access_token"]

    async with session.post(
        backend.url + "/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": backend.client_id,
            "client_secret": backend.client_secret,
        },
    ) as response:
        assert response.status == 200

    api = Api(session, backend.url, token["access_token"])
    info = await api.ok("GET", "/connect/userinfo")
    assert info["sub"] == backend.client_id
    assert "@" in info["email"]


@pytest.mark.parametrize(
    "credentials",
    [("wrong-client", "whatever"), ("__own_id__", "wrong-secret"), ("__own_id__", "")],
)
async def test_wrong_credentials_are_invalid_client(
    backend: LocalBackend, session: aiohttp.ClientSession, credentials: tuple[str, str]
) -> None:
    client_id = backend.client_id if credentials[0] == "__own_id__" else credentials[0]
    async with session.post(
        backend.url + "/connect/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": basic(client_id, credentials[1])},
    ) as response:
        assert response.status == 401
        body = await response.json()
    assert body["error"] == "invalid_client"
    assert "access_token" not in body


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer forged.token", "Basic abc"])
async def test_api_needs_a_valid_bearer(
    backend: LocalBackend, session: aiohttp.ClientSession, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    async with session.get(backend.url + "/audiences", headers=headers) as response:
        assert response.status == 401
        assert response.content_type == "application/problem+json"
        trace_id = response.headers["x-trace-id"]
        body = await response.json()
    assert body["status"] == 401
    assert body["traceId"] == trace_id


async def test_a_token_from_another_backend_is_rejected(
    backend: LocalBackend, session: aiohttp.ClientSession
) -> None:
    async with LocalBackend() as other:
        foreign = await get_token(session, other)
    status, _, _ = await Api(session, backend.url, foreign).call("GET", "/audiences")
    assert status == 401


# -- errors ------------------------------------------------------------------------------------
async def test_nul_characters_are_a_400_naming_the_field(
    api: Api, session: aiohttp.ClientSession
) -> None:
    # PostgreSQL refuses NUL in text; both stores answer the same 400 instead of a 500.
    cases = [
        ("POST", "/audience", {"json": {"name": "a\u0000b"}}, "name"),
        ("POST", "/dataset", {"json": {"name": "ok", "extra": ["x", "\u0000"]}}, "extra[1]"),
        ("GET", "/jobs", {"params": {"name[contains]": "a\x00"}}, "name[contains]"),
        ("GET", "/job/a%00b", {}, "jobId"),
    ]
    for method, path, kwargs, field in cases:
        status, body, _ = await api.call(method, path, **kwargs)
        assert (status, list(body["errors"])) == (400, [field]), (path, body)
    status, body, _ = await api.call("POST", "/dataset", json={"name": "back\\u0000slash"})
    assert status == 200, body  # an escaped backslash, not a NUL
    async with session.post(
        f"{api.url}/connect/token",
        data={"grant_type": "client_credentials", "client_id": "a\x00", "client_secret": "b"},
    ) as response:
        assert response.status == 401


async def test_malformed_json_is_a_400_problem(api: Api) -> None:
    status, body, headers = await api.call(
        "POST", "/dataset", data=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert status == 400
    assert headers["Content-Type"].startswith("application/problem+json")
    assert headers["x-trace-id"] == body["traceId"]
    assert body["title"] and body["errors"]


async def test_validation_errors_name_the_field(api: Api) -> None:
    status, body, _ = await api.call(
        "POST",
        "/job/definition",
        json={
            "definitionName": 5,
            "workflow": {"_t": "SimpleWorkflow"},
            "referee": {"_t": "NaiveReferee", "totalVotes": 3},
            "datasetId": "x",
        },
    )
    assert status == 400
    assert list(body["errors"]) == ["definitionName"]

    status, body, _ = await api.call(
        "POST",
        "/job/definition",
        json={
            "definitionName": "n",
            "workflow": {"_t": "SimpleWorkflow"},
            "referee": {"_t": "NaiveReferee"},
            "datasetId": "x",
        },
    )
    assert status == 400
    assert list(body["errors"]) == ["referee.totalVotes"]

    status, body, _ = await api.call("POST", "/job", json={"audienceId": "global"})
    assert status == 400
    assert "jobDefinitionId" in body["errors"]


async def test_unknown_ids_are_404(api: Api) -> None:
    for path in (
        "/job/nope",
        "/job/nope/progress",
        "/job/definition/nope",
        "/audience/nope",
        "/job/nope/download-results",
        "/asset/batch-upload/nope",
    ):
        status, body, _ = await api.call("GET", path)
        assert status == 404, path
        assert body["status"] == 404
    status, _, _ = await api.call(
        "POST", "/dataset/nope/datapoint", json=compare_point("a", "b", 0)
    )
    assert status == 404


# -- assets ------------------------------------------------------------------------------------
async def test_file_upload_names_and_empty_file(api: Api) -> None:
    first = await upload(api, "cat.jpg")
    second = await upload(api, "cat.jpg")
    assert first != second
    assert first.startswith("cat_") and first.endswith(".jpg")

    form = aiohttp.FormData()
    form.add_field("file", b"", filename="empty.png", content_type="image/png")
    status, body, _ = await api.call("POST", "/asset/file", data=form)
    assert status == 400
    assert "file" in body["errors"]


async def test_url_upload_and_batch(api: Api) -> None:
    single = await api.ok(
        "POST", "/asset/url", params={"url": "https://assets.rapidata.ai/flux-1-pro_37_0.jpg"}
    )
    assert single["fileName"].startswith("flux-1-pro_37_0_")
    assert single["warnings"] == [] and single["wasCompressed"] is False

    urls = [f"https://example.com/img/{i}.png" for i in range(3)] + ["ftp://nope"]
    batch = await api.ok(
        "POST",
        "/asset/batch-upload",
        json={"urls": urls, "correlationId": "run-1", "compression": None},
    )
    status = await api.ok("GET", "/asset/batch-upload/status", params={"correlationId": "run-1"})
    assert status["completedBatches"] == [batch["batchUploadId"]]
    assert (status["completedCount"], status["failedCount"]) == (3, 1)
    result = await api.ok("GET", f"/asset/batch-upload/{batch['batchUploadId']}")
    states = [item["status"] for item in result["items"]]
    assert states == ["Completed"] * 3 + ["Failed"]
    names = [item["fileName"] for item in result["items"][:3]]
    assert len(set(names)) == 3 and all(n.startswith(str(i)) for i, n in enumerate(names))
    # the batch's file names are real assets now
    dataset = await api.ok("POST", "/dataset", json={"name": "d"})
    await api.ok(
        "POST",
        f"/dataset/{dataset['datasetId']}/datapoint",
        json=compare_point(names[0], names[1], 0),
    )


# -- datapoints --------------------------------------------------------------------------------
async def test_datapoint_is_idempotent_on_sort_index(api: Api, backend: LocalBackend) -> None:
    a, b = await upload(api, "a.png"), await upload(api, "b.png")
    dataset = await api.ok("POST", "/dataset", json={"name": "d", "schema": None})
    path = f"/dataset/{dataset['datasetId']}/datapoint"
    first = await api.ok("POST", path, json=compare_point(a, b, 0))
    again = await api.ok("POST", path, json=compare_point(a, b, 0))
    other = await api.ok("POST", path, json=compare_point(a, b, 1))
    assert first["datapointId"] == again["datapointId"] != other["datapointId"]
    assert await backend.store.datasets.datapoint_count(dataset["datasetId"]) == 2


async def test_datapoint_shapes_and_asset_checks(api: Api) -> None:
    a, b = await upload(api, "a.png"), await upload(api, "b.png")
    dataset = await api.ok("POST", "/dataset", json={"name": "d"})
    path = f"/dataset/{dataset['datasetId']}/datapoint"
    # Aug-2026 flat shape
    await api.ok(
        "POST",
        path,
        json={
            "asset": {"_t": "MultiAssetInput", "assets": [existing(a), existing(b)]},
            "context": "flat",
            "sortIndex": 5,
        },
    )
    status, body, _ = await api.call("POST", path, json=compare_point(a, "never-uploaded.png", 6))
    assert status == 400
    assert list(body["errors"]) == ["segments[0].asset.assets[1]"]
    assert "never-uploaded.png" in body["errors"]["segments[0].asset.assets[1]"][0]


async def test_schema_requires_segments(api: Api) -> None:
    name = await upload(api, "a.png")
    dataset = await api.ok(
        "POST",
        "/dataset",
        json={
            "name": "d",
            "schema": [
                {"key": "asset", "kind": "Asset", "required": True},
                {"key": "answer_options", "kind": "OptionList", "required": True},
            ],
        },
    )
    status, body, _ = await api.call(
        "POST",
        f"/dataset/{dataset['datasetId']}/datapoint",
        json={"segments": [{"key": "asset", "kind": "Asset", "asset": existing(name)}]},
    )
    assert status == 400
    assert "answer_options" in body["errors"]["segments"][0]


# -- definitions, audiences, jobs ----------------------------------------------------------
async def test_definitions_listing_and_revisions(api: Api) -> None:
    first = await compare_definition(api, 1, name="Alpha definition")
    second = await compare_definition(api, 1, name="Beta definition")
    page = await api.ok(
        "GET",
        "/job/definitions",
        params={"page": 1, "page_size": 10, "sort": "-created_at", "name[contains]": ""},
    )
    assert [item["definitionId"] for item in page["items"]] == [second, first]
    assert (page["total"], page["totalPages"], page["pageSize"]) == (2, 1, 10)
    page = await api.ok("GET", "/job/definitions", params={"name[contains]": "alpha"})
    assert [item["name"] for item in page["items"]] == ["Alpha definition"]
    revision = await api.ok("GET", f"/job/definition/{first}/revision")
    assert revision["revisionNumber"] == 1
    assert revision["workflow"]["rapid"]["_t"] == "Compare"
    assert revision["featureFlags"] == [] and revision["campaignFeatureFlags"] == []
    assert (await api.ok("GET", f"/job/definition/{first}/revision/1"))["state"] == "Completed"
    status, _, _ = await api.call("GET", f"/job/definition/{first}/revision/2")
    assert status == 404


async def test_listing_rejects_unknown_sort_names_and_unknown_ids_are_404(api: Api) -> None:
    for path in ("/job/definitions", "/jobs", "/audiences"):
        status, body, headers = await api.call("GET", path, params={"sort": "-colour"})
        assert status == 400, path
        assert headers["Content-Type"].startswith("application/problem+json")
        assert list(body["errors"]) == ["sort"]
        assert "colour" in body["errors"]["sort"][0] and "created_at" in body["errors"]["sort"][0]
    status, body, _ = await api.call("GET", "/jobs", params={"sort": "-progress,name"})
    assert status == 200
    status, body, _ = await api.call(
        "POST",
        "/job/definition",
        json={
            "definitionName": "d",
            "datasetId": "no-such-dataset",
            "workflow": {
                "_t": "SimpleWorkflow",
                "rapid": {
                    "_t": "Compare",
                    "asset": {"segment": "asset"},
                    "criteria": {"literal": "Which one?"},
                },
            },
            "referee": {"_t": "NaiveReferee", "totalVotes": 1},
        },
    )
    assert status == 404 and body["status"] == 404
    assert "no-such-dataset" in body["detail"]


async def test_legacy_blueprint_definition(api: Api) -> None:
    a, b = await upload(api, "a.png"), await upload(api, "b.png")
    dataset = await api.ok("POST", "/dataset", json={"name": "d"})
    await api.ok(
        "POST",
        f"/dataset/{dataset['datasetId']}/datapoint",
        json={
            "asset": {"_t": "MultiAssetInput", "assets": [existing(a), existing(b)]},
            "sortIndex": 0,
        },
    )
    created = await api.ok(
        "POST",
        "/job/definition",
        json={
            "definitionName": "legacy",
            "workflow": {
                "_t": "SimpleWorkflow",
                "blueprint": {"_t": "CompareBlueprint", "criteria": "Which?"},
            },
            "referee": {"_t": "NaiveReferee", "totalVotes": 2},
            "datasetId": dataset["datasetId"],
        },
    )
    job_id = await assign(api, created["definitionId"])
    await wait_state(api, job_id)


async def test_curated_audience_comes_first(api: Api) -> None:
    await api.ok("POST", "/audience", json={"name": "Prompt Alignment Audience", "filters": []})
    page = await api.ok(
        "GET",
        "/audiences",
        params={"page": 1, "page_size": 10, "name[contains]": "alignment", "sort": "-created_at"},
    )
    names = [item["name"] for item in page["items"]]
    assert names == ["Alignment Audience", "Prompt Alignment Audience"]
    everyone = await api.ok("GET", "/audiences", params={"name[contains]": ""})
    assert everyone["total"] == 5
    global_audience = await api.ok("GET", "/audience/global")
    assert (global_audience["name"], global_audience["status"]) == ("Global Audience", "Ready")
    metrics = await api.ok("GET", "/audience/global/user-metrics")
    assert metrics == {"usersPerState": {}, "capacity": "Sufficient"}


async def test_custom_audience_needs_three_examples(api: Api) -> None:
    definition_id = await compare_definition(api, 1)
    created = await api.ok("POST", "/audience", json={"name": "Mine", "filters": []})
    audience_id = created["audienceId"]
    a, b = await upload(api, "a.png"), await upload(api, "b.png")
    example = {
        "asset": {"_t": "MultiAssetInput", "assets": [existing(a), existing(b)]},
        "payload": {"_t": "CompareExamplePayload", "criteria": "Which?"},
        "truth": {"_t": "CompareExampleTruth", "winnerId": a},
        "randomCorrectProbability": 0.5,
    }
    await api.ok("POST", f"/audience/{audience_id}/example", json=example)
    status, body, _ = await api.call(
        "POST", "/job", json={"audienceId": audience_id, "jobDefinitionId": definition_id}
    )
    assert status == 400
    assert "audienceId" in body["errors"]
    assert "3" in body["errors"]["audienceId"][0]

    bad = {**example, "truth": {"_t": "CompareExampleTruth", "winnerId": "https://x/a.png"}}
    status, body, _ = await api.call("POST", f"/audience/{audience_id}/example", json=bad)
    assert status == 400 and "truth.winnerId" in body["errors"]

    for _ in range(2):
        await api.ok("POST", f"/audience/{audience_id}/example", json=example)
    assigned = await api.ok(
        "POST", "/job", json={"audienceId": audience_id, "jobDefinitionId": definition_id}
    )
    assert assigned["recruitingStarted"] is True
    await wait_state(api, assigned["jobId"])
    audience = await api.ok("GET", f"/audience/{audience_id}")
    assert audience["status"] == "Ready"
    assert audience["qualifiedUserCount"] > 0
    metrics = await api.ok("GET", f"/audience/{audience_id}/user-metrics")
    assert metrics["usersPerState"]["Graduated"] == audience["qualifiedUserCount"]
    jobs = await api.ok(
        "GET", "/jobs", params={"audience_id[eq]": audience_id, "name[contains]": ""}
    )
    assert [job["jobId"] for job in jobs["items"]] == [assigned["jobId"]]


async def test_compare_job_completes_with_results(api: Api) -> None:
    definition_id = await compare_definition(api, 3, name="Compare run")
    job_id = await assign(api, definition_id)
    job = await wait_state(api, job_id)
    assert job["name"] == "Compare run"
    progress = await api.ok("GET", f"/job/{job_id}/progress")
    assert progress == {
        "completionPercentage": 100.0,
        "total": 3,
        "completed": 3,
        "state": "Done",
        "responseCount": 12,
    }
    status, raw, _ = await api.call("GET", f"/job/{job_id}/download-results")
    assert status == 200
    document = raw if isinstance(raw, dict) else json.loads(raw)
    assert document["info"]["type"] == "Compare"
    assert set(document["summary"]) == {"A_wins_total", "B_wins_total"}
    assert document["summary"]["A_wins_total"] + document["summary"]["B_wins_total"] == 3
    results = document["results"]
    assert [item["context"] for item in results] == ["prompt 0", "prompt 1", "prompt 2"]
    for item in results:
        assert sum(item["aggregatedResults"].values()) == 4
        assert len(item["detailedResults"]) == 4
        assert item["winner"] in item["aggregatedResults"]
        assert set(item["detailedResults"][0]["userDetails"]) >= {
            "country",
            "language",
            "userScores",
            "age",
            "gender",
            "occupation",
        }
    listed = await api.ok("GET", "/jobs", params={"name[contains]": "compare r"})
    assert [j["jobId"] for j in listed["items"]] == [job_id]
    assert listed["items"][0]["isShared"] is False


async def test_early_stopping_classification(api: Api) -> None:
    definition_id = await classify_definition(
        api, 4, {"_t": "EarlyStoppingReferee", "maxVotes": 15, "threshold": 0.9}
    )
    job_id = await assign(api, definition_id)
    await wait_state(api, job_id)
    raw = await api.ok("GET", f"/job/{job_id}/download-results")
    document = raw if isinstance(raw, dict) else json.loads(raw)
    assert document["info"]["type"] == "Classification"
    assert len(document["results"]) == 4
    for item in document["results"]:
        assert set(item["aggregatedResults"]) == {"Cat", "Dog", "Bird"}
        assert 1 <= sum(item["aggregatedResults"].values()) <= 15
        assert set(item["confidencePerCategory"]) == {"Cat", "Dog", "Bird"}
        assert item["originalFileName"].startswith("animal_")


async def test_results_wait_for_completion_and_progress_moves(
    session: aiohttp.ClientSession, backend_options: dict[str, Any]
) -> None:
    # Seeing a job mid-way needs responses spread over time (realistic pace); the test then
    # only observes: it polls back to back until the job is done and checks what it saw, with
    # no assumption about when a poll lands.
    async with LocalBackend(**backend_options, pace="realistic", speed=10) as slow:
        api = await open_api(session, slow)
        definition_id = await compare_definition(
            api, 3, referee={"_t": "NaiveReferee", "totalVotes": 10}
        )
        job_id = await assign(api, definition_id)
        status, body, _ = await api.call("GET", f"/job/{job_id}/download-results")
        assert status == 409 and body["status"] == 409
        counts: list[int] = []
        with anyio.fail_after(DEADLINE):
            while (progress := await api.ok("GET", f"/job/{job_id}/progress"))["state"] != "Done":
                counts.append(progress["responseCount"])
        counts.append(progress["responseCount"])
        assert counts == sorted(counts)  # progress never goes back
        assert counts[-1] == 30
        assert any(0 < count < 30 for count in counts)


async def test_retry_and_preceding_job(api: Api) -> None:
    definition_id = await compare_definition(api, 2)
    first = await assign(api, definition_id)
    second = (
        await api.ok(
            "POST",
            "/job",
            json={
                "audienceId": "global",
                "jobDefinitionId": definition_id,
                "precedingJobId": first,
            },
        )
    )["jobId"]
    done_second = await wait_state(api, second)
    done_first = await wait_state(api, first)
    assert done_first["completedAt"] <= done_second["completedAt"]
    status, _, _ = await api.call("POST", f"/job/{first}/retry")
    assert status == 204
    assert (await api.ok("GET", f"/job/{first}"))["state"] == "Completed"
    status, _, _ = await api.call(
        "POST",
        "/job",
        json={"audienceId": "global", "jobDefinitionId": definition_id, "precedingJobId": "nope"},
    )
    assert status == 404


async def test_fetch_urls_downloads_and_reports_failures(
    backend_options: dict[str, Any], session: aiohttp.ClientSession
) -> None:
    async with LocalBackend(
        **backend_options, fetch_urls=True, allow_private_urls=True
    ) as fetching:
        api = await open_api(session, fetching)
        # the backend's own public index page is a handy URL to download
        good, missing = f"{fetching.url}/", f"{fetching.url}/missing.png"
        uploaded = await api.ok("POST", "/asset/url", params={"url": good})
        saved = backend_options["assets_dir"] / uploaded["fileName"]
        assert saved.read_bytes().startswith(b"<!doctype html>")
        status, body, _ = await api.call("POST", "/asset/url", params={"url": missing})
        assert status == 400
        assert (body["stage"], body["upstreamHttpStatus"]) == ("download", 404)

        batch = await api.ok(
            "POST", "/asset/batch-upload", json={"urls": [good, missing], "correlationId": "fetch"}
        )
        await poll_until(
            lambda: api.ok("GET", "/asset/batch-upload/status", params={"correlationId": "fetch"}),
            lambda status: batch["batchUploadId"] in status["completedBatches"],
        )
        result = await api.ok("GET", f"/asset/batch-upload/{batch['batchUploadId']}")
        assert [item["status"] for item in result["items"]] == ["Completed", "Failed"]
        assert result["items"][1]["upstreamHttpStatus"] == 404


# -- persistence -------------------------------------------------------------------------------
async def test_database_survives_restart(
    backend_options: dict[str, Any], session: aiohttp.ClientSession
) -> None:
    async with LocalBackend(**backend_options) as first:
        credentials = (first.client_id, first.client_secret)
        token = await get_token(session, first)
        api = Api(session, first.url, token)
        name = await upload(api, "kept.png", b"12345")
        audience = await api.ok("POST", "/audience", json={"name": "Persistent"})
        definition_id = await compare_definition(api, 2)
        job_id = await assign(api, definition_id)
        await wait_state(api, job_id)
    assert (backend_options["assets_dir"] / name).read_bytes() == b"12345"

    async with LocalBackend(**backend_options) as second:
        # Only hashes are stored: the reopened backend holds a fresh credential of the first
        # one's tenant, and the first credential still logs in.
        assert first.created_credential and not second.created_credential
        assert second.client_id != credentials[0]
        first_again = await get_token(session, second, credentials)
        assert first_again
        api = Api(session, second.url, token)  # tokens stay valid across restarts
        got = await api.ok("GET", f"/audience/{audience['audienceId']}")
        assert got["name"] == "Persistent"
        raw = await api.ok("GET", f"/job/{job_id}/download-results")
        document = raw if isinstance(raw, dict) else json.loads(raw)
        assert len(document["results"]) == 2
        # assets uploaded before the restart can still be referenced
        other = await upload(api, "other.png")
        dataset = await api.ok("POST", "/dataset", json={"name": "d"})
        await api.ok(
            "POST", f"/dataset/{dataset['datasetId']}/datapoint", json=compare_point(name, other, 0)
        )


async def test_unfinished_job_resumes_after_restart(
    backend_options: dict[str, Any], session: aiohttp.ClientSession
) -> None:
    async with LocalBackend(**backend_options, pace="realistic", speed=10) as first:
        api = await open_api(session, first)
        definition_id = await compare_definition(
            api, 4, referee={"_t": "NaiveReferee", "totalVotes": 5}
        )
        job_id = await assign(api, definition_id)
        await poll_until(
            lambda: api.ok("GET", f"/job/{job_id}/progress"),
            lambda progress: progress["completed"] >= 1,
        )
    async with LocalBackend(**backend_options) as second:
        api = await open_api(session, second)
        await wait_state(api, job_id)
        progress = await api.ok("GET", f"/job/{job_id}/progress")
        assert (progress["completed"], progress["responseCount"]) == (4, 20)


# -- pages -------------------------------------------------------------------------------------
async def test_app_pages(api: Api, session: aiohttp.ClientSession) -> None:
    definition_id = await compare_definition(api, 1, name="Page <demo>")
    job_id = await assign(api, definition_id)
    async with session.get(f"{api.url}/definitions/{definition_id}") as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        text = await response.text()
    assert "Page &lt;demo&gt;" in text and "Which image matches" in text
    async with session.get(f"{api.url}/audiences/global/job/{job_id}") as response:
        assert response.status == 200
        assert job_id in await response.text()


@pytest.mark.sqlite_only  # its own in-memory backend, whatever the store under test
async def test_errors_in_the_body_reach_the_caller_unwrapped(local_backend: LocalBackend) -> None:
    from rapidata_async import NotFoundError

    with pytest.raises(NotFoundError):
        async with LocalBackend() as backend, backend.client() as client:
            await client.job.get_job_by_id("missing")
