"""The embedded SQLite store: one connection fed by a worker-thread queue (``_db``), the
schema (``_schema``), the listing SQL builder (``_listing``) and one module per aggregate,
composed by ``SqliteStore``."""

from .store import SqliteStore

__all__ = ["SqliteStore"]
