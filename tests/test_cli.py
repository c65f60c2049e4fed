"""``python -m rapidata_async serve``: a real server process, driven through the SDK."""

from __future__ import annotations

import argparse
import os
import pty
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import pytest
from anyio.abc import Process

from rapidata_async import AsyncRapidataClient, __version__
from rapidata_async.__main__ import build_parser


def parse_banner(text: str) -> dict[str, str]:
    url = re.search(r"backend on (\S+)", text)
    database = re.search(r"database:\s+(.+)", text)
    assets = re.search(r"assets:\s+(.+)", text)
    client_id = re.search(r"client_id:\s+(\S+)", text)
    secret = re.search(r"client_secret:\s+(\S+)", text)
    assert url and database, text
    return {
        "text": text,
        "url": url[1],
        "database": database[1],
        "assets": assets[1] if assets else "",
        "id": client_id[1] if client_id else "",
        "secret": secret[1] if secret else "",
    }


async def read_banner(process: Process) -> dict[str, str]:
    assert process.stdout is not None
    text = ""
    with anyio.fail_after(20):
        async for chunk in process.stdout:
            text += chunk.decode()
            if "Press Ctrl-C" in text:
                break
    return parse_banner(text)


async def read_terminal_banner(master: int) -> dict[str, str]:
    """The banner of a server whose stdout is the terminal ``master`` controls."""
    text = ""
    with anyio.fail_after(20):
        while "Press Ctrl-C" not in text:
            text += (await anyio.to_thread.run_sync(os.read, master, 4096)).decode()
    return parse_banner(text.replace("\r\n", "\n"))


async def create_client(db: Path | str) -> tuple[str, str]:
    result = await anyio.run_process(
        [sys.executable, "-m", "rapidata_async", "clients", "create", "--db", str(db)]
    )
    out = result.stdout.decode()
    client_id = re.search(r"client_id:\s+(\S+)", out)
    secret = re.search(r"client_secret:\s+(\S+)", out)
    assert client_id and secret, out
    return client_id[1], secret[1]


async def serve(db: Path | str, *args: str) -> Process:
    return await anyio.open_process(
        [sys.executable, "-m", "rapidata_async", "serve", "--port", "0", "--db", str(db), *args]
    )


def connect_line(text: str) -> str:
    (line,) = [ln.strip() for ln in text.splitlines() if "AsyncRapidataClient(" in ln]
    return line


async def test_serve_shows_a_new_secret_on_a_terminal_only_and_credentials_survive_restarts(
    backend_options: dict[str, Any],
) -> None:
    db, assets_dir = backend_options["db"], backend_options["assets_dir"]
    # First start, stdout a terminal: the first credential is created and shown there once.
    master, slave = pty.openpty()
    try:
        process = await anyio.open_process(
            [
                sys.executable,
                "-m",
                "rapidata_async",
                "serve",
                "--port",
                "0",
                "--db",
                str(db),
                "--assets-dir",
                str(assets_dir),
            ],
            stdout=slave,
        )
        async with process:
            try:
                first = await read_terminal_banner(master)
                # The banner's one line is the code that connects: run exactly that.
                client = eval(
                    connect_line(first["text"]), {"AsyncRapidataClient": AsyncRapidataClient}
                )
                assert client.api_url == client.auth_url == first["url"]
                async with client:
                    audiences = await client.audience.find_audiences("alignment")
                    assert audiences and "alignment" in audiences[0].name.lower()
            finally:
                process.terminate()
    finally:
        os.close(master)
        os.close(slave)
    assert first["id"] and first["secret"]
    # Later starts, stdout a pipe: no secret, but how to create a credential; the first one
    # and one made by `clients create` both still work.
    made = await create_client(db)
    banners = []
    for _ in range(2):
        async with await serve(db, "--assets-dir", str(assets_dir)) as process:
            try:
                banner = await read_banner(process)
                banners.append(banner)
                for client_id, secret in ((first["id"], first["secret"]), made):
                    async with AsyncRapidataClient(
                        base_url=banner["url"], client_id=client_id, client_secret=secret
                    ) as client:
                        assert await client.audience.find_audiences("alignment")
            finally:
                process.terminate()
    for banner in banners:
        assert not banner["secret"] and first["secret"] not in banner["text"]
        assert "clients create --db" in banner["text"]
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


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rapidata_async", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=Path(__file__).resolve().parents[1],
    )


def test_version_and_help_with_defaults_on_every_option() -> None:
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"python -m rapidata_async {__version__}"
    parser = build_parser()
    (subcommands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    subparsers = subcommands.choices
    for name, sub in subparsers.items():
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, (name, action.dest)
    help_text = run_cli("serve", "--help").stdout
    assert help_text.startswith("usage: python -m rapidata_async serve")
    assert "(default: 8080)" in help_text and "(default: rapidata-local.sqlite3)" in help_text


async def test_serve_on_a_busy_port_says_so_in_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = await anyio.to_thread.run_sync(
            lambda: run_cli("serve", "--port", str(port), "--db", ":memory:")
        )
    assert out.returncode == 1
    errors = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert errors == [
        f"error: 127.0.0.1:{port} is already in use; stop what listens there or pick "
        "another port with --port"
    ]


def test_quickstart_prints_the_preview_url_once() -> None:
    out = run_cli("quickstart", "--speed", "10000")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("/definitions/") == 1, out.stdout
    assert "Preview in dashboard: " in out.stdout
