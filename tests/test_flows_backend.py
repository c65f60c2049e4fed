"""Ranking flows over raw HTTP against the real backend on loopback (both stores): create,
list, get, update, delete; items ranking a dataset with the simulated crowd (known latent
quality: the fitted order follows it); results, vote matrix; other tenants and bad input."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anyio
import pytest
from _poll import eventually
from conftest import few_labelers_audience

from rapidata_async import AsyncRapidataClient
from rapidata_async.local import LocalBackend
from rapidata_async.local.domain.ranking import standings
from rapidata_async.local.domain.ranking_sim import spearman
from rapidata_async.local.domain.validation import LabelerValidation
from rapidata_async.local.services.flows import weighted_counts
from rapidata_async.local.store.base import ANY_OWNER, PairTally

pytestmark = pytest.mark.anyio

QUALITY = {f"answer {k}": 120.0 * k for k in range(8)}  # "answer 7" best


class Api:
    """A bearer-authenticated JSON session on the backend."""

    def __init__(self, session: aiohttp.ClientSession, token: str) -> None:
        self.session = session
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(
        self, method: str, path: str, body: Any = None, *, status: int = 200, **params: Any
    ) -> Any:
        async with self.session.request(
            method, path, json=body, params=params or None, headers=self.headers
        ) as response:
            text = await response.text()
            assert response.status == status, f"{method} {path}: {response.status} {text}"
            return await response.json(content_type=None) if text else None

    async def dataset(self, texts: list[str]) -> str:
        dataset_id: str = (await self.call("POST", "/dataset", {"name": "flow dataset"}))[
            "datasetId"
        ]
        for k, text in enumerate(texts):
            segment = {
                "key": "asset",
                "kind": "Asset",
                "asset": {"_t": "TextAssetInput", "text": text},
            }
            await self.call(
                "POST", f"/dataset/{dataset_id}/datapoint", {"segments": [segment], "sortIndex": k}
            )
        return dataset_id

    async def flow(self, **options: Any) -> str:
        body = {"name": "Answers", "criteria": "Which answer is better?", **options}
        flow_id: str = (await self.call("POST", "/flow/ranking", body))["flowId"]
        return flow_id

    async def finished(self, item_id: str, deadline: float = 30.0) -> dict[str, Any]:
        with anyio.fail_after(deadline):
            while True:
                item: dict[str, Any] = await self.call("GET", f"/flow/ranking/item/{item_id}")
                if item["state"] in ("Completed", "Failed", "Stopped", "Incomplete"):
                    return item
                await anyio.sleep(0.05)


async def _token(session: aiohttp.ClientSession, client_id: str, secret: str) -> str:
    form = {"client_id": client_id, "client_secret": secret}
    async with session.post("/connect/token", data=form) as response:
        assert response.status == 200
        token: str = (await response.json())["access_token"]
        return token


@pytest.fixture
async def api(backend: LocalBackend) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession(backend.url) as session:
        yield Api(session, await _token(session, backend.client_id, backend.client_secret))


@pytest.fixture
async def other(backend: LocalBackend) -> AsyncIterator[Api]:
    client_id, secret = await backend.create_client()
    async with aiohttp.ClientSession(backend.url) as session:
        yield Api(session, await _token(session, client_id, secret))


async def test_a_flow_item_ranks_its_dataset_by_latent_quality(
    backend: LocalBackend, api: Api
) -> None:
    backend.quality = QUALITY.__getitem__
    try:
        flow_id = await api.flow(minResponses=3, maxResponses=6, startingElo=1500)
        dataset_id = await api.dataset(list(QUALITY))
        item_id = (
            await api.call(
                "POST", f"/flow/ranking/{flow_id}/item", {"datasetId": dataset_id, "context": "c"}
            )
        )["flowItemId"]
        # Results wait until the item is done.
        item = await api.finished(item_id)
    finally:
        backend.quality = None
    assert item["state"] == "Completed", item
    assert item["flowId"] == flow_id and item["datasetId"] == dataset_id
    assert item["startedAt"] and item["completedAt"] and item["expiresAt"]
    results = await api.call("GET", f"/flow/ranking/item/{item_id}/results")
    # Every one of the 28 pairs reached its cap of 6 votes, in matchups of 3.
    assert results["totalVotes"] == 28 * 6
    rows = results["datapoints"]
    assert len(rows) == 8
    texts = [row["asset"]["text"] for row in rows]
    assert spearman([QUALITY[t] for t in texts], [row["elo"] for row in rows]) > 0.8
    assert abs(sum(row["elo"] for row in rows) / 8 - 1500) < 2  # the startingElo scale
    for row in rows:
        assert row["ciLow"] <= row["elo"] <= row["ciHigh"]
        assert 1 <= row["rankLow"] <= row["rankHigh"] <= 8
        assert row["battles"] == 7 * 6
        assert row["asset"]["_t"] == "TextAsset"
    matrix = await api.call("GET", f"/flow/ranking/item/{item_id}/vote-matrix")
    assert matrix["index"] == matrix["columns"] and sorted(matrix["index"]) == sorted(QUALITY)
    data = matrix["data"]
    assert sum(map(sum, data)) == 28 * 6
    for i in range(8):
        assert data[i][i] == 0
        for j in range(i + 1, 8):
            assert data[i][j] + data[j][i] == 6
    listed = await api.call("GET", f"/flow/ranking/{flow_id}/item", page=1, page_size=10)
    assert [x["id"] for x in listed["items"]] == [item_id] and listed["total"] == 1
    flow = await api.call("GET", f"/flow/{flow_id}")
    assert flow["_t"] == "RankingFlow" and flow["flowItemCount"] == 1


async def test_flows_are_listed_updated_and_deleted(api: Api) -> None:
    first = await api.flow(name="Image quality")
    second = await api.flow(name="Text quality", minResponses=2, maxResponses=4)
    found = await api.call("GET", "/flow", **{"name[contains]": "image", "sort": "-created_at"})
    assert [f["id"] for f in found["items"]] == [first]
    assert found["items"][0]["type"] == "Ranking"
    everything = await api.call("GET", "/flow", page=1, page_size=10, sort="-created_at")
    assert [f["id"] for f in everything["items"]] == [second, first]
    await api.call("PATCH", f"/flow/ranking/{first}", {"criteria": "Sharper?"}, status=204)
    await api.call(
        "PATCH",
        f"/flow/ranking/{first}/config",
        {"startingElo": 1000, "maxResponses": 50},
        status=204,
    )
    await api.call("PATCH", f"/flow/ranking/{first}", {"serveTimeoutSeconds": 30}, status=204)
    flow = await api.call("GET", f"/flow/{first}")
    assert (flow["criteria"], flow["startingElo"], flow["maxResponses"]) == ("Sharper?", 1000, 50)
    assert flow["serveTimeoutSeconds"] == 30
    # null resets a nullable setting; absent keeps it
    await api.call("PATCH", f"/flow/ranking/{first}", {"serveTimeoutSeconds": None}, status=204)
    assert (await api.call("GET", f"/flow/{first}"))["serveTimeoutSeconds"] is None
    await api.call("DELETE", f"/flow/{first}", status=204)
    await api.call("GET", f"/flow/{first}", status=404)
    await api.call("DELETE", f"/flow/{first}", status=404)
    remaining = await api.call("GET", "/flow")
    assert [f["id"] for f in remaining["items"]] == [second]


async def test_deleting_a_flow_stops_its_running_items(
    backend: LocalBackend, api: Api, few_labelers: str
) -> None:
    # Matchups that want more votes than the audience has labelers: the item keeps running.
    flow_id = await api.flow(minResponses=50, maxResponses=50, audienceId=few_labelers)
    dataset_id = await api.dataset([f"text {k}" for k in range(4)])
    item_id = (await api.call("POST", f"/flow/ranking/{flow_id}/item", {"datasetId": dataset_id}))[
        "flowItemId"
    ]
    with anyio.fail_after(10):
        while True:
            if await backend.store.votes.total(item_id, owner=None):
                break
            await anyio.sleep(0.05)
    assert (await api.call("GET", f"/flow/ranking/item/{item_id}"))["state"] == "Running"
    await api.call("GET", f"/flow/ranking/item/{item_id}/results", status=409)
    await api.call("DELETE", f"/flow/{flow_id}", status=204)
    # The flow is gone, and so are its items for every read; the session left the board.
    await api.call("GET", f"/flow/ranking/item/{item_id}", status=404)
    board = backend.context.runner.board
    await eventually(lambda: not board.open_tasks(f"flow:{item_id}"))
    with anyio.fail_after(10):
        while True:
            stored = await backend.store.flows.item(item_id, owner=None)
            if stored.state != "Stopping":
                break
            await anyio.sleep(0.05)
    assert stored.state == "Stopped" and stored.completed_at
    assert 0 < await backend.store.votes.total(item_id, owner=None) < 6 * 50


async def test_other_tenants_and_bad_ids_get_404(api: Api, other: Api) -> None:
    flow_id = await api.flow()
    dataset_id = await api.dataset(["a", "b", "c"])
    item_id = (await api.call("POST", f"/flow/ranking/{flow_id}/item", {"datasetId": dataset_id}))[
        "flowItemId"
    ]
    for path in (
        f"/flow/{flow_id}",
        f"/flow/ranking/item/{item_id}",
        f"/flow/ranking/item/{item_id}/results",
        f"/flow/ranking/item/{item_id}/vote-matrix",
        f"/flow/ranking/{flow_id}/item",
        "/flow/no-such-flow",
        "/flow/ranking/item/no-such-item",
    ):
        await other.call("GET", path, status=404)
    await other.call("PATCH", f"/flow/ranking/{flow_id}", {"criteria": "x"}, status=404)
    await other.call("DELETE", f"/flow/{flow_id}", status=404)
    other_flow = await other.flow()
    # Another tenant's dataset cannot be put on one's own flow.
    problem = await other.call(
        "POST", f"/flow/ranking/{other_flow}/item", {"datasetId": dataset_id}, status=404
    )
    assert "datasetId" in problem["errors"]
    assert (await other.call("GET", "/flow"))["total"] == 1
    assert (await api.call("GET", f"/flow/{flow_id}"))["id"] == flow_id


async def test_bad_input_is_a_400_naming_the_field(api: Api) -> None:
    flow_id = await api.flow()
    dataset_id = await api.dataset(["a", "b"])
    item = f"/flow/ranking/{flow_id}/item"
    for ttl in (9, 3601, -1):
        problem = await api.call(
            "POST", item, {"datasetId": dataset_id, "timeToLiveInSeconds": ttl}, status=400
        )
        assert "timeToLiveInSeconds" in problem["errors"], problem
    cases = [
        ({"name": "x", "criteria": " "}, "criteria"),
        ({"name": " ", "criteria": "x"}, "name"),
        ({"name": "x", "criteria": "x", "minResponses": 0}, "minResponses"),
        ({"name": "x", "criteria": "x", "minResponses": 5, "maxResponses": 2}, "maxResponses"),
        ({"name": "x", "criteria": "x", "maxResponses": 10**6}, "maxResponses"),
        ({"name": "x", "criteria": "x", "serveTimeoutSeconds": 0}, "serveTimeoutSeconds"),
        ({"name": "x", "criteria": "x", "startingElo": -5}, "startingElo"),
        ({"name": "x", "criteria": "x", "audienceId": "nope"}, "audienceId"),
        ({"name": "x"}, "criteria"),
    ]
    for body, field in cases:
        status = 404 if field == "audienceId" else 400
        problem = await api.call("POST", "/flow/ranking", body, status=status)
        assert field in problem["errors"], (body, problem)
    problem = await api.call("PATCH", f"/flow/ranking/{flow_id}", {"minResponses": 0}, status=400)
    assert "minResponses" in problem["errors"]
    single = await api.dataset(["only one"])
    problem = await api.call("POST", item, {"datasetId": single}, status=400)
    assert "datasetId" in problem["errors"]
    twice = await api.dataset(["same", "same"])
    problem = await api.call("POST", item, {"datasetId": twice}, status=400)
    assert "datasetId" in problem["errors"]
    problem = await api.call(
        "POST",
        item,
        {"datasetId": dataset_id, "contextAsset": {"_t": "ExistingAssetInput", "name": "x.png"}},
        status=400,
    )
    assert "contextAsset" in problem["errors"]
    problem = await api.call("POST", item, {"datasetId": 5}, status=400)
    assert "datasetId" in problem["errors"]
    await api.call("GET", "/flow", status=400, sort="bogus")


async def test_time_to_live_ends_an_item_incomplete_with_partial_results(
    api: Api, few_labelers: str
) -> None:
    # Matchups that want 50 votes each from a handful of labelers: the item cannot complete,
    # and its 10 s time to live ends it with the votes it has.
    flow_id = await api.flow(minResponses=50, maxResponses=50, audienceId=few_labelers)
    dataset_id = await api.dataset(["first", "second", "third", "fourth"])
    body = {"datasetId": dataset_id, "timeToLiveInSeconds": 10, "drainDurationInSeconds": 2}
    item_id = (await api.call("POST", f"/flow/ranking/{flow_id}/item", body))["flowItemId"]
    item = await api.finished(item_id, deadline=20)
    assert item["state"] == "Incomplete", item
    results = await api.call("GET", f"/flow/ranking/item/{item_id}/results")
    assert 0 < results["totalVotes"] < 6 * 50
    assert len(results["datapoints"]) == 4
    matrix = await api.call("GET", f"/flow/ranking/item/{item_id}/vote-matrix")
    assert sum(map(sum, matrix["data"])) == results["totalVotes"]


async def test_a_flow_with_a_validation_set_scores_its_labelers(
    backend: LocalBackend, api: Api, client: AsyncRapidataClient
) -> None:
    item_id = await _started_with_validation(api, client)
    item = await api.finished(item_id)
    assert item["state"] == "Completed", item
    results = await api.call("GET", f"/flow/ranking/item/{item_id}/results")
    # Validation answers are never votes: every one of the 15 pairs has its 3 votes, no more.
    assert results["totalVotes"] == 15 * 3
    assert all(row["battles"] == 5 * 3 for row in results["datapoints"])
    store = backend.store
    assert await store.votes.total(item_id, owner=ANY_OWNER) == 15 * 3
    by_labeler = await store.votes.labeler_tallies(item_id, owner=ANY_OWNER)
    # Only the dataset's datapoints were voted on (never a rapid).
    voted = {item for ts in by_labeler.values() for t in ts for item in (t.first, t.second)}
    assert voted == {row["id"] for row in results["datapoints"]}
    assert sum(t.first_won + t.second_won + t.ties for ts in by_labeler.values() for t in ts) == 45

    answers = await store.validation_sets.answers(item_id)
    assert answers and all(a.rapid.startswith("validation\x1f") for a in answers)
    # Every labeler was shown a rapid before their first matchup.
    assert set(by_labeler) <= {a.labeler_id for a in answers}
    verdicts: dict[str, list[bool]] = defaultdict(list)
    final: dict[str, float] = {}
    prior: dict[str, float] = {}
    for a in answers:
        verdicts[a.labeler_id].append(a.correct)
        final[a.labeler_id], prior[a.labeler_id] = a.score, a.prior
    failed = [lab for lab, v in verdicts.items() if not any(v)]
    passed = [lab for lab, v in verdicts.items() if all(v)]
    # Who answers wrong loses score for the item, who answers right gains.
    assert failed and passed, (len(failed), len(passed))
    assert all(final[lab] < prior[lab] for lab in failed)
    assert all(final[lab] > prior[lab] for lab in passed)


async def _started_with_validation(api: Api, client: AsyncRapidataClient, **options: Any) -> str:
    """A flow item of 6 datapoints (15 pairs × 3 votes) whose flow names a validation set."""
    checks = [[f"good {i}", f"bad {i}"] for i in range(30)]
    validation_set = await client.validation.create_compare_set(
        name="Checks",
        instruction="Which is better?",
        datapoints=checks,
        truths=[pair[0] for pair in checks],
        data_type="text",
    )
    flow_id = await api.flow(
        minResponses=3, maxResponses=3, validationSetId=validation_set.id, **options
    )
    dataset_id = await api.dataset([f"answer {k}" for k in range(6)])
    item_id: str = (
        await api.call("POST", f"/flow/ranking/{flow_id}/item", {"datasetId": dataset_id})
    )["flowItemId"]
    return item_id


async def test_a_flow_item_resumes_validation_scores_after_a_restart(
    backend_options: dict[str, Any],
) -> None:
    async with (
        LocalBackend(**backend_options, pace="realistic", speed=100) as slow,
        slow.client() as client,
        aiohttp.ClientSession(slow.url) as session,
    ):
        api = Api(session, await _token(session, slow.client_id, slow.client_secret))
        # A handful of labelers: each answers many matchups, so rapids on both sides of the
        # restart.
        audience_id = await few_labelers_audience(client)
        item_id = await _started_with_validation(api, client, audienceId=audience_id)
        store = slow.store
        with anyio.fail_after(60):
            while await store.votes.total(item_id, owner=ANY_OWNER) < 12:  # noqa: ASYNC110
                await anyio.sleep(0.02)  # state in the store: nothing to wait on
        assert await store.votes.total(item_id, owner=ANY_OWNER) < 15 * 3
        before = await store.validation_sets.answers(item_id)
    async with (
        LocalBackend(**backend_options) as fast,
        aiohttp.ClientSession(fast.url) as session,
    ):
        api = Api(session, await _token(session, fast.client_id, fast.client_secret))
        item = await api.finished(item_id, deadline=60)
        assert item["state"] == "Completed", item
        answers = await fast.store.validation_sets.answers(item_id)
    # Each labeler's scores chain across the restart: every one follows from all their
    # answers before it, the ones stored by the first run included.
    states: dict[str, LabelerValidation] = {}
    for a in answers:
        state = states.setdefault(a.labeler_id, LabelerValidation(a.prior))
        assert a.prior == state.prior
        assert state.add(a.correct, a.chance) == pytest.approx(a.score, abs=1e-3)
    assert len(answers) > len(before) and answers[: len(before)] == before
    both = {a.labeler_id for a in before} & {a.labeler_id for a in answers[len(before) :]}
    assert both  # some labelers answered rapids on both sides of the restart


def test_labelers_with_low_validation_scores_count_less() -> None:
    ids = ["a", "b"]
    # A trusted labeler says a beats b three times, an untrusted one says the opposite.
    by_labeler = {
        "trusted": [PairTally("a", "b", 3, 0, 0)],
        "untrusted": [PairTally("a", "b", 0, 3, 0)],
    }
    weighted = weighted_counts(ids, by_labeler, {"trusted": 0.9, "untrusted": 0.1})
    assert weighted is not None
    assert weighted.total == pytest.approx(6.0)  # the raw number of votes
    won, lost, _ = weighted.cells[0]
    assert won == pytest.approx(5.4) and lost == pytest.approx(0.6)
    ratings = {r.id: r.score for r in standings(weighted, ids, rounds=0)}
    assert ratings["a"] > ratings["b"]
    # Without scores the raw counts apply.
    assert weighted_counts(ids, by_labeler, {}) is None
    # A labeler without a score counts with the mean of those who have one.
    half = weighted_counts(ids, by_labeler, {"trusted": 0.5})
    assert half is not None and half.cells[0][0] == pytest.approx(3.0)
