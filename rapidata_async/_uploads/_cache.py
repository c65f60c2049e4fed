"""Which assets this client already uploaded, so a re-run uploads no unchanged file.

Files: ``{api}@{abspath}:{size}:{mtime_ns}`` → ``fileName``, persisted with ``diskcache``
(SQLite under ``rapidata_config.upload.cacheLocation``, ``cacheShards`` shards) when
``cacheToDisk`` is on, else kept in memory for the client's lifetime. URLs: ``url`` →
``fileName`` in memory, per client (so per API). Disk access runs on one worker thread.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar, cast

import anyio

from .._config import rapidata_config

T = TypeVar("T")


class UnreadableFile(Exception):
    """A local file that cannot be uploaded; the message says why and names the file,
    ``reason`` says why without the name (failures are grouped by it)."""

    def __init__(self, reason: str, path: str) -> None:
        super().__init__(f"{reason}: {path}")
        self.reason = reason


class FileLookup(NamedTuple):
    key: str
    cached: str | None
    """The file name of an earlier upload of this very file, if any."""
    content: bytes | None
    """The file's bytes when it is not cached and small enough to read at once."""


def file_key(api_url: str, path: str) -> tuple[str, int]:
    """Stat ``path``: its cache key and size; raises ``UnreadableFile`` (call in a thread)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise UnreadableFile("file not found", path) from None
    except OSError as exc:
        raise UnreadableFile(f"cannot read the file ({exc.strerror})", path) from exc
    if not stat.S_ISREG(st.st_mode):
        raise UnreadableFile("not a regular file", path)
    if st.st_size == 0:
        raise UnreadableFile("empty file", path)
    if not os.access(path, os.R_OK):
        raise UnreadableFile("file is not readable", path)
    return f"{api_url}@{os.path.abspath(path)}:{st.st_size}:{st.st_mtime_ns}", st.st_size


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise UnreadableFile(f"cannot read the file ({exc.strerror})", path) from exc


class AssetCache:
    """Per-client cache of uploaded assets; ``aclose()`` writes what is pending and closes.

    All disk work runs on one worker thread at a time (diskcache opens an SQLite connection per
    shard per thread, so a pool of threads would open thousands), and new entries are written
    in batches rather than one thread trip each.
    """

    FLUSH_EVERY = 256

    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        self.urls: dict[str, str] = {}
        self._memory: dict[str, str] = {}
        self._pending: dict[str, str] = {}
        self._disk: Any = None
        self._thread = anyio.CapacityLimiter(1)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(fn, *args, limiter=self._thread)

    async def _open_disk(self) -> Any:
        if self._disk is None:
            cfg = rapidata_config.upload
            cfg.freeze_cache_settings()

            def open_disk() -> Any:
                from diskcache import Cache, FanoutCache

                if self._disk is None:  # one thread at a time: no race between two openers
                    # diskcache takes float seconds; its signature says int (from the default).
                    location, timeout = str(cfg.cacheLocation), cast(int, cfg.cacheTimeout)
                    self._disk = (
                        Cache(location, timeout=timeout)
                        if cfg.cacheShards == 1
                        else FanoutCache(location, shards=cfg.cacheShards, timeout=timeout)
                    )
                return self._disk

            await self._run(open_disk)
        return self._disk

    async def lookup_file(self, path: str, read_up_to: int = 0) -> FileLookup:
        """Stat the file and look it up, in one trip to the cache thread; a file that is not
        cached and at most ``read_up_to`` bytes is read on the same trip. Raises
        ``UnreadableFile`` for what can't be uploaded."""
        on_disk = rapidata_config.upload.cacheToDisk
        disk = await self._open_disk() if on_disk else None

        def lookup() -> FileLookup:
            key, size = file_key(self.api_url, path)
            cached = self._pending.get(key) or self._memory.get(key)
            if cached is None and disk is not None:
                try:
                    cached = disk.get(key)
                except Exception:  # a cache that times out or is corrupt is only a missed hit
                    cached = None
            content = _read(path) if cached is None and size <= read_up_to else None
            return FileLookup(key, cached, content)

        return await self._run(lookup)

    async def store_file(self, key: str, file_name: str) -> None:
        if not rapidata_config.upload.cacheToDisk:
            self._memory[key] = file_name
            return
        self._pending[key] = file_name
        if len(self._pending) >= self.FLUSH_EVERY:
            await self.flush()

    async def flush(self) -> None:
        """Write pending entries to disk (best effort: a lost entry costs one re-upload)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        disk = await self._open_disk()

        def write() -> None:
            try:
                for key, name in pending.items():
                    disk.set(key, name)
            except Exception:
                pass

        await self._run(write)

    async def forget_file(self, key: str) -> None:
        self._memory.pop(key, None)
        self._pending.pop(key, None)
        if rapidata_config.upload.cacheToDisk:
            disk = await self._open_disk()
            await self._run(disk.delete, key)

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True):
            await self.flush()
            if self._disk is not None:
                disk, self._disk = self._disk, None
                await self._run(disk.close)
