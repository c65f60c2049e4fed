"""The PostgreSQL cluster of the test run, if any: ``RAPIDATA_TEST_POSTGRES_DSN``, and fresh
schemas in it so that every backend starts on an empty database."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

DSN = os.environ.get("RAPIDATA_TEST_POSTGRES_DSN", "")
SKIP_REASON = (
    "postgres: RAPIDATA_TEST_POSTGRES_DSN is unset "
    '(start a throwaway cluster with: eval "$(.ci/postgres.sh start)")'
)


@asynccontextmanager
async def postgres_schema() -> AsyncIterator[str]:
    """A DSN whose connections work in a new, empty schema (dropped afterwards)."""
    import asyncpg

    schema = f"test_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(DSN)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
        try:
            yield f"{DSN}{'&' if '?' in DSN else '?'}search_path={schema}"
        finally:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await conn.close()
