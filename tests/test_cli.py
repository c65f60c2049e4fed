"""``python -m rapidata_async serve``: a real server process, driven through the SDK."""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
from pathlib import Path

import anyio
from anyio.abc import Process

from rapidata_async import AsyncRapidataClient, __version__
from rapidata_async.__main__ import build_parser


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
    return {"url": url[1], "id": client_id[1], "secret": secret[1], "connect": connect_line(text)}


async def serve(db: Path, *args: str) -> Process:
    return await anyio.open_process(
        [sys.executable, "-m", "rapidata_async", "serve", "--port", "0", "--db", str(db), *args]
    )


def connect_line(text: str) -> str:
    (line,) = [ln.strip() for ln in text.splitlines() if "AsyncRapidataClient(" in ln]
    return line


async def test_serve_prints_a_working_credential_that_survives_restarts(tmp_path: Path) -> None:
    db = tmp_path / "local.sqlite3"
    banners = []
    for _ in range(2):
        async with await serve(db) as process:
            try:
                banner = await read_banner(process)
                banners.append(banner)
                # The banner's one line is the code that connects: run exactly that.
                client = eval(banner["connect"], {"AsyncRapidataClient": AsyncRapidataClient})
                assert client.api_url == client.auth_url == banner["url"]
                async with client:
                    audiences = await client.audience.find_audiences("alignment")
                    assert audiences and "alignment" in audiences[0].name.lower()
            finally:
                process.terminate()
    assert banners[0]["id"] == banners[1]["id"]
    assert banners[0]["secret"] == banners[1]["secret"]


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
