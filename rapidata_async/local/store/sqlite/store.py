"""``SqliteStore``: the aggregates of one SQLite database, opened and closed together::

store = SqliteStore("rapidata-local.sqlite3")    # or None for in-memory
await store.open()                              # schema and seeds
dataset_id = await store.datasets.create(wire.CreateDatasetInput(name="d"))
await store.reset()                             # tests: wipe, keep credentials, assets, seeds
await store.close()
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..base import (
    Assets,
    Audiences,
    Batches,
    Benchmarks,
    Clients,
    Datasets,
    Definitions,
    Flows,
    Jobs,
    Labelers,
    Leases,
    Orders,
    StoreUnavailable,
    ValidationSets,
    Votes,
)
from ..credentials import touch_private
from . import _schema
from ._db import Database
from .assets import SqliteAssets
from .audiences import SqliteAudiences
from .batches import SqliteBatches
from .benchmarks import SqliteBenchmarks
from .clients import SqliteClients
from .datasets import SqliteDatasets
from .definitions import SqliteDefinitions
from .flows import SqliteFlows
from .jobs import SqliteJobs
from .labelers import SqliteLabelers
from .leases import SqliteLeases
from .orders import SqliteOrders
from .validation import SqliteValidationSets
from .votes import SqliteVotes


class SqliteStore:
    """The embedded store: a file (WAL mode) that survives restarts, or memory when ``db`` is
    None. Uploaded files go to ``assets_dir`` (default: ``<db stem>_assets`` beside a file DB,
    none for an in-memory one). A new database file is created 0600 (its directory 0700 when
    new): it holds the hashes of the client secrets and every tenant's data."""

    def __init__(self, db: str | Path | None = None, *, assets_dir: str | Path | None = None):
        self.path: Path | None = Path(db) if db is not None else None
        self.db: Database = Database(self.path)
        self._assets_dir = Path(assets_dir) if assets_dir is not None else None
        # Typed as the interfaces: the Store protocol's members are plain (settable) attributes.
        self.clients: Clients = SqliteClients(self.db)
        self.labelers: Labelers = SqliteLabelers(self.db)
        self.assets: Assets = SqliteAssets(self.db)
        self.batches: Batches = SqliteBatches(self.db)
        self._datasets = SqliteDatasets(self.db)
        self.datasets: Datasets = self._datasets
        self.definitions: Definitions = SqliteDefinitions(self.db)
        self.audiences: Audiences = SqliteAudiences(self.db)
        self.jobs: Jobs = SqliteJobs(self.db)
        self.votes: Votes = SqliteVotes(self.db)
        self.flows: Flows = SqliteFlows(self.db)
        self.orders: Orders = SqliteOrders(self.db)
        self.validation_sets: ValidationSets = SqliteValidationSets(self.db)
        self.leases: Leases = SqliteLeases(self.db)
        self.benchmarks: Benchmarks = SqliteBenchmarks(self.db)

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path) if self.path else None!r})"

    @property
    def assets_dir(self) -> Path | None:
        if self._assets_dir is not None:
            return self._assets_dir
        if self.path is None:
            return None
        return self.path.with_name(self.path.stem + "_assets")

    async def open(self) -> None:
        def run() -> None:
            if self.path is not None:
                touch_private(self.path)
            conn = self.db.connect()
            _schema.create(conn)

        try:
            await self.db.run(run)
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"cannot open the SQLite database {self.path}: {exc}") from exc

    async def close(self) -> None:
        await self.db.close()

    async def reset(self) -> None:
        def run() -> None:
            with self.db.tx() as conn:
                _schema.reset(conn)
            self._datasets.forget()

        await self.db.run(run)
