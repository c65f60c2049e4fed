"""``/validation-set…`` over plain HTTP: create, add rapids, patch, get, list; bad input is a
400 naming the field; another tenant's set is a 404 (both stores)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from rapidata_async.local import LocalBackend


@dataclass
class Raw:
    http: aiohttp.ClientSession
    url: str
    token: str

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"}
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        async with self.http.request(
            method, self.url + path, headers=headers, **kwargs
        ) as response:
            raw = await response.read()
            return response.status, json.loads(raw) if raw else None


async def _raw(http: aiohttp.ClientSession, url: str, credential: tuple[str, str]) -> Raw:
    data = {
        "grant_type": "client_credentials",
        "client_id": credential[0],
        "client_secret": credential[1],
    }
    async with http.post(url + "/connect/token", data=data) as response:
        assert response.status == 200
        return Raw(http, url, (await response.json())["access_token"])


@pytest.fixture
async def raws(backend: LocalBackend) -> AsyncIterator[tuple[Raw, Raw]]:
    """Two tenants of the backend under test."""
    async with aiohttp.ClientSession() as http:
        a = await _raw(http, backend.url, (backend.client_id, backend.client_secret))
        b = await _raw(http, backend.url, await backend.create_client())
        yield a, b


def text(value: str) -> dict[str, Any]:
    return {"_t": "TextAssetInput", "text": value}


def compare_rapid(left: str = "left", right: str = "right", winner: str = "left") -> dict[str, Any]:
    return {
        "asset": {"_t": "MultiAssetInput", "assets": [text(left), text(right)]},
        "payload": {"_t": "ComparePayload", "criteria": "Which is better?"},
        "truth": {"_t": "CompareTruth", "winnerId": winner},
        "randomCorrectProbability": 0.5,
        "context": "a context",
        "explanation": "left is better",
        "featureFlags": None,
    }


def classify_rapid(truths: list[str]) -> dict[str, Any]:
    return {
        "asset": text("a sentence"),
        "payload": {
            "_t": "ClassifyPayload",
            "title": "Is it?",
            "categories": [{"label": "yes", "value": "yes"}, {"label": "no", "value": "no"}],
        },
        "truth": {"_t": "AttachCategoryTruth", "correctCategories": truths},
        "randomCorrectProbability": 0.5,
    }


async def test_create_add_patch_get_and_list(raws: tuple[Raw, Raw]) -> None:
    a, _ = raws
    status, created = await a.call("POST", "/validation-set", {"name": "Cats"})
    assert status == 200, created
    set_id = created["validationSetId"]
    assert (await a.call("POST", f"/validation-set/{set_id}/rapid", compare_rapid()))[0] == 204
    rapid = classify_rapid(["yes"])
    status, problem = await a.call("POST", f"/validation-set/{set_id}/rapid", rapid)
    assert status == 204, problem
    status, _ = await a.call("PATCH", f"/validation-set/{set_id}", {"dimensions": ["quality"]})
    assert status == 204
    status, got = await a.call("GET", f"/validation-set/{set_id}")
    assert status == 200
    assert got["id"] == set_id and got["name"] == "Cats" and got["dimensions"] == ["quality"]
    assert {"isPublic", "ownerMail", "organizationId", "ownerId", "createdAt"} <= set(got)
    await a.call("POST", "/validation-set", {"name": "Dogs"})
    status, page = await a.call("GET", "/validation-sets?name[contains]=cat&page=1&page_size=5")
    assert status == 200 and page["total"] == 1, page
    assert page["items"][0]["id"] == set_id
    assert page["items"][0]["modality"] == ["Classify", "Compare"]
    status, page = await a.call("GET", "/validation-sets?name[contains]=&sort=-created_at")
    assert [item["name"] for item in page["items"]] == ["Dogs", "Cats"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (compare_rapid(winner="neither"), "truth.winnerId"),
        (compare_rapid(left="same", right="same", winner="same"), "asset"),
        (classify_rapid(["maybe"]), "truth.correctCategories"),
        (classify_rapid([]), "truth.correctCategories"),
        ({**compare_rapid(), "truth": None}, "truth"),
        ({**compare_rapid(), "randomCorrectProbability": 1.5}, "randomCorrectProbability"),
        (
            {**classify_rapid(["yes"]), "truth": {"_t": "CompareTruth", "winnerId": "yes"}},
            "truth",
        ),
        (
            {**compare_rapid(), "asset": {"_t": "ExistingAssetInput", "name": "never.png"}},
            "asset",
        ),
    ],
)
async def test_bad_rapids_are_400_naming_the_field(
    raws: tuple[Raw, Raw], body: dict[str, Any], field: str
) -> None:
    a, _ = raws
    _, created = await a.call("POST", "/validation-set", {"name": "s"})
    status, problem = await a.call(
        "POST", f"/validation-set/{created['validationSetId']}/rapid", body
    )
    assert status == 400, problem
    assert field in problem["errors"], problem


async def test_bad_sets_are_400_naming_the_field(raws: tuple[Raw, Raw]) -> None:
    a, _ = raws
    status, problem = await a.call("POST", "/validation-set", {"name": "  "})
    assert status == 400 and "name" in problem["errors"], problem
    status, problem = await a.call("POST", "/validation-set", {})
    assert status == 400 and "name" in json.dumps(problem), problem
    _, created = await a.call("POST", "/validation-set", {"name": "s"})
    set_id = created["validationSetId"]
    status, problem = await a.call("PATCH", f"/validation-set/{set_id}", {"dimensions": [""]})
    assert status == 400 and "dimensions[0]" in problem["errors"], problem
    status, problem = await a.call("GET", "/validation-sets?sort=owner")
    assert status == 400 and "sort" in problem["errors"], problem


async def test_another_tenants_set_is_404(raws: tuple[Raw, Raw]) -> None:
    a, b = raws
    _, created = await a.call("POST", "/validation-set", {"name": "A's set"})
    set_id = created["validationSetId"]
    for method, path, body in [
        ("GET", f"/validation-set/{set_id}", None),
        ("PATCH", f"/validation-set/{set_id}", {"dimensions": ["x"]}),
        ("POST", f"/validation-set/{set_id}/rapid", compare_rapid()),
    ]:
        status, problem = await b.call(method, path, body)
        assert status == 404, (method, path, problem)
    status, page = await b.call("GET", "/validation-sets")
    assert status == 200 and page["items"] == []
    status, got = await a.call("GET", f"/validation-set/{set_id}")
    assert status == 200 and got["dimensions"] == []
