"""MRI over raw HTTP against the served backend: the 3.27.1 shapes (prompt ``segments``,
batch submit) and the Aug-2026 ones, owner checks (another tenant's ids are 404), hostile
input (4xx naming the field, never 500), running leaderboards whose standings recover a known
order of models with intervals, filters that change the battles counted, and the pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anyio
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
    await api.ok(
        "POST", f"{base}/prompt", _prompt("cat", "A cat", ["animal"], uploaded["fileName"])
    )
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
    participant = (await api.ok("POST", f"/benchmark/{benchmark_id}/participants", {"name": "m"}))[
        "participantId"
    ]
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


# -- running leaderboards ------------------------------------------------------------------------
QUALITY = {"m0": 300.0, "m1": 100.0, "m2": -100.0, "m3": -300.0}
"""Latent quality (rating points) per model: the true order is m0, m1, m2, m3."""


async def _standings(api: Api, board_id: str, **filters: Any) -> Any:
    return await api.ok("GET", f"/leaderboard/{board_id}/standings/query", params=filters)


async def _settled(api: Api, board_id: str, votes: int) -> Any:
    """The standings once the leaderboard has ``votes`` votes (polled with a deadline)."""
    with anyio.fail_after(60):
        while True:
            result = await _standings(api, board_id)
            if result["totalResponses"] >= votes:
                return result
            await anyio.sleep(0.2)


async def test_leaderboards_recover_the_true_order_with_intervals(
    api: Api, backend: LocalBackend
) -> None:
    backend.quality = lambda label: QUALITY[label.split("|")[0]]
    try:
        benchmark_id = await _benchmark(api, 6)
        board = {"benchmarkId": benchmark_id, "showPrompt": True, "minResponses": 3}
        plain = await api.ok(
            "POST", "/leaderboard", {**board, "name": "Quality", "instruction": "Which is better?",
                                     "responseBudget": 600}
        )  # fmt: skip
        assert (plain["responseBudget"], plain["voteAggregation"]) == (600, "AllVotes")
        inverse = await api.ok(
            "POST", "/leaderboard", {**board, "name": "Worse", "instruction": "Which is worse?",
                                     "responseBudget": 300, "isInversed": True}
        )  # fmt: skip
        tagged = await api.ok(
            "POST", "/leaderboard", {**board, "name": "Even", "instruction": "Which is better?",
                                     "responseBudget": 60, "includedTags": ["even"]}
        )  # fmt: skip
        models = [await _model(api, benchmark_id, name, 6) for name in QUALITY]
        await api.ok("POST", "/participants/submit", {"participantIds": models})

        result = await _settled(api, plain["id"], 600)
        assert 600 <= result["totalResponses"] <= 603
        items = result["items"]
        assert [i["name"] for i in items] == ["m0", "m1", "m2", "m3"]
        for item in items:
            assert item["ciLow"] <= item["score"] <= item["ciHigh"]
            assert item["ciHigh"] - item["ciLow"] > 0
            assert item["battles"] == item["totalMatches"] > 0
            assert item["rankLow"] <= items.index(item) + 1 <= item["rankHigh"]
        assert sum(i["battles"] for i in items) == 2 * result["totalResponses"]
        assert items[0]["score"] > 1000 > items[-1]["score"]  # centred on 1000

        worse = await _settled(api, inverse["id"], 300)
        assert [i["name"] for i in worse["items"]] == ["m3", "m2", "m1", "m0"]

        even = await _settled(api, tagged["id"], 60)
        odd = await _standings(api, tagged["id"], **{"prompt_identifier[in]": "p1"})
        assert (even["totalResponses"] >= 60, odd["totalResponses"]) == (True, 0)

        # Filters count fewer battles: the even prompts, the women, both.
        total = result["totalResponses"]
        by_tag = await _standings(api, plain["id"], **{"tags[in]": "even"})
        women = await _standings(api, plain["id"], **{"gender[in]": "Female"})
        both = await _standings(api, plain["id"], **{"tags[in]": "even", "gender[in]": "Female"})
        assert 0 < both["totalResponses"] < min(by_tag["totalResponses"], women["totalResponses"])
        assert max(by_tag["totalResponses"], women["totalResponses"]) < total
        nowhere = await _standings(api, plain["id"], **{"tags[in]": "no-such-tag"})
        assert nowhere["totalResponses"] == 0
        assert all(i["battles"] == 0 for i in nowhere["items"])

        # Polling again reuses the fit (the first call may still have raced the last votes).
        assert await _standings(api, plain["id"]) == result
        fits = backend.context.standings.fits
        again = await _standings(api, plain["id"])
        assert again == result
        assert backend.context.standings.fits == fits
    finally:
        backend.quality = None


async def test_pages_show_the_benchmark_and_the_standings_plot(
    api: Api, session: aiohttp.ClientSession
) -> None:
    benchmark_id = await _benchmark(api, 2, name="Page <b>bench</b>")
    board = await api.ok(
        "POST",
        "/leaderboard",
        {"benchmarkId": benchmark_id, "name": "Look", "instruction": "Nicer?",
         "showPrompt": False, "responseBudget": 30, "minResponses": 3},
    )  # fmt: skip
    models = [await _model(api, benchmark_id, name, 2) for name in ("<script>x</script>", "m1")]
    await api.ok("POST", "/participants/submit", {"participantIds": models})
    await _settled(api, board["id"], 30)
    async with session.get(f"/mri/benchmarks/{benchmark_id}") as response:
        assert response.status == 200
        html = await response.text()
    assert "Page &lt;b&gt;bench&lt;/b&gt;" in html and "<b>bench</b>" not in html
    assert f"/mri/benchmarks/{benchmark_id}/leaderboard/{board['id']}" in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>x" not in html
    async with session.get(f"/mri/benchmarks/{benchmark_id}/leaderboard/{board['id']}") as r:
        assert r.status == 200
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]
        page = await r.text()
    assert page.count("<circle ") == 2 and page.count('class="interval"') == 2
    assert "<script>x" not in page
    for path in (
        "/mri/benchmarks/nope",
        f"/mri/benchmarks/nope/leaderboard/{board['id']}",
        f"/mri/benchmarks/{benchmark_id}/leaderboard/nope",
    ):
        async with session.get(path) as response:
            assert response.status == 404, path


async def test_a_full_benchmark_refuses_more(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from rapidata_async.local.services import mri

    monkeypatch.setattr(mri, "MAX_PROMPTS", 2)
    monkeypatch.setattr(mri, "MAX_PARTICIPANTS", 1)
    benchmark_id = await _benchmark(api, 2)
    status, problem = await api.call(
        "POST", f"/benchmark/{benchmark_id}/prompt", _prompt("p9", "t", [])
    )
    assert (status, list(problem["errors"])) == (400, ["benchmarkId"])
    await _model(api, benchmark_id, "m0", 1)
    status, problem = await api.call(
        "POST", f"/benchmark/{benchmark_id}/participants", {"name": "m1"}
    )
    assert (status, list(problem["errors"])) == (400, ["benchmarkId"])
