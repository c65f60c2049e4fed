"""URL batch uploads that download their URLs, finished as leased work.

A batch whose URLs must be fetched is stored ``Processing`` with ``Pending`` items. Whoever
holds its ``("batch", id)`` lease downloads them, writing progress every
``PROGRESS_INTERVAL`` and ``Completed`` at the end. The process that created the batch takes
the lease at once; a scanner (every ``scan_interval`` seconds, like the engine's for jobs)
takes ``Processing`` batches nobody holds, so a batch survives a crash or kill -9: after a
restart, or on another process of the same PostgreSQL database once the dead process's lease
expired, the batch goes on. Items already stored ``Completed`` or ``Failed`` keep their
results; ``Pending`` ones are fetched again, or, on a backend that does not fetch URLs,
failed with a message saying why.

An abort (``stop`` here, then the handler writes ``Aborted``) cancels a local run at once; a
run on another process sees the status change at its next progress write and stops there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

import anyio

from ..._wire import asset as wire
from .._errors import ApiError
from .._tasks import TaskManager
from ..store.base import ANY_OWNER, BatchRow, Store
from ._fetch import UrlFetcher
from ._names import unique_name, url_basename

log = logging.getLogger("rapidata_async.local")

LEASE_KIND = "batch"
LEASE_TTL = 10.0
SCAN_INTERVAL = 1.0
# How often a batch being fetched writes its progress, so status polls see it move.
PROGRESS_INTERVAL = 0.25
NOT_FETCHED = (
    "Not fetched: the upload was interrupted and this backend does not download URLs "
    "(start it with --fetch-urls to resume such uploads)."
)

Item = wire.BatchUploadUrlOutput


class BatchRunner:
    """Runs the ``Processing`` batches this process holds the lease of. The upload handler
    calls ``start`` and ``stop``; the app calls ``resume`` once the server is up."""

    def __init__(
        self,
        store: Store,
        tasks: TaskManager,
        fetcher: UrlFetcher | None,
        *,
        owner: str,
        lease_ttl: float = LEASE_TTL,
        scan_interval: float = SCAN_INTERVAL,
    ) -> None:
        self.store = store
        self.tasks = tasks
        self.fetcher = fetcher
        self.owner = owner
        self.lease_ttl = lease_ttl
        self.scan_interval = scan_interval
        self._running: set[str] = set()

    async def start(self, batch_id: str) -> None:
        """Take a new batch's lease and run it here (the scanner would within a second)."""
        if await self.store.leases.acquire(LEASE_KIND, [batch_id], self.owner, self.lease_ttl):
            self._spawn(batch_id)

    async def stop(self, batch_id: str) -> None:
        """Cancel this process's run of the batch (if any) and wait until it has stopped."""
        await self.tasks.cancel(f"batch:{batch_id}")

    async def resume(self) -> None:
        """Start the scanner; its first scan takes what a previous process left unfinished."""
        self.tasks.spawn("batches:scan", self._scan_loop)

    async def restart(self) -> None:
        """After every task was cancelled (tests' reset)."""
        self._running.clear()
        await self.resume()

    # -- the scanner -----------------------------------------------------------------------
    async def _scan_loop(self) -> None:
        while True:
            try:
                await self._scan()
            except Exception:
                log.exception("batch scan failed")
            await anyio.sleep(self.scan_interval)

    async def _scan(self) -> None:
        leases = self.store.leases
        if self._running:
            running = sorted(self._running)
            held = set(await leases.renew(LEASE_KIND, running, self.owner, self.lease_ttl))
            for batch_id in running:
                if batch_id not in held:
                    log.warning("lost the lease of batch %s; another process runs it", batch_id)
                    await self.stop(batch_id)
        processing = await self.store.batches.in_status("Processing")
        waiting = [b for b in processing if b not in self._running]
        if waiting:
            for batch_id in await leases.acquire(LEASE_KIND, waiting, self.owner, self.lease_ttl):
                self._spawn(batch_id)

    def _spawn(self, batch_id: str) -> None:
        if self.tasks.spawn(f"batch:{batch_id}", self._run, batch_id):
            self._running.add(batch_id)

    async def _run(self, batch_id: str) -> None:
        try:
            batch = await self.store.batches.get(batch_id, owner=ANY_OWNER)
            if batch.status != "Processing":
                return
            if self.fetcher is None:
                items = [
                    _failed(item.url, NOT_FETCHED, "download") if item.status == "Pending" else item
                    for item in batch.items
                ]
                await self._save(batch, "Completed", items)
            else:
                await self._fetch(batch, self.fetcher)
        finally:
            self._running.discard(batch_id)
            with anyio.CancelScope(shield=True), anyio.move_on_after(5.0):
                try:
                    await self.store.leases.release(LEASE_KIND, [batch_id], self.owner)
                except Exception:
                    log.exception("releasing the lease of batch %s failed", batch_id)

    async def _save(self, batch: BatchRow, status: str, items: list[Item]) -> None:
        await self.store.batches.save(replace(batch, status=status, items=items))

    async def _fetch(self, batch: BatchRow, fetcher: UrlFetcher) -> None:
        """Fetch the ``Pending`` URLs of ``batch`` (bounded by the fetcher's global limit),
        writing progress every ``PROGRESS_INTERVAL`` and the final state once all are done."""
        items = list(batch.items)
        todo = iter([i for i, item in enumerate(items) if item.status == "Pending"])
        changed = False
        stopped = False

        async def worker() -> None:
            nonlocal changed
            for i in todo:
                items[i] = await self._fetch_one(batch, fetcher, items[i].url)
                changed = True

        async def report_progress(cancel: Callable[[], None]) -> None:
            nonlocal changed, stopped
            while True:
                await anyio.sleep(PROGRESS_INTERVAL)
                # Aborted (or finished) elsewhere: stop without writing over it.
                if (await self.store.batches.get(batch.id, owner=ANY_OWNER)).status != "Processing":
                    stopped = True
                    cancel()
                    return
                if changed:
                    changed = False
                    await self._save(batch, "Processing", items)

        pending = sum(item.status == "Pending" for item in items)
        async with anyio.create_task_group() as outer:
            outer.start_soon(report_progress, outer.cancel_scope.cancel)
            async with anyio.create_task_group() as tg:
                # The fetcher's limiter bounds downloads across batches; the workers only
                # bound how many tasks one batch keeps waiting on it.
                for _ in range(min(fetcher.concurrency, pending)):
                    tg.start_soon(worker)
            outer.cancel_scope.cancel()
        # A local abort cancels this task before writing "Aborted", so "Processing" here
        # means the batch ran to its end.
        if (
            not stopped
            and (await self.store.batches.get(batch.id, owner=ANY_OWNER)).status == "Processing"
        ):
            await self._save(batch, "Completed", items)

    async def _fetch_one(self, batch: BatchRow, fetcher: UrlFetcher, url: str) -> Item:
        name = unique_name(url_basename(url))
        try:
            size = await fetcher.fetch(url, name)
        except ApiError as exc:
            return Item(
                url=url,
                status="Failed",
                error_message=exc.detail,
                stage=exc.stage,
                upstream_http_status=exc.upstream_http_status,
            )
        except Exception:
            # A bad item fails alone: the batch goes on and still reaches a final state.
            log.exception("fetching %r of batch %s failed", url, batch.id)
            return _failed(url, "The fetch failed.", "download")
        # The fetched file belongs to the batch's tenant.
        await self.store.assets.add(
            name, owner=batch.owner, original_name=url_basename(url), source_url=url, size=size
        )
        return Item(url=url, status="Completed", file_name=name)


def _failed(url: str, message: str, stage: str) -> Item:
    return Item(url=url, status="Failed", error_message=message, stage=stage)
