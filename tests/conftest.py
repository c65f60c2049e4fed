"""Shared fixtures: one real local backend on loopback for the whole session.

- ``local_backend`` (session): ``LocalBackend`` on 127.0.0.1, random port, in-memory SQLite.
- ``backend`` (function): the same backend, reset (data wiped, credential and seeded audiences
  kept) before the test.
- ``client`` (function): an opened ``AsyncRapidataClient`` wired to ``backend``.

Skips are explicit: a test may skip only for a genuinely absent optional piece, with a reason
that starts with one of ``_skip_guard.ALLOWED`` (see there); any other skip fails the session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

from rapidata_async.local import LocalBackend

if TYPE_CHECKING:
    from rapidata_async import AsyncRapidataClient

# A broken import must fail the tests that need it, never turn them into skips.
pytest_plugins = ["_skip_guard"]


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
    async with backend.client() as opened:
        yield opened


@pytest.fixture(scope="session", autouse=True)
def _upload_cache_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Keep the persistent upload cache of the test session out of the user's home.
    from rapidata_async import rapidata_config

    rapidata_config.upload.cacheLocation = tmp_path_factory.mktemp("upload-cache")
