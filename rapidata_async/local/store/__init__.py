"""The store seam: persistence of the local backend behind small interfaces per aggregate.

``base`` holds the interfaces and the row types; ``sqlite`` (embedded default) and
``postgres`` (asyncpg, the ``postgres`` extra) implement them. ``open_store(db)`` picks one from
the ``--db`` value: a ``postgresql://`` URL, a file path, or None for in-memory SQLite::

    store = open_store("rapidata-local.sqlite3")
    await store.open()
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from .base import Store, StoreUnavailable

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(db: str | Path | None) -> bool:
    return isinstance(db, str) and db.startswith(POSTGRES_SCHEMES)


def open_store(db: str | Path | None = None, **opts: Any) -> Store:
    """The store for ``db`` (not opened yet): PostgreSQL for a ``postgresql://`` URL, else
    SQLite on that file (None: in memory). ``opts`` go to the store's constructor."""
    if is_postgres_url(db):
        try:
            importlib.import_module("asyncpg")  # the one dependency of the postgres extra
        except ImportError as exc:
            raise StoreUnavailable(
                "A postgresql:// database needs asyncpg: pip install 'rapidata-async[postgres]'"
            ) from exc
        from .postgres import PostgresStore

        store: Store = PostgresStore(str(db), **opts)
        return store
    from .sqlite import SqliteStore

    return SqliteStore(db, **opts)


def describe(db: str | Path | None) -> str:
    """What ``db`` names, for banners and logs; a PostgreSQL URL without its password."""
    if is_postgres_url(db):
        from .postgres import redact

        return f"PostgreSQL {redact(str(db))}"
    return f"SQLite {db}" if db is not None else "SQLite in memory"


__all__ = ["Store", "StoreUnavailable", "describe", "is_postgres_url", "open_store"]
