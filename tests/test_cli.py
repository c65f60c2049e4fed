"""``python -m rapidata_async serve``: a real server process, driven through the SDK."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import anyio
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
    client_id = re.search(r"client_id:\s+(\S+)", text)
    secret = re.search(r"client_secret:\s+(\S+)", text)
    assert url and client_id and secret, text
    return {"url": url[1], "id": client_id[1], "secret": secret[1]}


async def serve(db: Path) -> Process:
    return await anyio.open_process(
        [sys.executable, "-m", "rapidata_async", "serve", "--port", "0", "--db", str(db)]
    )


async def test_serve_prints_a_working_credential_that_survives_restarts(tmp_path: Path) -> None:
    db = tmp_path / "local.sqlite3"
    banners = []
    for _ in range(2):
        async with await serve(db) as process:
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
