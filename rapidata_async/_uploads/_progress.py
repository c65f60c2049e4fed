"""Upload progress as an async iterator, for applications that render their own.

tracker = UploadTracker()
async with anyio.create_task_group() as tg:
    tg.start_soon(show, tracker)            # async for p in tracker: print(p.done, p.total)
    definition = await client.job.create_compare_job_definition(..., upload_progress=tracker)
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import msgspec


class UploadProgress(msgspec.Struct, frozen=True, kw_only=True):
    """One snapshot of an upload run."""

    total: int
    """Datapoints in the run."""
    created: int = 0
    """Datapoints created on the server."""
    failed: int = 0
    """Datapoints that failed (see ``FailedUploadException``)."""
    files_uploaded: int = 0
    """Local files sent in this run."""
    files_cached: int = 0
    """Local files skipped because an earlier run uploaded them unchanged."""

    @property
    def done(self) -> int:
        """Datapoints settled either way: ``created + failed``."""
        return self.created + self.failed

    @property
    def finished(self) -> bool:
        """Whether every datapoint of the run is settled."""
        return self.done >= self.total


class UploadTracker:
    """Receives the snapshots of one upload run; iterate it from another task.

    Iteration yields the latest snapshot whenever it changed (intermediate ones may be
    skipped when the consumer is slower than the upload) and ends when the run ends.
    """

    def __init__(self) -> None:
        self._latest: UploadProgress | None = None
        self._version = 0
        self._changed = anyio.Event()
        self._closed = False

    @property
    def latest(self) -> UploadProgress | None:
        """The most recent snapshot (None before the run published one)."""
        return self._latest

    def _publish(self, progress: UploadProgress) -> None:
        self._latest = progress
        self._version += 1
        self._wake()

    def _close(self) -> None:
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        changed, self._changed = self._changed, anyio.Event()
        changed.set()

    async def __aiter__(self) -> AsyncIterator[UploadProgress]:
        seen = 0
        while True:
            if self._version != seen and self._latest is not None:
                seen = self._version
                yield self._latest
            elif self._closed:
                return
            else:
                await self._changed.wait()
