"""``client.mri`` through the public SDK against the local backend: the docs' MRI example end
to end (benchmark, tagged prompts, a leaderboard, three models, standings with intervals),
filters reaching the server, samples re-uploaded only where the server lacks them, live
standings, find/get, and the client-side checks that stop bad input before any request."""

from __future__ import annotations

import json
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import anyio
import pytest
from _proxy import FaultProxy

from rapidata_async import (
    AsyncRapidataClient,
    FailedUploadException,
    RapidataBenchmark,
    Standings,
    Tag,
    UploadTracker,
)
from rapidata_async.local import LocalBackend

pytestmark = pytest.mark.anyio

PROMPTS = [
    "A serene mountain landscape at sunset",
    "A futuristic city with flying cars",
    "A portrait of a wise old wizard",
    "A cat reading a newspaper",
]
IDS = ["mountain", "city", "wizard", "cat"]
TAGS = [["landscape", "even"], ["city"], ["portrait", "even"], ["animal"]]
DEADLINE = 60


@pytest.fixture
async def proxy(backend: LocalBackend) -> AsyncIterator[FaultProxy]:
    async with FaultProxy(backend.url) as p:
        yield p


@pytest.fixture
async def proxied(backend: LocalBackend, proxy: FaultProxy) -> AsyncIterator[AsyncRapidataClient]:
    async with AsyncRapidataClient(
        backend.client_id, backend.client_secret, api_url=proxy.url, auth_url=backend.url
    ) as opened:
        yield opened


def media(tmp_path: Path, model: str, n: int = len(PROMPTS)) -> list[str]:
    out = []
    for i in range(n):
        p = tmp_path / f"{model}_{i}.png"
        p.write_bytes(f"{model}:{i}".encode() * 64)
        out.append(str(p))
    return out


async def benchmark_with_prompts(client: AsyncRapidataClient, name: str) -> RapidataBenchmark:
    return await client.mri.create_new_benchmark(name, identifiers=IDS, prompts=PROMPTS, tags=TAGS)


async def collected(standings_of: Any, budget: int, min_responses: int = 3) -> Standings:
    """Standings once the run's ``budget`` is spent (polled with a deadline): a run stops
    when the next matchup of ``min_responses`` votes would not fit."""
    votes = budget - min_responses + 1
    with anyio.fail_after(DEADLINE):
        while True:
            standings: Standings = await standings_of()
            if standings.total_responses >= votes:
                return standings
            await anyio.sleep(0.05)


# -- the docs' example, end to end ------------------------------------------------------------
async def test_docs_example_end_to_end(client: AsyncRapidataClient, tmp_path: Path) -> None:
    benchmark = await benchmark_with_prompts(client, "AI Art Competition")
    # Prompts are created concurrently: the listing's order is the server's, the lists align.
    listed_prompts = zip(
        await benchmark.identifiers(),
        await benchmark.prompts(),
        await benchmark.tags(),
        strict=True,
    )
    assert sorted(listed_prompts) == sorted(zip(IDS, PROMPTS, TAGS, strict=True))
    leaderboard = await benchmark.create_leaderboard(
        "Realism",
        "Which image is more realistic?",
        show_prompt=True,
        level_of_detail="debug",
        min_responses_per_matchup=3,
    )
    assert (leaderboard.response_budget, leaderboard.min_responses_per_matchup) == (20, 3)
    assert leaderboard.show_prompt and not leaderboard.inverse_ranking
    for model in ("flux", "imagen", "dalle"):
        participant = await benchmark.evaluate_model(model, media(tmp_path, model), prompts=PROMPTS)
        assert (participant.name, participant.status) == (model, "Submitted")
    participants = await benchmark.participants()
    assert sorted((p.name, p.status) for p in participants) == [
        ("dalle", "Submitted"),
        ("flux", "Submitted"),
        ("imagen", "Submitted"),
    ]
    assert await benchmark.run() == []  # evaluate_model already submitted every model

    [listed] = await benchmark.leaderboards()
    assert (listed.id, listed.name, listed.benchmark_id) == (
        leaderboard.id,
        "Realism",
        benchmark.id,
    )
    standings = await collected(listed.get_standings, 20)
    assert len(standings) == 3
    frame = standings.to_polars()
    assert frame.columns == [
        "name",
        "wins",
        "total_matches",
        "score",
        "ci_low",
        "ci_high",
        "rank_low",
        "rank_high",
        "battles",
    ]
    assert set(frame["name"]) == {"flux", "imagen", "dalle"}
    scores = frame["score"].to_list()
    assert scores == sorted(scores, reverse=True)
    for row in frame.iter_rows(named=True):
        assert row["ci_low"] <= row["score"] <= row["ci_high"]
        assert 1 <= row["rank_low"] <= row["rank_high"] <= 3
    assert sum(frame["battles"]) == 2 * standings.total_responses  # a vote: one battle of two
    assert json.loads(standings.to_json())["standings"][0]["name"] == frame["name"][0]
    pandas_frame = standings.to_pandas()
    assert list(pandas_frame["name"]) == frame["name"].to_list()

    assert await benchmark.view() == f"{client.app_url}/mri/benchmarks/{benchmark.id}"
    assert await leaderboard.view() == (
        f"{client.app_url}/mri/benchmarks/{benchmark.id}/leaderboard/{leaderboard.id}"
    )
    async with aiohttp.ClientSession() as session:  # the local backend serves both pages
        for url, shown in [(benchmark.url, "AI Art Competition"), (leaderboard.url, "Realism")]:
            async with session.get(url) as page:
                assert page.status == 200 and shown in await page.text()


async def test_find_and_get(client: AsyncRapidataClient) -> None:
    first = await client.mri.create_new_benchmark("Art bench one")
    second = await benchmark_with_prompts(client, "Art bench two")
    await client.mri.create_new_benchmark("Something else")
    found = await client.mri.find_benchmarks("art bench")
    assert [b.id for b in found] == [second.id, first.id]  # newest first
    assert [b.id for b in await client.mri.find_benchmarks("art bench", amount=1, page=2)] == [
        first.id
    ]
    fetched = await client.mri.get_benchmark_by_id(second.id)
    assert (fetched.id, fetched.name) == (second.id, "Art bench two")
    assert sorted(await fetched.identifiers()) == sorted(IDS)
    assert await first.identifiers() == []


async def test_add_prompt_and_prompt_assets(client: AsyncRapidataClient, tmp_path: Path) -> None:
    picture = tmp_path / "ref.png"
    picture.write_bytes(b"reference" * 100)
    benchmark = await client.mri.create_new_benchmark("Assets")
    await benchmark.add_prompt(
        identifier="one", prompt="Draw this", prompt_asset=[str(picture)], tags=["ref"]
    )
    await benchmark.add_prompts(
        ["two"], [None], [[str(picture)]], [[Tag("x", category="group")]], ["coco"]
    )
    assert await benchmark.identifiers() == ["one", "two"]
    assert await benchmark.prompts() == ["Draw this", None]
    assets = await benchmark.prompt_assets()
    assert all(a is not None and len(a) == 1 for a in assets)
    assert assets[0] == assets[1]  # the same file, uploaded once
    with pytest.raises(ValueError, match=r"identifiers\[0\]: 'one' is already a prompt"):
        await benchmark.add_prompts(["one"], ["again"])


# -- standings filters ------------------------------------------------------------------------
async def test_standings_filters_reach_the_server(
    proxied: AsyncRapidataClient, proxy: FaultProxy, tmp_path: Path
) -> None:
    benchmark = await benchmark_with_prompts(proxied, "Filters")
    leaderboard = await benchmark.create_leaderboard("Pick", "Which is better?", level_of_detail=40)
    for model in ("a", "b"):
        await benchmark.evaluate_model(model, media(tmp_path, model), identifiers=IDS)
    everything = await collected(leaderboard.get_standings, 40)
    even = await leaderboard.get_standings(tags=["even"])
    assert 0 < even.total_responses < everything.total_responses
    assert sum(s.battles or 0 for s in even) < sum(s.battles or 0 for s in everything)
    nobody = await leaderboard.get_standings(
        country=["XX"], language=["xx"], gender=["Other"], age_bucket=["0-17"], occupation=["x"]
    )
    assert nobody.total_responses == 0
    query = parse_qsl(proxy.calls(f"/leaderboard/{leaderboard.id}/standings")[-1].query)
    assert query == [
        ("country[in]", "XX"),
        ("language[in]", "xx"),
        ("gender[in]", "Other"),
        ("age_bucket[in]", "0-17"),
        ("occupation[in]", "x"),
    ]


# -- resilience -------------------------------------------------------------------------------
async def test_evaluate_model_reuploads_only_missing_samples(
    proxied: AsyncRapidataClient, proxy: FaultProxy, tmp_path: Path
) -> None:
    benchmark = await benchmark_with_prompts(proxied, "Flaky")
    # The first two sample calls are refused (a 4xx: no transport retry), the rest pass.
    proxy.fail(422, times=2, path="/participant/")
    participant = await benchmark.evaluate_model("m", media(tmp_path, "m"), identifiers=IDS)
    assert participant.status == "Submitted"
    posts = [c for c in proxy.calls("/participant/") if c.method == "POST"]
    refused = [json.loads(c.body)["identifier"] for c in posts if c.status == 422]
    assert len(refused) == 2
    listing = [c for c in proxy.calls("/participant/") if c.method == "GET"]
    assert listing, "the server's samples were listed before re-uploading"
    after = [
        c for c in posts if c is not None and proxy.seen.index(c) > proxy.seen.index(listing[0])
    ]
    assert sorted(json.loads(c.body)["identifier"] for c in after) == sorted(refused)
    assert len(posts) == len(IDS) + 2
    assert [p.status for p in await benchmark.participants()] == ["Submitted"]


async def test_samples_still_failing_raise_and_retry_submits(
    proxied: AsyncRapidataClient, proxy: FaultProxy, tmp_path: Path
) -> None:
    benchmark = await benchmark_with_prompts(proxied, "Broken")
    # Both files are refused on the first try and again on the re-upload round; that round
    # closed no gap, so the call gives up and leaves the participant unsubmitted.
    proxy.fail(422, times=4, path="/asset/file", body=b'{"title":"refused"}')
    with pytest.raises(FailedUploadException) as info:
        await benchmark.evaluate_model("m", media(tmp_path, "m", 2), identifiers=IDS[:2])
    exc = info.value
    assert exc.participant is not None and len(exc.failed_uploads) == 2
    assert {s.identifier for s in exc.failed_uploads} == {"mountain", "city"}
    assert "2 samples failed to upload (participant" in str(exc)
    assert [p.status for p in await benchmark.participants()] == ["Created"]  # not submitted
    assert proxy.pending_faults == 0
    participant = await exc.retry()
    assert participant.status == "Submitted"
    assert [p.status for p in await benchmark.participants()] == ["Submitted"]


# -- live standings ---------------------------------------------------------------------------
async def test_live_standings_yield_growing_battle_counts(
    backend_options: dict[str, Any], tmp_path: Path
) -> None:
    async with (
        LocalBackend(**backend_options, pace="realistic", speed=200) as slow,
        slow.client() as client,
    ):
        benchmark = await benchmark_with_prompts(client, "Live")
        leaderboard = await benchmark.create_leaderboard("Live", "Better?", level_of_detail=30)
        for model in ("a", "b", "c"):
            await benchmark.evaluate_model(model, media(tmp_path, model), identifiers=IDS)
        seen: list[Standings] = []
        async for standings in leaderboard.live_standings(interval=0.05, timeout=DEADLINE):
            seen.append(standings)
        counts = [s.total_responses for s in seen]
        assert counts == sorted(set(counts))  # yielded only when the count moved
        assert counts[-1] >= 30 - 3 + 1
        battles = [sum(s.battles or 0 for s in snapshot) for snapshot in seen]
        assert battles == sorted(battles) and battles[-1] > battles[0]


# -- client-side checks -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"identifiers": ["a", "b", "a"], "prompts": ["x", "y", "z"]},
         r"identifiers\[2\]: 'a' is given twice"),
        ({"prompts": ["x", "x"]}, r"prompts\[1\]: 'x' is given twice"),
        ({"identifiers": ["a", "b"], "prompts": ["x"]}, "identifiers has 2, prompts has 1"),
        ({"identifiers": ["a"]}, "prompts or prompt_assets"),
        ({"prompt_assets": [["https://x/a.png"]]}, "identifiers or prompts"),
        ({"prompts": ["x"], "tags": ["a"]}, r"tags\[0\]: must be a list of tags"),
        ({"prompts": ["x"], "tags": [[3]]}, r"tags\[0\]\[0\]"),
        ({"prompts": ["x"], "prompt_assets": [[]]},
         r"prompt_assets\[0\]: must be a non-empty list"),
        ({"prompts": ["x"], "prompt_assets": [["ftp://x/a.png"]]}, r"prompt_assets\[0\]\[0\]"),
        ({"prompts": ["x"], "origins": [5]}, r"origins\[0\]"),
        ({"identifiers": ["a"], "prompts": [None]}, r"prompts\[0\]: needs a prompt text"),
        ({"prompts": "abc"}, "prompts: must be a list"),
    ],
)  # fmt: skip
async def test_bad_prompts_fail_before_any_request(
    proxied: AsyncRapidataClient, proxy: FaultProxy, kwargs: dict[str, Any], message: str
) -> None:
    before = len(proxy.seen)
    with pytest.raises(ValueError, match=message):
        await proxied.mri.create_new_benchmark("Bad", **kwargs)
    assert len(proxy.seen) == before


async def test_bad_leaderboards_and_models_fail_before_any_request(
    proxied: AsyncRapidataClient, proxy: FaultProxy
) -> None:
    benchmark = await benchmark_with_prompts(proxied, "Checks")
    await benchmark.identifiers()  # the listing is cached from here on
    before = len(proxy.seen)
    for kwargs, message in [
        ({"min_responses_per_matchup": 2}, "min_responses_per_matchup: must be an integer >= 3"),
        ({"level_of_detail": "extreme"}, "level_of_detail: must be one of"),
        ({"level_of_detail": 0}, "level_of_detail: a response budget must be >= 1"),
        ({"vote_aggregation": "Loudest"}, "vote_aggregation: must be one of"),
        ({"included_tags": "even"}, "included_tags: must be a list"),
        ({"audience_id": ""}, "audience_id: must be a non-empty id"),
    ]:
        with pytest.raises(ValueError, match=message):
            await benchmark.create_leaderboard("L", "Better?", **kwargs)
    with pytest.raises(ValueError, match="instruction: must be a non-empty string"):
        await benchmark.create_leaderboard("L", "")
    for kwargs, message in [
        ({"media": ["a.png"], "identifiers": ["mountain", "city"]}, "media has 1 entries"),
        ({"media": ["a.png"]}, "identifiers or prompts: give exactly one"),
        ({"media": ["a.png"], "identifiers": ["x"], "prompts": ["y"]}, "exactly one"),
        ({"media": [], "identifiers": []}, "media: must be a non-empty list"),
        ({"media": ["a.png"], "identifiers": ["nope"]},
         r"identifiers\[0\]: 'nope' is not a prompt"),
        ({"media": ["a.png"], "prompts": ["A dog"]}, r"prompts\[0\]: 'A dog' is not a prompt"),
        ({"media": ["gs://a.png"], "identifiers": ["city"]}, r"media\[0\]"),
    ]:  # fmt: skip
        with pytest.raises(ValueError, match=message):
            await benchmark.evaluate_model("m", **kwargs)
    with pytest.raises(ValueError, match="interval: must be a positive number"):
        async for _ in (
            await benchmark.create_leaderboard("L", "?", skip_initial_run=True)
        ).live_standings(interval=0):
            pass
    assert [c.path for c in proxy.seen[before:]] == ["/leaderboard"]  # only the valid create


async def test_plain_string_prompt_assets_are_deprecated(
    client: AsyncRapidataClient, tmp_path: Path
) -> None:
    picture = tmp_path / "p.png"
    picture.write_bytes(b"p" * 100)
    with pytest.warns(DeprecationWarning, match=r"prompt_assets\[0\]: a plain string"):
        benchmark = await client.mri.create_new_benchmark(
            "Deprecated", identifiers=["a"], prompt_assets=[str(picture)]
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len((await benchmark.prompt_assets())[0] or []) == 1


async def test_run_submits_participants_left_unsubmitted(
    proxied: AsyncRapidataClient, proxy: FaultProxy, tmp_path: Path
) -> None:
    benchmark = await benchmark_with_prompts(proxied, "Run")
    done = await benchmark.evaluate_model("text model", ["a", "b"], IDS[:2], data_type="text")
    proxy.fail(422, times=4, path="/asset/file")  # both files fail, also on their re-upload
    with pytest.raises(FailedUploadException) as info:
        await benchmark.evaluate_model("half", media(tmp_path, "half", 2), IDS[:2])
    assert len(info.value.failed_uploads) == 2
    left = info.value.participant
    assert left is not None
    submitted = await benchmark.run()
    assert [(p.id, p.status) for p in submitted] == [(left.id, "Submitted")]
    batch = proxy.calls("/participants/submit")
    assert json.loads(batch[-1].body) == {"participantIds": [left.id]}
    assert {(p.id, p.status) for p in await benchmark.participants()} == {
        (done.id, "Submitted"),
        (left.id, "Submitted"),
    }


async def test_failed_prompts_keep_the_benchmark_and_retry_adds_them(
    proxied: AsyncRapidataClient, proxy: FaultProxy
) -> None:
    proxy.fail(422, times=1, path="/benchmark/", body=b'{"title":"refused"}')
    tracker = UploadTracker()
    with pytest.raises(FailedUploadException) as info:
        await proxied.mri.create_new_benchmark(
            "Half", identifiers=IDS, prompts=PROMPTS, upload_progress=tracker
        )
    exc = info.value
    assert isinstance(exc.benchmark, RapidataBenchmark)
    assert [type(p).__name__ for p in exc.failed_uploads] == ["BenchmarkPrompt"]
    assert "1 prompt failed to upload (benchmark" in str(exc)
    snapshots = [p async for p in tracker]
    assert (snapshots[-1].created, snapshots[-1].failed) == (3, 1)
    assert len(await exc.benchmark.identifiers()) == 3
    await exc.retry()
    assert sorted(await exc.benchmark.identifiers()) == sorted(IDS)
