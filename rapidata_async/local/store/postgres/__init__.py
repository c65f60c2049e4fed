"""The PostgreSQL store (asyncpg; the ``postgres`` extra), one module per aggregate.

Several backend processes can share one database: schema creation and seeding run under an
advisory lock, the signing key and the first credential live in the database, counters move
in single statements, and ``leases`` decide which process does which piece of work.
"""

from ._db import redact
from ._store import PostgresStore

__all__ = ["PostgresStore", "redact"]
