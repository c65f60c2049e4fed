"""Tenants: two clients of one backend, each with its own AsyncRapidataClient, see only their
own resources (and the shared audiences); revoked clients, secrets and keys at rest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest

from rapidata_async import BadRequestError, NotFoundError
from rapidata_async.local import LocalBackend
from rapidata_async.local.store import open_store

URL_A = "https://assets.rapidata.ai/midjourney-5.2_37_3.jpg"
URL_B = "https://assets.rapidata.ai/flux-1-pro_37_0.jpg"


@dataclass
class Raw:
    """Plain HTTP with one client's bearer token, for calls the SDK has no method for."""

    http: aiohttp.ClientSession
    url: str
    token: str

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.http.request(method, self.url + path, headers=headers, **kwargs) as r:
            body = await r.read()
            return r.status, json.loads(body) if body else None


async def token(http: aiohttp.ClientSession, url: str, client_id: str, secret: str) -> Any:
    async with http.post(
        url + "/connect/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    ) as response:
        return response.status, await response.json()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def raw_for(http: aiohttp.ClientSession, url: str, credential: tuple[str, str]) -> Raw:
    status, answer = await token(http, url, *credential)
    assert status == 200, answer
    return Raw(http, url, answer["access_token"])


async def test_another_tenants_ids_answer_404_and_listings_show_only_ones_own(
    backend: LocalBackend, http: aiohttp.ClientSession
) -> None:
    b_credential = await backend.create_client()
    async with backend.client() as a, backend.client(credential=b_credential) as b:
        # A: a definition, a job on a shared audience, a custom audience with examples.
        definition = await a.job.create_compare_job_definition(
            name="A's definition", instruction="Which is better?", datapoints=[[URL_A, URL_B]]
        )
        glob = await a.audience.get_audience_by_id("global")
        job = await glob.assign_job(definition)
        custom = await a.audience.create_audience("A's audience")
        for _ in range(3):
            await custom.add_classification_example(
                "Is it?", ["yes", "no"], "A sentence.", ["yes"], data_type="text"
            )
        await job.wait(timeout=30)
        revision = await definition.get_revision()
        dataset_id = revision.dataset_id

        # B: every id of A's is unknown, as an id never issued would be.
        with pytest.raises(NotFoundError):
            await b.job.get_job_by_id(job.id)
        with pytest.raises(NotFoundError):
            await b.job.get_job_definition_by_id(definition.id)
        with pytest.raises(NotFoundError):
            await b.audience.get_audience_by_id(custom.id)
        raw_b = await raw_for(http, backend.url, b_credential)
        for method, path, body in [
            ("GET", f"/job/{job.id}", None),
            ("GET", f"/job/{job.id}/progress", None),
            ("GET", f"/job/{job.id}/download-results", None),
            ("POST", f"/job/{job.id}/retry", None),
            ("GET", f"/job/definition/{definition.id}/revision", None),
            ("GET", f"/job/definition/{definition.id}/revision/1", None),
            ("GET", f"/audience/{custom.id}/examples", None),
            ("GET", f"/audience/{custom.id}/user-metrics", None),
            ("POST", f"/audience/{custom.id}/recruit", None),
            (
                "POST",
                f"/dataset/{dataset_id}/datapoint",
                {"asset": {"_t": "TextAssetInput", "text": "x"}, "sortIndex": 9},
            ),
            (
                "POST",
                f"/audience/{custom.id}/example",
                {
                    "asset": {"_t": "TextAssetInput", "text": "x"},
                    "payload": {
                        "_t": "ClassifyExamplePayload",
                        "categories": [{"label": "a", "value": "a"}, {"label": "b", "value": "b"}],
                        "title": "t",
                    },
                    "truth": {"_t": "ClassifyExampleTruth", "correctCategories": ["a"]},
                    "randomCorrectProbability": 0.5,
                },
            ),
        ]:
            status, problem = await b_call(raw_b, method, path, body)
            assert status == 404, (method, path, problem)
        # Creating on top of A's resources: A's dataset, definition and custom audience are
        # unknown to B too.
        status, problem = await raw_b.call(
            "POST",
            "/job",
            json={"jobDefinitionId": definition.id, "audienceId": "global", "name": "x"},
        )
        assert status == 404 and "jobDefinitionId" in problem["errors"], problem
        b_definition = await b.job.create_compare_job_definition(
            name="B's definition", instruction="Which?", datapoints=[[URL_A, URL_B]]
        )
        status, problem = await raw_b.call(
            "POST",
            "/job",
            json={"jobDefinitionId": b_definition.id, "audienceId": custom.id, "name": "x"},
        )
        assert status == 404 and "audienceId" in problem["errors"], problem

        # Listings: each sees its own, and both the shared audiences.
        assert [j.id async for j in a.job.find_jobs()] == [job.id]
        assert [j.id async for j in b.job.find_jobs()] == []
        b_definitions = [d.id async for d in b.job.find_job_definitions()]
        assert b_definitions == [b_definition.id]
        a_audiences = {x.id for x in await a.audience.find_audiences(amount=50)}
        b_audiences = {x.id for x in await b.audience.find_audiences(amount=50)}
        assert custom.id in a_audiences and custom.id not in b_audiences
        assert "global" in b_audiences and b_audiences <= a_audiences

        # Shared audiences stay read-only for everyone, and take anyone's jobs.
        curated = (await b.audience.find_audiences("alignment"))[0]
        with pytest.raises(BadRequestError):
            await curated.add_classification_example(
                "Is it?", ["yes", "no"], "A sentence.", ["yes"], data_type="text"
            )
        b_job = await curated.assign_job(b_definition)
        await b_job.wait(timeout=30)
        assert (await b.job.get_job_by_id(b_job.id)).id == b_job.id
        with pytest.raises(NotFoundError):
            await a.job.get_job_by_id(b_job.id)


async def b_call(raw: Raw, method: str, path: str, body: Any) -> tuple[int, Any]:
    if body is None:
        return await raw.call(method, path)
    return await raw.call(method, path, json=body)


async def test_assets_and_batches_belong_to_their_uploader(
    backend: LocalBackend, http: aiohttp.ClientSession
) -> None:
    raw_a = await raw_for(http, backend.url, (backend.client_id, backend.client_secret))
    raw_b = await raw_for(http, backend.url, await backend.create_client())
    status, created = await raw_a.call(
        "POST", "/asset/batch-upload", json={"urls": [URL_A], "correlationId": "shared-name"}
    )
    assert status == 200
    batch_id = created["batchUploadId"]
    status, result = await raw_a.call("GET", f"/asset/batch-upload/{batch_id}")
    assert status == 200
    name = result["items"][0]["fileName"]
    assert (await raw_b.call("GET", f"/asset/batch-upload/{batch_id}"))[0] == 404
    assert (await raw_b.call("POST", f"/asset/batch-upload/{batch_id}/abort"))[0] == 404
    status, seen = await raw_b.call(
        "GET", "/asset/batch-upload/status", params={"correlationId": "shared-name"}
    )
    assert status == 200 and seen["totalCount"] == 0
    status, seen = await raw_a.call(
        "GET", "/asset/batch-upload/status", params={"correlationId": "shared-name"}
    )
    assert seen["totalCount"] == 1
    # B cannot build on A's uploaded file: it is unknown to B, as if never uploaded.
    _, dataset = await raw_b.call("POST", "/dataset", json={"name": "b"})
    status, problem = await raw_b.call(
        "POST",
        f"/dataset/{dataset['datasetId']}/datapoint",
        json={"asset": {"_t": "ExistingAssetInput", "name": name}},
    )
    assert status == 400 and "asset" in problem["errors"], problem


async def test_a_revoked_clients_tokens_stop_working_at_once(
    backend: LocalBackend, http: aiohttp.ClientSession
) -> None:
    credential = await backend.create_client()
    raw = await raw_for(http, backend.url, credential)
    _, answer = await token(http, backend.url, *credential)
    assert 0 < answer["expires_in"] <= 3600
    assert (await raw.call("GET", "/jobs"))[0] == 200
    assert await backend.revoke_client(credential[0])
    assert (await raw.call("GET", "/jobs"))[0] == 401
    assert (await token(http, backend.url, *credential))[0] == 401
    assert not await backend.revoke_client(credential[0])


async def test_clients_command_creates_and_revokes_on_a_running_backend(
    backend_options: dict[str, Any], http: aiohttp.ClientSession
) -> None:
    db = str(backend_options["db"])

    async def cli(*args: str) -> str:
        result = await anyio.run_process(
            [sys.executable, "-m", "rapidata_async", "clients", *args, "--db", db]
        )
        return result.stdout.decode()

    async with LocalBackend(**backend_options) as backend:
        out = await cli("create")
        client_id = out.split("client_id:")[1].split()[0]
        secret = out.split("client_secret:")[1].split()[0]
        raw = await raw_for(http, backend.url, (client_id, secret))
        assert (await raw.call("GET", "/jobs"))[0] == 200
        listed = await cli("list")
        assert client_id in listed and backend.client_id in listed and secret not in listed
        await cli("revoke", client_id)
        # Another process deleted it: this one notices within its short cache.
        with anyio.fail_after(5):
            for _ in itertools.count():
                if (await raw.call("GET", "/jobs"))[0] == 401:
                    break
                await anyio.sleep(0.05)  # the other process's change has no event here
        assert (await token(http, backend.url, client_id, secret))[0] == 401


@pytest.mark.sqlite_only
async def test_secrets_and_keys_at_rest(
    store_name: str, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    db = tmp_path / "private" / "local.sqlite3"
    async with LocalBackend(db=db) as backend:
        secret = backend.client_secret
        raw = await raw_for(http, backend.url, (backend.client_id, secret))
        data = aiohttp.FormData()
        data.add_field("file", b"\x89PNG....", filename="a.png", content_type="image/png")
        status, uploaded = await raw.call("POST", "/asset/file", data=data)
        assert status == 200
        key = bytes.fromhex(Path(f"{db}.key").read_text().strip())
        # A token signed with the right key but living longer than an hour is refused.
        claims = {"sub": backend.client_id, "exp": int(time.time()) + 3 * 365 * 86400}
        payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        signature = hmac.new(key, payload.encode(), hashlib.sha256).digest()
        forged = f"{payload}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
        assert (await Raw(http, backend.url, forged).call("GET", "/jobs"))[0] == 401
    assets = db.with_name("local_assets")  # the default beside a SQLite file
    mode = lambda p: p.stat().st_mode & 0o777  # noqa: E731
    assert mode(db) == 0o600 and mode(Path(f"{db}.key")) == 0o600
    assert mode(db.parent) == 0o700 and mode(assets) == 0o700
    assert mode(assets / uploaded["fileName"]) == 0o600
    files = [p for p in tmp_path.rglob("local.sqlite3*") if p.suffix != ".key"]
    assert files
    stored = b"".join(p.read_bytes() for p in files)
    assert secret.encode() not in stored
    assert key.hex().encode() not in stored and key not in stored


@pytest.mark.sqlite_only
async def test_an_older_database_gets_hashed_secrets_no_key_and_one_owner(
    store_name: str, tmp_path: Path
) -> None:
    db = tmp_path / "old.sqlite3"
    store = open_store(db)
    await store.open()
    await store.close()
    # As an older version left it: a plain secret, the signing key, data without owners.
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO clients (client_id, client_secret, created_at) "
            "VALUES ('local-old', 'plain-secret', '2024-01-01T00:00:00Z')"
        )
        conn.execute("INSERT INTO meta (key, value) VALUES ('signing_key', 'abcd')")
        conn.execute(
            "INSERT INTO datasets (id, name, created_at, body) "
            "VALUES ('d1', 'd', '2024-01-01T00:00:00Z', '{\"name\":\"d\"}')"
        )
    async with LocalBackend(db=db) as backend, backend.client() as client:
        # The embedded backend's fresh credential joins the old client's tenant.
        found = await backend.store.clients.get("local-old")
        assert found is not None and found[0].tenant == "local-old"
        assert found[1].startswith("scrypt$") and "plain-secret" not in found[1]
        assert (await backend.store.datasets.get("d1", owner="local-old")).name == "d"
        assert [j async for j in client.job.find_jobs()] == []
    async with aiohttp.ClientSession() as http, LocalBackend(db=db) as backend:
        assert (await token(http, backend.url, "local-old", "plain-secret"))[0] == 200
        assert (await token(http, backend.url, "local-old", "wrong"))[0] == 401
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM meta WHERE key = 'signing_key'").fetchone() == (
            0,
        )


def test_tokens_live_at_most_an_hour() -> None:
    from rapidata_async.local._tokens import TOKEN_LIFETIME, TokenIssuer

    assert TOKEN_LIFETIME <= 3600
    with pytest.raises(ValueError):
        TokenIssuer(b"k" * 32, lifetime=3 * 365 * 86400)
