"""Where uploaded files live: a tiny blob store (put / open / exists by name).

``DirectoryBlobs`` keeps them in a directory; ``NullBlobs`` keeps nothing (in-memory backends,
which only count bytes). An S3-compatible store can implement the same three calls::

    blobs = DirectoryBlobs(Path("rapidata-local_assets"))
    size = await blobs.put("cat_1a2b3c4d.jpg", chunks)      # streams, never whole in memory
    async with await blobs.open("cat_1a2b3c4d.jpg") as f:
        data = await f.read()
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

import anyio


class Blobs(Protocol):
    async def put(self, name: str, chunks: AsyncIterator[bytes]) -> int:
        """Store ``chunks`` under ``name``; the byte count. Nothing is kept when it fails, is
        cancelled or is empty."""
        ...

    async def open(self, name: str) -> anyio.AsyncFile[bytes]:
        """The stored bytes of ``name`` (``FileNotFoundError`` when there are none)."""
        ...

    async def exists(self, name: str) -> bool: ...


def _safe(name: str) -> str:
    # Names come from unique_name() (no separators), but a blob store never trusts a path.
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise ValueError(f"not a blob name: {name!r}")
    return name


def _private(path: str, flags: int) -> int:
    # Uploaded files are the tenants' data: readable by the backend's user only.
    return os.open(path, flags, 0o600)


class DirectoryBlobs:
    """Blobs as files (mode 0600) in ``root`` (created 0700 on the first put)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __repr__(self) -> str:
        return f"DirectoryBlobs({str(self.root)!r})"

    async def put(self, name: str, chunks: AsyncIterator[bytes]) -> int:
        target = self.root / _safe(name)
        await anyio.Path(self.root).mkdir(mode=0o700, parents=True, exist_ok=True)
        size = 0
        try:
            async with await anyio.open_file(target, "wb", opener=_private) as out:
                async for chunk in chunks:
                    size += len(chunk)
                    await out.write(chunk)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.Path(target).unlink(missing_ok=True)
            raise
        if size == 0:
            await anyio.Path(target).unlink(missing_ok=True)
        return size

    async def open(self, name: str) -> anyio.AsyncFile[bytes]:
        return await anyio.open_file(self.root / _safe(name), "rb")

    async def exists(self, name: str) -> bool:
        return await anyio.Path(self.root / _safe(name)).is_file()


class NullBlobs:
    """Counts the bytes and keeps none."""

    async def put(self, name: str, chunks: AsyncIterator[bytes]) -> int:
        size = 0
        async for chunk in chunks:
            size += len(chunk)
        return size

    async def open(self, name: str) -> anyio.AsyncFile[bytes]:
        raise FileNotFoundError(name)

    async def exists(self, name: str) -> bool:
        return False


def blobs_for(root: Path | None) -> Blobs:
    """A directory's blob store, or ``NullBlobs`` for None."""
    return DirectoryBlobs(root) if root is not None else NullBlobs()
