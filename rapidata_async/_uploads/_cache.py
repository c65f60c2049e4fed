"""Which assets this client already uploaded, so a re-run uploads no unchanged file.

Files: ``{api}@{abspath}:{size}:{mtime_ns}`` → ``fileName``, persisted with ``diskcache``
(sharded SQLite under ``rapidata_config.upload.cacheLocation``) when ``cacheToDisk`` is on,
else kept in memory for the client's lifetime. URLs: ``{api}@{url}`` → ``fileName`` in memory.
Every disk access runs in a worker thread.
"""

from __future__ import annotations

import os
import stat
from typing import Any

import anyio

from .._config import rapidata_config


class UnreadableFile(Exception):
    """A local file that cannot be uploaded; the message says why."""


def file_key(api_url: str, path: str) -> str:
    """Stat ``path`` and build its cache key; raises ``UnreadableFile`` (call in a thread)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise UnreadableFile(f"file not found: {path}") from None
    except OSError as exc:
        raise UnreadableFile(f"cannot read {path}: {exc.strerror}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise UnreadableFile(f"not a regular file: {path}")
    if st.st_size == 0:
        raise UnreadableFile(f"empty file: {path}")
    if not os.access(path, os.R_OK):
        raise UnreadableFile(f"file is not readable: {path}")
    return f"{api_url}@{os.path.abspath(path)}:{st.st_size}:{st.st_mtime_ns}"


class AssetCache:
    """Per-client cache of uploaded assets; ``aclose()`` releases the disk cache."""

    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        self.urls: dict[str, str] = {}
        self._memory: dict[str, str] = {}
        self._disk: Any = None
        self._lock = anyio.Lock()

    async def _open_disk(self) -> Any:
        if self._disk is None:
            async with self._lock:
                if self._disk is None:
                    cfg = rapidata_config.upload
                    cfg.freeze_cache_settings()
                    from diskcache import FanoutCache

                    self._disk = await anyio.to_thread.run_sync(
                        lambda: FanoutCache(
                            str(cfg.cacheLocation),
                            shards=cfg.cacheShards,
                            timeout=cfg.cacheTimeout,
                        )
                    )
        return self._disk

    async def lookup_file(self, path: str) -> tuple[str, str | None]:
        """``(key, fileName or None)``; raises ``UnreadableFile`` for what can't be uploaded."""
        if not rapidata_config.upload.cacheToDisk:
            key = await anyio.to_thread.run_sync(file_key, self.api_url, path)
            return key, self._memory.get(key)
        disk = await self._open_disk()

        def lookup() -> tuple[str, str | None]:
            key = file_key(self.api_url, path)
            try:
                return key, disk.get(key)
            except Exception:  # a cache that times out or is corrupt is only a missed hit
                return key, None

        return await anyio.to_thread.run_sync(lookup)

    async def store_file(self, key: str, file_name: str) -> None:
        if not rapidata_config.upload.cacheToDisk:
            self._memory[key] = file_name
            return
        disk = await self._open_disk()

        def store() -> None:
            try:
                disk.set(key, file_name)
            except Exception:
                pass  # best effort: the next run uploads the file again

        await anyio.to_thread.run_sync(store)

    async def forget_file(self, key: str) -> None:
        self._memory.pop(key, None)
        if rapidata_config.upload.cacheToDisk:
            disk = await self._open_disk()
            await anyio.to_thread.run_sync(disk.delete, key)

    async def aclose(self) -> None:
        if self._disk is not None:
            disk, self._disk = self._disk, None
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(disk.close)
