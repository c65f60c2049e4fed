"""``PostgresStore``: the aggregates over one asyncpg pool, opened and closed together."""

from __future__ import annotations

import asyncio
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
    Store,
    StoreUnavailable,
    ValidationSets,
    Votes,
)
from ._assets import PgAssets, PgBatches
from ._audiences import PgAudiences
from ._benchmarks import PgBenchmarks
from ._clients import PgClients
from ._datasets import PgDatasets
from ._db import Db, redact
from ._definitions import PgDefinitions
from ._flows import PgFlows
from ._jobs import PgJobs
from ._labelers import PgLabelers
from ._leases import PgLeases
from ._orders import PgOrders
from ._schema import prepare, reset
from ._validation import PgValidationSets
from ._votes import PgVotes

# Seconds to wait for a connection: a server that never answers fails the open, not hangs it.
CONNECT_TIMEOUT = 10.0


class PostgresStore:
    """The local backend's data in a PostgreSQL database that several processes may share::

        store = PostgresStore("postgresql://user:pw@host/db", assets_dir=Path("assets"))
        await store.open()      # schema and seeds (once per db)
        row = await store.jobs.get(job_id)
        await store.close()

    The pool stays small (``min_size``..``max_size`` connections per process): every call is a
    short statement or transaction, and several processes share the server's connection limit.
    """

    def __init__(
        self,
        dsn: str,
        *,
        assets_dir: Path | None = None,
        min_size: int = 2,
        max_size: int = 10,
    ) -> None:
        self.dsn = dsn
        self._assets_dir = assets_dir
        self._min_size = min(min_size, max_size)
        self._max_size = max_size
        self._opened = False
        self._db = Db()
        self._datasets = PgDatasets(self._db)
        # Typed as the interfaces, so that mypy checks each aggregate against its protocol.
        self.clients: Clients = PgClients(self._db)
        self.labelers: Labelers = PgLabelers(self._db)
        self.assets: Assets = PgAssets(self._db)
        self.batches: Batches = PgBatches(self._db)
        self.datasets: Datasets = self._datasets
        self.definitions: Definitions = PgDefinitions(self._db)
        self.audiences: Audiences = PgAudiences(self._db)
        self.jobs: Jobs = PgJobs(self._db)
        self.votes: Votes = PgVotes(self._db)
        self.flows: Flows = PgFlows(self._db)
        self.orders: Orders = PgOrders(self._db)
        self.validation_sets: ValidationSets = PgValidationSets(self._db)
        self.leases: Leases = PgLeases(self._db)
        self.benchmarks: Benchmarks = PgBenchmarks(self._db)

    def __repr__(self) -> str:
        return f"PostgresStore({redact(self.dsn)!r})"

    @property
    def assets_dir(self) -> Path | None:
        return self._assets_dir

    async def open(self) -> None:
        """Create the schema if needed (and upgrade it) and the seeded audiences."""
        if self._opened:
            return
        import asyncpg  # the `postgres` extra: only needed once a PostgreSQL store is opened

        # What a wrong URL, a server that is down or refuses us can raise: one line for
        # whoever started the backend, not a driver traceback.
        failures = (
            OSError,
            TimeoutError,
            asyncio.TimeoutError,  # not yet the builtin one on Python 3.10
            ValueError,
            asyncpg.PostgresError,
            asyncpg.InterfaceError,
        )
        try:
            pool = await asyncpg.create_pool(
                self.dsn,
                min_size=self._min_size,
                max_size=self._max_size,
                timeout=CONNECT_TIMEOUT,
            )
        except failures as exc:
            raise self._unavailable(exc) from exc
        try:
            async with pool.acquire() as conn:
                await prepare(conn)
        except BaseException as exc:
            await pool.close()
            if isinstance(exc, failures):
                raise self._unavailable(exc) from exc
            raise
        self._db.attach(pool)
        self._opened = True

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        text = (exc.strerror if isinstance(exc, OSError) else None) or str(exc).strip()
        reason = text.splitlines()[0] if text else type(exc).__name__
        if isinstance(exc, (OSError, TimeoutError, asyncio.TimeoutError)):
            reason += " (is the server running and reachable?)"
        return StoreUnavailable(f"cannot open the PostgreSQL database {redact(self.dsn)}: {reason}")

    async def close(self) -> None:
        pool = self._db.detach()
        self._opened = False
        if pool is not None:
            await pool.close()

    async def reset(self) -> None:
        """Tests: wipe all data but credentials, assets and seeds."""
        async with self._db.pool.acquire() as conn:
            await reset(conn)
        self._datasets.forget()


def _conforms(store: PostgresStore) -> Store:
    """Never called: mypy checks here that the class keeps the ``Store`` interface."""
    return store
