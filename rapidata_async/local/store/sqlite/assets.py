"""Uploaded assets (names, where they came from) and the check that references name them."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from ...domain.errors import check_known_assets
from ..seeds import now_iso
from ._db import Database

_CHUNK = 500  # names per IN (...): well below SQLite's bound-parameter limit


def _known(
    conn: sqlite3.Connection, names: Sequence[str], owner: str | None
) -> dict[str, str | None]:
    """Source URL (or None) per name among ``names`` that ``owner`` uploaded (any owner's
    for None)."""
    out: dict[str, str | None] = {}
    unique = list(dict.fromkeys(names))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        sql = f"SELECT name, source_url FROM assets WHERE name IN ({marks})"
        params: list[str] = list(chunk)
        if owner is not None:
            sql += " AND owner = ?"
            params.append(owner)
        for name, url in conn.execute(sql, params):
            out[name] = url
    return out


def check_known(conn: sqlite3.Connection, refs: list[tuple[str, str]], owner: str) -> None:
    """Raise ``Invalid`` naming each field (``(path, name)``) whose asset ``owner`` never
    uploaded (another tenant's file is unknown here, exactly like a name never uploaded)."""
    if not refs:
        return
    known = _known(conn, [name for _, name in refs], owner)
    check_known_assets(refs, known)


class SqliteAssets:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        name: str,
        *,
        owner: str,
        original_name: str | None,
        source_url: str | None,
        size: int | None,
    ) -> None:
        await self._db.run(
            self._db.conn.execute,
            "INSERT OR REPLACE INTO assets (name, original_name, source_url, size, created_at, "
            "owner) VALUES (?, ?, ?, ?, ?, ?)",
            (name, original_name, source_url, size, now_iso(), owner),
        )

    async def missing(self, names: Sequence[str], *, owner: str | None) -> set[str]:
        def run() -> set[str]:
            return set(names) - set(_known(self._db.conn, names, owner))

        return await self._db.run(run)

    async def originals(self, names: Sequence[str]) -> dict[str, str]:
        def run() -> dict[str, str]:
            out: dict[str, str] = {}
            unique = list(dict.fromkeys(names))
            for start in range(0, len(unique), _CHUNK):
                chunk = unique[start : start + _CHUNK]
                marks = ", ".join("?" * len(chunk))
                for name, original in self._db.conn.execute(
                    f"SELECT name, original_name FROM assets WHERE name IN ({marks}) "
                    "AND original_name IS NOT NULL",
                    chunk,
                ):
                    out[name] = original
            return out

        return await self._db.run(run)

    async def urls(self, names: Sequence[str]) -> dict[str, str]:
        def run() -> dict[str, str]:
            known = _known(self._db.conn, names, None)
            return {name: url for name, url in known.items() if url is not None}

        return await self._db.run(run)
