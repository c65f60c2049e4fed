"""Shared fixtures: one real local backend on loopback for the whole session.

- ``local_backend`` (session): ``LocalBackend`` on 127.0.0.1, random port, in-memory SQLite.
- ``backend`` (function): the same backend, reset (data wiped, credential and seeded audiences
  kept) before the test.
- ``client`` (function): an opened ``AsyncRapidataClient`` wired to ``backend``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

from rapidata_async.local import LocalBackend

if TYPE_CHECKING:
    from rapidata_async import AsyncRapidataClient


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    # aiohttp runs on asyncio only.
    return "asyncio"


@pytest.fixture(scope="session")
async def local_backend(anyio_backend: Any) -> AsyncIterator[LocalBackend]:
    async with LocalBackend() as backend:
        yield backend


@pytest.fixture
async def backend(local_backend: LocalBackend) -> AsyncIterator[LocalBackend]:
    await local_backend.reset()
    yield local_backend


@pytest.fixture
async def client(backend: LocalBackend) -> AsyncIterator[AsyncRapidataClient]:
    try:
        from rapidata_async._client import AsyncRapidataClient  # noqa: F401
    except ImportError as exc:  # the client is written concurrently with the backend
        pytest.skip(f"AsyncRapidataClient is not available yet: {exc}")
    async with backend.client() as opened:
        yield opened


@pytest.fixture(scope="session", autouse=True)
def _upload_cache_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Keep the persistent upload cache of the test session out of the user's home.
    from rapidata_async import rapidata_config

    rapidata_config.upload.cacheLocation = tmp_path_factory.mktemp("upload-cache")


# -- the browser of the page tests -------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
async def browser(
    anyio_backend: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Any]:
    """One headless Chromium (Debian's) for the whole session, driven by playwright; a fresh
    profile directory. Skips when Chromium is not installed (``.ci/run`` installs it)."""
    import os

    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"browser: no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.async_api import async_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1100, "height": 800},
        )
        try:
            yield context
        finally:
            await context.close()
