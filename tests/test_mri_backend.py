"""MRI over raw HTTP against the served backend: the 3.27.1 shapes (prompt ``segments``,
batch submit) and the Aug-2026 ones, owner checks (another tenant's ids are 404), hostile
input (4xx naming the field, never 500), running leaderboards whose standings recover a known
order of models with intervals, filters that change the battles counted, and the pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from rapidata_async.local import LocalBackend

pytestmark = pytest.mark.anyio


class Api:
    """A bearer-token session on the backend, answering JSON (and the status)."""

    def __init__(self, session: aiohttp.ClientSession, headers: dict[str, str]) -> None:
        self.session = session
        self.headers = headers

    async def call(
        self, method: str, path: str, body: Any = None, *, params: Any = None
    ) -> tuple[int, Any]:
        async with self.session.request(
            method, path, json=body, params=params, headers=self.headers
        ) as response:
            data = await response.json(content_type=None) if response.content_length != 0 else None
            return response.status, data

    async def ok(self, method: str, path: str, body: Any = None, *, params: Any = None) -> Any:
        status, data = await self.call(method, path, body, params=params)
        assert status == 200, (method, path, status, data)
        return data


async def _api(session: aiohttp.ClientSession, credential: tuple[str, str]) -> Api:
    form = {"client_id": credential[0], "client_secret": credential[1]}
    async with session.post("/connect/token", data=form) as response:
        assert response.status == 200
        token = (await response.json())["access_token"]
    return Api(session, {"Authorization": f"Bearer {token}"})


@pytest.fixture
async def session(backend: LocalBackend) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(backend.url) as opened:
        yield opened


@pytest.fixture
async def api(session: aiohttp.ClientSession, backend: LocalBackend) -> Api:
    return await _api(session, (backend.client_id, backend.client_secret))


def _prompt(identifier: str, text: str, tags: list[str], asset: str | None = None) -> Any:
    segments: list[Any] = [{"key": "prompt", "kind": "Text", "text": text}]
    if asset is not None:
        segments.append(
            {
                "key": "prompt_asset",
                "kind": "Asset",
                "asset": {"_t": "ExistingAssetInput", "name": asset},
            }
        )
    return {
        "identifier": identifier,
        "segments": segments,
        "tags": [{"value": t, "category": None} for t in tags],
        "origin": {"source": "local"},
    }


async def _benchmark(api: Api, prompts: int, *, name: str = "Bench") -> str:
    """A benchmark with prompts ``p0``…; even ones tagged ``even``, all ``all``."""
    benchmark_id: str = (await api.ok("POST", "/benchmark", {"name": name}))["id"]
    for i in range(prompts):
        tags = ["all", "even"] if i % 2 == 0 else ["all"]
        await api.ok("POST", f"/benchmark/{benchmark_id}/prompt", _prompt(f"p{i}", f"t{i}", tags))
    return benchmark_id


async def _model(api: Api, benchmark_id: str, name: str, prompts: int) -> str:
    participant: str = (
        await api.ok("POST", f"/benchmark/{benchmark_id}/participants", {"name": name})
    )["participantId"]
    for i in range(prompts):
        sample = {"identifier": f"p{i}", "asset": {"_t": "TextAssetInput", "text": f"{name}|{i}"}}
        await api.ok("POST", f"/participant/{participant}/sample", sample)
    return participant


async def test_benchmark_prompts_participants_in_both_shapes(api: Api) -> None:
    uploaded = await api.ok("POST", "/asset/url", params={"url": "https://example.com/cat.png"})
    benchmark_id = (await api.ok("POST", "/benchmark", {"name": "Shapes"}))["id"]
    base = f"/benchmark/{benchmark_id}"
    await api.ok("POST", f"{base}/prompt", _prompt("cat", "A cat", ["animal"], uploaded["fileName"]))
    # The Aug-2026 flat shape.
    await api.ok("POST", f"{base}/prompt", {"identifier": "dog", "prompt": "A dog", "tags": []})
    status, body = await api.call("POST", f"{base}/prompt", {"identifier": "dog"})
    assert status == 409 and "identifier" in body["errors"]

    got = await api.ok("GET", base)
    assert (got["id"], got["name"], got["forkStatus"]) == (benchmark_id, "Shapes", "Ready")
    assert [s["key"] for s in got["promptStructure"]] == ["prompt", "prompt_asset"]
    found = await api.ok(
        "GET", "/benchmarks", params={"name[contains]": "shap", "sort": "-created_at"}
    )
    assert [b["id"] for b in found["items"]] == [benchmark_id]

    page = await api.ok("GET", f"{base}/prompts", params={"page": 1, "page_size": 100})
    assert (page["total"], page["totalPages"]) == (2, 1)
    cat, dog = page["items"]
    assert (cat["identifier"], cat["originalPrompt"], cat["origin"]) == (
        "cat",
        "A cat",
        {"source": "local"},
    )
    asset = cat["segments"][1]["asset"]
    assert asset["_t"] == "FileAsset"
    assert asset["metadata"]["sourceUrl"]["url"] == "https://example.com/cat.png"
    assert cat["tags"] == [{"value": "animal"}]
    assert dog["segments"] == [
        {"key": "prompt", "kind": "Text", "originalText": "A dog", "englishText": "A dog"}
    ]

    participant = (await api.ok("POST", f"{base}/participants", {"name": "m1"}))["participantId"]
    sample = {"identifier": "cat", "asset": {"_t": "TextAssetInput", "text": "meow"}}
    await api.ok("POST", f"/participant/{participant}/sample", sample)
    status, _ = await api.call("POST", f"/participant/{participant}/sample", sample)
    assert status == 409  # already there: the 3.27.1 client counts it as uploaded
    samples = await api.ok(
        "GET", f"/participant/{participant}/samples", params={"fillMissing": "true"}
    )
    assert [(s["_t"], s["identifier"]) for s in samples["items"]] == [
        ("SampleOutput", "cat"),
        ("PlaceholderSampleOutput", "dog"),
    ]
    assert samples["items"][0]["tags"] == ["animal"]

    submitted = await api.ok("POST", "/participants/submit", {"participantIds": [participant]})
    assert submitted == {"validDatapoints": 1, "invalidDatapoints": 0}
    other = (await api.ok("POST", f"{base}/participants", {"name": "m2"}))["participantId"]
    single = await api.ok("POST", f"/participants/{other}/submit")  # the Aug-2026 form
    assert single["validDatapoints"] == 0
    listed = await api.ok("GET", f"{base}/participants", params={"sort": "name"})
    assert [(p["name"], p["status"], p["votesExcluded"]) for p in listed["items"]] == [
        ("m1", "Submitted", False),
        ("m2", "Submitted", False),
    ]


async def test_another_tenant_sees_nothing(
    api: Api, session: aiohttp.ClientSession, backend: LocalBackend
) -> None:
    benchmark_id = await _benchmark(api, 2)
    participant = await _model(api, benchmark_id, "m1", 2)
    board = await api.ok(
        "POST",
        "/leaderboard",
        {"benchmarkId": benchmark_id, "name": "L", "instruction": "Better?", "showPrompt": True},
    )
    other = await _api(session, await backend.create_client())
    for method, path, body in [
        ("GET", f"/benchmark/{benchmark_id}", None),
        ("GET", f"/benchmark/{benchmark_id}/prompts", None),
        ("GET", f"/benchmark/{benchmark_id}/leaderboards", None),
        ("GET", f"/benchmark/{benchmark_id}/participants", None),
        ("POST", f"/benchmark/{benchmark_id}/prompt", {"identifier": "x"}),
        ("POST", f"/benchmark/{benchmark_id}/participants", {"name": "x"}),
        ("GET", f"/participant/{participant}/samples", None),
        (
            "POST",
            f"/participant/{participant}/sample",
            {"identifier": "p0", "asset": {"_t": "TextAssetInput", "text": "x"}},
        ),
        ("POST", "/participants/submit", {"participantIds": [participant]}),
        ("POST", f"/participants/{participant}/submit", None),
        ("GET", f"/leaderboard/{board['id']}/standings/query", None),
        (
            "POST",
            "/leaderboard",
            {"benchmarkId": benchmark_id, "name": "L", "instruction": "?", "showPrompt": False},
        ),
    ]:
        status, problem = await other.call(method, path, body)
        assert status == 404, (method, path, problem)
    assert (await other.ok("GET", "/benchmarks"))["total"] == 0


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/benchmark", {"name": " "}, "name"),
        ("/benchmark", {"name": "n" * 1001}, "name"),
        ("/benchmark", {"name": "b", "minAssetsPerPrompt": 1}, "minAssetsPerPrompt"),
        ("/leaderboard", {"name": "L", "instruction": "?", "showPrompt": 1}, "showPrompt"),
        ("/leaderboard", {"name": "L", "instruction": "?", "showPrompt": False}, "benchmarkId"),
        ("{bench}", {"name": "L", "instruction": "", "showPrompt": False}, "instruction"),
        ("{bench}", {"name": "L", "instruction": "?", "showPrompt": False,
                     "responseBudget": 0}, "responseBudget"),
        ("{bench}", {"name": "L", "instruction": "?", "showPrompt": False,
                     "minResponses": 10**6}, "minResponses"),
        ("{bench}", {"name": "L", "instruction": "?", "showPrompt": False,
                     "responseBudget": 2**70}, "responseBudget"),
        ("/participants/submit", {"participantIds": []}, "participantIds"),
        ("/participants/submit", {"participantIds": ["x"] * 101}, "participantIds"),
        ("/participants/submit", {"participantIds": ["nope"]}, "participantIds[0]"),
        ("{prompt}", {"identifier": ""}, "identifier"),
        ("{prompt}", {"identifier": "a\u0000b"}, "identifier"),
        ("{prompt}", {"identifier": "x", "segments": [{"key": "prompt", "kind": "Asset"}]},
         "segments[0].asset"),
        ("{prompt}", {"identifier": "x", "segments": [{"key": "prompt_asset", "kind": "Asset",
         "asset": {"_t": "ExistingAssetInput", "name": "never.png"}}]}, "segments[0].asset"),
        ("{sample}", {"identifier": "p0", "asset": {"_t": "ExistingAssetInput",
                                                  "name": "never.png"}}, "asset"),
        ("{sample}", {"identifier": "unknown", "asset": {"_t": "TextAssetInput", "text": "t"}},
         "identifier"),
        ("{sample}", {"identifier": "p0", "asset": {"_t": "Bogus"}}, "asset._t"),
    ],
)  # fmt: skip
async def test_bad_input_is_a_4xx_naming_the_field(
    api: Api, path: str, body: Any, field: str
) -> None:
    benchmark_id = await _benchmark(api, 1)
    participant = (
        await api.ok("POST", f"/benchmark/{benchmark_id}/participants", {"name": "m"})
    )["participantId"]
    if path == "{bench}":
        path, body = "/leaderboard", {**body, "benchmarkId": benchmark_id}
    path = path.replace("{prompt}", f"/benchmark/{benchmark_id}/prompt")
    path = path.replace("{sample}", f"/participant/{participant}/sample")
    status, problem = await api.call("POST", path, body)
    assert 400 <= status < 500, (status, problem)
    assert field in problem["errors"], problem


async def test_bad_queries_are_400(api: Api) -> None:
    benchmark_id = await _benchmark(api, 1)
    board = await api.ok(
        "POST",
        "/leaderboard",
        {"benchmarkId": benchmark_id, "name": "L", "instruction": "?", "showPrompt": False},
    )
    for path, params, field in [
        (f"/leaderboard/{board['id']}/standings/query", {"country[gt]": "DE"}, "country[gt]"),
        (f"/benchmark/{benchmark_id}/prompts", {"sort": "bogus"}, "sort"),
        ("/benchmarks", {"page_size": "0"}, "page_size"),
        (f"/benchmark/{benchmark_id}/participants", {"name[bogus]": "x"}, "name[bogus]"),
    ]:
        status, problem = await api.call("GET", path, params=params)
        assert status == 400, (path, problem)
        assert field in problem["errors"]
    status, _ = await api.call("GET", "/leaderboard/nope/standings/query")
    assert status == 404
