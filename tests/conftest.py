"""Shared fixtures: one real local backend on loopback per store, for the whole session.

- ``store_name`` (session): ``"sqlite"`` or ``"postgres"``. Every test that reaches a backend
  through the fixtures below runs once per store (``test_x[sqlite]``, ``test_x[postgres]``).
  The PostgreSQL half needs ``RAPIDATA_TEST_POSTGRES_DSN`` (``eval "$(.ci/postgres.sh start)"``;
  ``.ci/run`` starts a cluster itself); without it those tests are skipped ("postgres: ...").
  ``@pytest.mark.sqlite_only`` keeps a test on SQLite (file databases, WAL, the store queue).
- ``local_backend`` (session): ``LocalBackend`` on 127.0.0.1, random port; in-memory SQLite,
  or PostgreSQL in a schema of its own (dropped at the end).
- ``backend`` (function): the same backend, reset (data wiped, credential and seeded audiences
  kept) before the test.
- ``client`` (function): an opened ``AsyncRapidataClient`` wired to ``backend``.
- ``backend_options`` (function) and ``module_backend_options`` (module): ``db`` and
  ``assets_dir`` for a test's own ``LocalBackend`` on the store under test: a fresh SQLite
  file or a fresh PostgreSQL schema; both keep their data across restarts.

Skips are explicit: a test may skip only for a genuinely absent optional piece, with a reason
that starts with one of ``_skip_guard.ALLOWED`` (see there); any other skip fails the session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from _postgres import DSN, SKIP_REASON, postgres_schema  # tests/ is on sys.path

from rapidata_async.local import LocalBackend

if TYPE_CHECKING:
    from rapidata_async import AsyncRapidataClient

STORES = ("sqlite", "postgres")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sqlite_only: run only on the SQLite store (the test is about SQLite, or builds its "
        "own in-memory backends whatever the store under test)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # One run per store for every test that reaches a backend through the fixtures.
    if "store_name" in metafunc.fixturenames:
        sqlite_only = metafunc.definition.get_closest_marker("sqlite_only") is not None
        stores = STORES[:1] if sqlite_only else STORES
        metafunc.parametrize("store_name", stores, indirect=True, scope="session")


# A broken import must fail the tests that need it, never turn them into skips.
pytest_plugins = ["_skip_guard"]


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    # aiohttp runs on asyncio only.
    return "asyncio"


@pytest.fixture(scope="session")
def store_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "postgres" and not DSN:
        pytest.skip(SKIP_REASON)
    return name


@pytest.fixture(scope="session")
async def local_backend(
    anyio_backend: Any, store_name: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LocalBackend]:
    if store_name == "sqlite":
        async with LocalBackend() as backend:
            yield backend
        return
    async with (
        postgres_schema() as dsn,
        LocalBackend(db=dsn, assets_dir=tmp_path_factory.mktemp("pg-assets")) as backend,
    ):
        yield backend


@pytest.fixture
async def backend(local_backend: LocalBackend) -> AsyncIterator[LocalBackend]:
    await local_backend.reset()
    yield local_backend


@pytest.fixture
async def client(backend: LocalBackend) -> AsyncIterator[AsyncRapidataClient]:
    async with backend.client() as opened:
        yield opened


@pytest.fixture
async def few_labelers(client: AsyncRapidataClient) -> str:
    """Id of a custom audience of a handful of simulated labelers (one small country): work
    that needs more distinct labelers than that keeps running."""
    return await few_labelers_audience(client)


async def few_labelers_audience(client: AsyncRapidataClient) -> str:
    """``few_labelers`` on any client (a test's own backend)."""
    from rapidata_async import CountryFilter

    audience = await client.audience.create_audience(
        name="Few labelers", filters=[CountryFilter(["LY"])]
    )
    for k in range(3):
        await audience.add_compare_example(
            instruction="Which is better?",
            truth=f"good {k}",
            datapoint=[f"good {k}", f"bad {k}"],
            data_type="text",
        )
    return audience.id


@asynccontextmanager
async def fresh_database(store_name: str, directory: Path) -> AsyncIterator[dict[str, Any]]:
    """``db`` and ``assets_dir`` of a new database of the store: a SQLite file in
    ``directory``, or a PostgreSQL schema; uploads go to ``directory / "assets"``."""
    assets_dir = directory / "assets"
    if store_name == "sqlite":
        yield {"db": directory / "local.sqlite3", "assets_dir": assets_dir}
        return
    async with postgres_schema() as dsn:
        yield {"db": dsn, "assets_dir": assets_dir}


@pytest.fixture
async def backend_options(store_name: str, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    """``LocalBackend(**backend_options)``: a fresh database of the store under test that
    keeps its data across restarts, uploads in ``tmp_path / "assets"``."""
    async with fresh_database(store_name, tmp_path) as options:
        yield options


@pytest.fixture(scope="module")
async def module_backend_options(
    store_name: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, Any]]:
    """``backend_options`` for a backend that a whole module shares."""
    async with fresh_database(store_name, tmp_path_factory.mktemp("backend")) as options:
        yield options


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
