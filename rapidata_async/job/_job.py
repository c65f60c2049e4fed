"""``Job``: a job definition running on an audience; status, progress and results."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

import anyio
import msgspec

from .._context import poll
from .._exceptions import JobBlockedError, JobFailedError, NotFoundError
from .._logging import show_link
from .._types import JobState
from .._wire import audience as audience_wire
from .._wire import job as wire
from ..results import JobResults

if TYPE_CHECKING:
    from .._context import ClientContext

T = TypeVar("T")

TERMINAL = frozenset({"Completed", "Failed"})
BLOCKING = frozenset({"ManualApproval", "SpendLimited", "Paused", "Blocked"})


class JobProgress(msgspec.Struct, frozen=True, kw_only=True):
    """One snapshot of a job's progress, as ``GET /job/{id}`` and ``/progress`` report it."""

    state: JobState
    """The job's state: ``Submitted``, ``Running``, ``Completed``, ``Failed``, …"""
    completion_percentage: float
    """0-100; 100 once the job is ``Completed``."""
    completed: int
    """Datapoints that have all their responses (or reached the confidence threshold)."""
    total: int
    """Datapoints in the job; 0 while the server has not started it."""
    response_count: int
    """Responses collected so far, over all datapoints."""

    @property
    def done(self) -> bool:
        """Whether the state is final: ``Completed`` or ``Failed``."""
        return self.state in TERMINAL


class Job:
    """A job: one job definition assigned to one audience (``POST /job``)."""

    def __init__(
        self,
        ctx: ClientContext,
        *,
        id: str,
        name: str,
        audience_id: str,
        definition_id: str,
        created_at: datetime | None = None,
    ) -> None:
        self._ctx = ctx
        self.id: str = id
        """The job id."""
        self.name: str = name
        """The job's name (the definition's name)."""
        self.audience_id: str = audience_id
        """The audience the job runs on."""
        self.definition_id: str = definition_id
        """The job definition it runs."""
        self.created_at: datetime | None = created_at
        """When the server created the job (None when the answer did not say)."""

    def __repr__(self) -> str:
        return f"Job(id={self.id!r}, name={self.name!r}, audience_id={self.audience_id!r})"

    @classmethod
    def _from_wire(cls, ctx: ClientContext, out: wire.JobOutput | wire.JobListItem) -> Job:
        definition_id = (
            out.definition_id if isinstance(out, wire.JobOutput) else out.job_definition_id
        )
        return cls(
            ctx,
            id=out.job_id,
            name=out.name,
            audience_id=out.audience_id,
            definition_id=definition_id,
            created_at=out.created_at,
        )

    @property
    def url(self) -> str:
        """The job's dashboard page, ``{app_url}/audiences/{audience_id}/job/{id}``."""
        return self._ctx.app_link(f"audiences/{self.audience_id}/job/{self.id}")

    async def view(self, *, open_browser: bool = False) -> str:
        """The dashboard page of this job; no API call. Prints and returns the URL."""
        return await show_link("Job in dashboard", self.url, open_browser=open_browser)

    async def _get(self) -> wire.JobOutput:
        return await self._ctx.transport.request(
            "GET", f"/job/{self.id}", op_id="job_job_id_get", response_type=wire.JobOutput
        )

    async def get_status(self) -> JobState:
        """The job's state (``GET /job/{id}``): Submitted, Running, Completed, Failed, …"""
        return (await self._get()).state

    async def get_progress(self) -> JobProgress:
        """``GET /job/{id}`` then ``GET /job/{id}/progress`` (404 means no task yet: 0 %)."""
        job = await self._get()
        return await self._progress_of(job)

    async def _progress_of(self, job: wire.JobOutput) -> JobProgress:
        try:
            p = await self._ctx.transport.request(
                "GET",
                f"/job/{self.id}/progress",
                op_id="job_job_id_progress_get",
                response_type=wire.JobProgressOutput,
            )
        except NotFoundError:
            return JobProgress(
                state=job.state, completion_percentage=0.0, completed=0, total=0, response_count=0
            )
        pct = 100.0 if job.state == "Completed" else p.completion_percentage
        return JobProgress(
            state=job.state,
            completion_percentage=pct,
            completed=p.completed,
            total=p.total,
            response_count=p.response_count,
        )

    async def progress(
        self,
        *,
        poll_cap: float | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - a deadline over many polls
    ) -> AsyncIterator[JobProgress]:
        """Progress snapshots until the job is Completed or Failed (then the iterator ends).

        Polls ``GET /job/{id}`` and ``/progress``, quickly at first and then every few seconds
        (at most every ``poll_cap`` seconds). A poll that fails on a connection error, timeout,
        5xx or 429 is logged and the next one tried: a server restart does not end the wait.
        ``timeout`` is a deadline in seconds for the whole wait (``WaitTimeoutError`` when it
        passes; the job goes on); without it, only failures lasting 5 minutes end the wait.
        Raises ``JobFailedError`` when the job fails and ``JobBlockedError`` when it waits for
        something only a person can do (manual approval, spend limit, pause) or its audience
        can never produce responses.
        """
        async for snapshot in self._progress(poll_cap, timeout, None):
            yield snapshot

    async def _progress(
        self,
        poll_cap: float | None,
        timeout: float | None,  # noqa: ASYNC109
        started: float | None,
    ) -> AsyncIterator[JobProgress]:
        last: JobProgress | None = None
        checked = False

        async def fetch() -> JobProgress:
            nonlocal checked
            job = await self._get()
            self._raise_for_state(job)
            if not checked and job.state not in TERMINAL:
                await self._check_audience()
                checked = True
            return await self._progress_of(job)

        def describe() -> str:
            state = f" (last seen {last.state}, {last.completion_percentage:.0f} %)" if last else ""
            return f"job {self.id} did not finish{state}"

        async for snapshot in poll(
            self._ctx, fetch, timeout=timeout, describe=describe, cap=poll_cap, started=started
        ):
            if snapshot != last:
                last = snapshot
                yield snapshot
            if snapshot.done:
                return

    async def display_progress_bar(
        self,
        refresh_rate: float | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a deadline over many polls
    ) -> None:
        """Show a progress bar on stderr until the job is done, with the response count.

        The bar is drawn only when stderr is a terminal (see ``rapidata_config.logging.
        show_output``) and never in ``silent_mode``. ``refresh_rate`` caps the seconds
        between two polls (default: start fast, then 5 s); ``timeout`` as in ``progress()``.
        """
        from .._progress import ProgressBar, human_count

        with ProgressBar(total=100.0, desc=self.name, unit="%") as bar:
            async for p in self.progress(poll_cap=refresh_rate, timeout=timeout):
                bar.set(p.completion_percentage, responses=human_count(p.response_count))

    async def wait(self, *, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Return once the job is Completed (raises if it fails or is blocked); ``timeout``
        is a deadline in seconds (``WaitTimeoutError``). Rides out server restarts as
        ``progress()`` does."""
        async for _ in self.progress(timeout=timeout):
            pass

    async def get_results(self, *, timeout: float | None = None) -> JobResults:  # noqa: ASYNC109
        """Wait for completion, then download the results (``GET /job/{id}/download-results``).

        ``StaleResults`` jobs are re-run first (``POST /job/{id}/retry``). ``timeout`` is a
        deadline in seconds for the whole call (``WaitTimeoutError``); polls and the download
        ride out connection errors, 5xx and 429 until then, as ``progress()`` does.
        """
        started = anyio.current_time()

        def left() -> float:
            return (
                600.0 if timeout is None else max(0.001, started + timeout - anyio.current_time())
            )

        job = await self._first(self._get, timeout, started, "the state of job {id} was not read")
        if job.state == "StaleResults":
            await self._ctx.transport.request(
                "POST", f"/job/{self.id}/retry", op_id="job_job_id_retry_post"
            )
        if job.state != "Completed":
            async for _ in self._progress(None, timeout, started):
                pass

        async def download() -> bytes:
            return await self._ctx.transport.request(
                "GET",
                f"/job/{self.id}/download-results",
                op_id="job_job_id_download_results_get",
                timeout=left(),
            )

        raw = await self._first(
            download, timeout, started, "the results of job {id} were not downloaded"
        )
        return JobResults.from_bytes(raw)

    async def _first(
        self,
        fetch: Callable[[], Awaitable[T]],
        timeout: float | None,  # noqa: ASYNC109
        started: float,
        failure: str,
    ) -> T:
        """``await fetch()``, repeated through transient failures as a poll is."""
        message = failure.format(id=self.id)
        async for value in poll(
            self._ctx, fetch, timeout=timeout, describe=lambda: message, started=started
        ):
            return value
        raise AssertionError("poll() yields until it raises")  # pragma: no cover

    def _raise_for_state(self, job: wire.JobOutput) -> None:
        if job.state == "Failed":
            raise JobFailedError(
                f"job {self.id} failed: {job.failure_message or 'no reason given'}"
            )
        if job.state in BLOCKING:
            reason = job.review_reason or job.failure_message or ""
            raise JobBlockedError(
                f"job {self.id} is {job.state}{': ' + reason if reason else ''}; "
                "it needs action in the dashboard before it can progress"
            )

    async def _check_audience(self) -> None:
        """Raise if the audience can never produce responses (nobody qualified, not recruiting)."""
        if self.audience_id.startswith("ula_"):
            return
        metrics = await self._ctx.transport.request(
            "GET",
            f"/audience/{self.audience_id}/user-metrics",
            op_id="audience_audience_id_user_metrics_get",
            response_type=audience_wire.UserMetricsOutput,
        )
        states = metrics.users_per_state
        if states.get("Graduated", 0) or states.get("Distilling", 0):
            return
        audience = await self._ctx.transport.request(
            "GET",
            f"/audience/{self.audience_id}",
            op_id="audience_audience_id_get",
            response_type=audience_wire.AudienceOutput,
        )
        if audience.status == "Created":
            raise JobBlockedError(
                f"audience {audience.name!r} ({self.audience_id}) is not recruiting, so job "
                f"{self.id} can never get responses: give it at least 3 examples and call "
                "start_recruiting()"
            )
        if audience.status == "Ready" and states:
            raise JobBlockedError(
                f"audience {audience.name!r} ({self.audience_id}) finished recruiting but nobody "
                f"qualified ({states}), so job {self.id} can never get responses: review the "
                "audience's examples (too hard or wrong truths?) and recruit again"
            )
