"""``python -m rapidata_async serve``: a real server process, driven through the SDK."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import pytest
from anyio.abc import Process

from rapidata_async import AsyncRapidataClient


async def read_banner(process: Process) -> dict[str, str]:
    assert process.stdout is not None
    text = ""
    with anyio.fail_after(20):
        async for chunk in process.stdout:
            text += chunk.decode()
            if "Press Ctrl-C" in text:
                break
    url = re.search(r"backend on (\S+)", text)
    database = re.search(r"database:\s+(.+)", text)
    assets = re.search(r"assets:\s+(.+)", text)
    client_id = re.search(r"client_id:\s+(\S+)", text)
    secret = re.search(r"client_secret:\s+(\S+)", text)
    assert url and database and client_id and secret, text
    return {
        "text": text,
        "url": url[1],
        "database": database[1],
        "assets": assets[1] if assets else "",
        "id": client_id[1],
        "secret": secret[1],
    }


async def serve(db: Path | str, *args: str) -> Process:
    return await anyio.open_process(
        [sys.executable, "-m", "rapidata_async", "serve", "--port", "0", "--db", str(db), *args]
    )


async def test_serve_prints_a_working_credential_that_survives_restarts(
    backend_options: dict[str, Any],
) -> None:
    db, assets_dir = backend_options["db"], backend_options["assets_dir"]
    banners = []
    for _ in range(2):
        async with await serve(db, "--assets-dir", str(assets_dir)) as process:
            try:
                banner = await read_banner(process)
                banners.append(banner)
                url = banner["url"]
                async with AsyncRapidataClient(
                    banner["id"], banner["secret"], api_url=url, auth_url=url, app_url=url
                ) as client:
                    audiences = await client.audience.find_audiences("alignment")
                    assert audiences and "alignment" in audiences[0].name.lower()
            finally:
                process.terminate()
    assert banners[0]["id"] == banners[1]["id"]
    assert banners[0]["secret"] == banners[1]["secret"]
    assert banners[0]["assets"] == str(assets_dir.resolve())
    if isinstance(db, Path):
        assert banners[0]["database"] == f"SQLite {db}"
    else:
        # The store is named, its password never printed.
        password = urlsplit(db).password
        assert password and f":{password}@" not in banners[0]["text"]
        assert banners[0]["database"].startswith("PostgreSQL postgresql://")
        assert urlsplit(db).hostname in banners[0]["database"]


@pytest.mark.parametrize(
    ("db", "expected"),
    [
        pytest.param(
            "postgresql://someone:hunter2@127.0.0.1:1/nowhere",
            "error: cannot open the PostgreSQL database postgresql://someone@127.0.0.1:1/nowhere:",
            id="postgres-server-down",
        ),
        pytest.param(
            "postgresql://someone:hunter2@127.0.0.1:port/nowhere",
            "error: cannot open the PostgreSQL database postgresql://someone@127.0.0.1:port/",
            id="postgres-bad-url",
        ),
        pytest.param(
            "/dev/null/local.sqlite3",
            "error: cannot open the SQLite database /dev/null/local.sqlite3:",
            id="sqlite-bad-path",
        ),
    ],
)
async def test_a_database_that_cannot_be_opened_is_one_line(db: str, expected: str) -> None:
    pytest.importorskip("asyncpg")
    result = await anyio.run_process(
        [sys.executable, "-m", "rapidata_async", "serve", "--port", "0", "--db", db], check=False
    )
    stderr = result.stderr.decode()
    assert result.returncode == 1
    assert stderr.startswith(expected), stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert "hunter2" not in stderr + result.stdout.decode()


def test_a_postgres_url_is_described_without_its_password() -> None:
    from rapidata_async.local.store import describe

    assert (
        describe("postgresql://ann:s3cret@db.example:5433/rapidata?password=s3cret&sslmode=require")
        == "PostgreSQL postgresql://ann@db.example:5433/rapidata?sslmode=require"
    )
    assert (
        describe("postgres://ann@h1:5432,h2:5432/r")
        == "PostgreSQL postgres://ann@h1:5432,h2:5432/r"
    )
    assert describe(Path("local.sqlite3")) == "SQLite local.sqlite3"
    assert describe(None) == "SQLite in memory"
