"""The engine: runs jobs and recruits audiences, as leased work shared by every process on
one database.

A scanner loop (every ``scan_interval`` seconds, and at once when ``start``/``recruit`` wake it)
looks for unfinished jobs (``Submitted``/``Running``) and ``Recruiting`` audiences, takes the
ones nobody holds with ``Leases.acquire`` and runs them in the backend's task group; it renews
the leases of what it runs, and stops a run whose lease was lost. A killed process's leases
expire after ``lease_ttl`` seconds and its work goes to whoever scans next, where the run
resumes from the stored responses.

Jobs are answered by the response sources on the task board, chosen by ``crowd``:
``simulated`` (the simulated crowd alone), ``human`` (people on the labeling page alone: jobs
wait for them) or ``mixed`` (both). The simulated crowd's pools come from ``pool``
(qualification of the audience).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
from collections.abc import Sequence
from datetime import datetime

import anyio
import anyio.to_thread
import msgspec

from ..._wire import audience as auwire
from ..._wire import job as jwire
from .._results import ResultItem, Vote, build_results_document
from .._tasks import TaskManager
from ..crowd.base import TaskBoard
from ..crowd.clock import Pace
from ..crowd.people import People
from ..crowd.population import AudienceSpec, Crowd, Oracle, Qualification, Quality
from ..crowd.simulated import Pool, SimulatedCrowd
from ..domain.errors import Conflict, DomainError
from ..domain.tasks import TaskError, allows_unsure, example_specs, rapid_of, task_for
from ..store.base import ANY_OWNER, AudienceRow, Store
from ._job import JobRun
from ._ranking import RankingRun, RankingSource, session_key

log = logging.getLogger("rapidata_async.local")

LEASE_TTL = 10.0
SCAN_INTERVAL = 1.0
DEFAULT_RULE = auwire.TaskAccuracyRule(target_accuracy=0.75, min_tasks=10)
CROWD_MODES = ("simulated", "human", "mixed")


class Engine:
    """Owns the task board, the simulated crowd, and the background runs of jobs and
    recruiting. The services call ``start``, ``recruit``, ``qualification`` and
    ``results_document``; the app calls ``resume`` once the server is up."""

    def __init__(
        self,
        store: Store,
        tasks: TaskManager,
        *,
        seed: int = 0,
        pace: Pace | None = None,
        oracle: Oracle | None = None,
        quality: Quality | None = None,
        owner: str | None = None,
        lease_ttl: float = LEASE_TTL,
        scan_interval: float = SCAN_INTERVAL,
        crowd: str = "simulated",
        random_share: float = 0.0,
    ) -> None:
        """``random_share`` (tests, benchmarks): the share of the simulated crowd that answers
        uniformly at random (``Crowd.random_answerers``)."""
        if crowd not in CROWD_MODES:
            raise ValueError(f"crowd must be one of {', '.join(CROWD_MODES)}, got {crowd!r}")
        self.mode = crowd
        self.store = store
        self.tasks = tasks
        self.model: Crowd = Crowd(
            seed=seed, oracle=oracle, quality=quality, random_share=random_share
        )
        self.pace: Pace = pace or Pace()
        self.owner: str = owner or f"engine-{secrets.token_hex(6)}"
        self.lease_ttl = lease_ttl
        self.scan_interval = scan_interval
        self.board: TaskBoard = TaskBoard()
        self.crowd: SimulatedCrowd = SimulatedCrowd(self.model, self.pool, self.pace)
        self.people: People = People(self.board)
        self._jobs: set[str] = set()
        self._recruits: set[str] = set()
        self._rankings: set[str] = set()
        self._ranking_sources: dict[str, RankingSource] = {}
        # audiences whose qualification failed: not retried every scan (until a restart)
        self._unqualifiable: set[str] = set()
        # pool key -> (audience id, the extra filters of the jobs published under it)
        self._narrowed: dict[str, tuple[str, list[auwire.AudienceFilter]]] = {}
        self._wake = anyio.Event()

    # -- what the services call ------------------------------------------------------------
    def start(self, job_id: str) -> None:
        """A job was created or retried: look for work now."""
        self._wake.set()

    def register_ranking(self, source: RankingSource) -> None:
        """Run the sessions ``source`` calls runnable (see ``_ranking``)."""
        self._ranking_sources[source.kind] = source
        self._wake.set()

    def start_ranking(self) -> None:
        """A ranking session was created or changed: look for work now."""
        self._wake.set()

    def recruit(self, audience_id: str) -> None:
        """An audience entered ``Recruiting``: look for work now."""
        self._wake.set()

    @property
    def takes_people(self) -> bool:
        """Whether people on the labeling page answer (``human`` or ``mixed`` crowd)."""
        return self.mode != "simulated"

    async def resume(self) -> None:
        """Start the response sources and the scanner; the first scan picks up whatever a
        previous process left unfinished."""
        if self.mode != "human":
            self.tasks.spawn("engine:crowd", self.crowd.run, self.board)
        if self.takes_people:
            self.tasks.spawn("engine:people", self.people.run, self.board)
        self.tasks.spawn("engine:scan", self._scan_loop)

    async def restart(self) -> None:
        """After every task was cancelled (tests' reset): a fresh board, then ``resume``."""
        self.board = TaskBoard()
        self.people = People(self.board, hold_seconds=self.people.hold_seconds)
        self._jobs.clear()
        self._recruits.clear()
        self._rankings.clear()
        self._unqualifiable.clear()
        await self.resume()

    def pool_key(
        self, audience: AudienceRow, filters: Sequence[auwire.AudienceFilter] | None
    ) -> str:
        """Where a job's tasks go on the board: the audience's own pool, or, for a job with
        extra filters (an order's user filters), the part of it that passes them."""
        if not filters:
            return audience.id
        digest = hashlib.sha256(msgspec.json.encode(list(filters))).hexdigest()[:16]
        key = f"{audience.id}~{digest}"
        self._narrowed[key] = (audience.id, list(filters))
        return key

    async def qualification(
        self,
        audience: AudienceRow,
        examples: Sequence[auwire.AddExampleInput] | None = None,
        *,
        key: str | None = None,
    ) -> Qualification:
        """The audience's answering pool (custom audiences: through their examples, computed
        in a worker thread in bounded chunks and cached); with the ``key`` of a narrowed pool
        (``pool_key``), only who also passes its filters."""
        kind = audience.kind if audience.kind in ("global", "curated") else "custom"
        specs = []
        if kind == "custom":
            if examples is None:
                examples = await self.store.audiences.examples(audience.id, owner=ANY_OWNER)
            specs = example_specs(audience.id, examples)
        filters = list(audience.body.filters or ())
        narrowed = self._narrowed.get(key) if key is not None else None
        if narrowed is not None:
            filters += narrowed[1]
        spec = AudienceSpec(
            key if key is not None and narrowed is not None else audience.id,
            kind,  # type: ignore[arg-type]
            audience.domain,
            specs,
            filters,
        )
        rule = audience.body.graduation_rule
        if not isinstance(rule, auwire.TaskAccuracyRule):
            rule = DEFAULT_RULE
        return await self.crowd.qualify(
            spec, target_accuracy=rule.target_accuracy, min_tasks=rule.min_tasks
        )

    async def ensure_ready(
        self, audience: AudienceRow, examples: Sequence[auwire.AddExampleInput] | None = None
    ) -> Qualification:
        """Qualify the audience and mark a custom one ``Ready`` with its funnel counts."""
        qualification = await self.qualification(audience, examples)
        if audience.kind == "custom" and audience.status != "Ready":
            states = qualification.users_per_state
            await self.store.audiences.set_status(
                audience.id,
                "Ready",
                counts=(
                    len(qualification.user_scores),
                    states.get("Graduated", 0),
                    states.get("Dropped", 0),
                ),
            )
        return qualification

    async def pool(self, key: str) -> Pool:
        """The crowd's view of an audience (or of a narrowed pool, see ``pool_key``): its
        pool and when recruiting started."""
        narrowed = self._narrowed.get(key)
        audience_id = narrowed[0] if narrowed is not None else key
        audience = await self.store.audiences.get(audience_id, owner=ANY_OWNER)
        started = None
        if audience.recruiting_started_at:
            started = datetime.fromisoformat(audience.recruiting_started_at).timestamp()
        return Pool(await self.qualification(audience, key=key), started)

    def qualified_so_far(self, audience_id: str) -> int | None:
        return self.crowd.qualified(audience_id)

    async def results_document(self, job_id: str) -> bytes:
        """The results JSON of a completed job, built from its stored responses (``Conflict``
        while it is not ``Completed``)."""
        work = await self.store.jobs.work(job_id)
        if work.job.state != "Completed":
            raise Conflict(
                f"Job '{job_id}' is {work.job.state}; its results can be downloaded once it is "
                "Completed."
            )
        definition = work.revision.body
        rapid = rapid_of(definition.workflow)
        if rapid is None:
            raise Conflict(f"Job '{job_id}' has no rapid to build results for.")
        unsure = allows_unsure(definition.rapid_feature_flags)

        def items_of() -> list[ResultItem]:
            items = []
            for position, dp in enumerate(work.datapoints):
                responses = work.responses.get(dp.id)
                if not responses:
                    continue
                _, item = task_for(dp.body, dp.sort_index, position, rapid, unsure)
                item.votes = [
                    Vote(
                        r.answer, r.user_score, r.country, r.language, r.age, r.gender, r.occupation
                    )
                    for r in responses
                ]
                items.append(item)
            return items

        items = await anyio.to_thread.run_sync(items_of)
        if rapid.kind == "Compare":
            urls = await self.store.assets.urls([name for item in items for name in item.options])
            for item in items:
                if all(name in urls for name in item.options):
                    item.asset_urls = {name: urls[name] for name in item.options}
        build = functools.partial(
            build_results_document,
            "Compare" if rapid.kind == "Compare" else "Classification",
            items,
            early_stopping=isinstance(definition.referee, jwire.EarlyStoppingReferee),
            index_identifiers=list(rapid.index_identifiers) if rapid.index_identifiers else None,
        )
        return await anyio.to_thread.run_sync(build)

    # -- the scanner -----------------------------------------------------------------------
    async def _scan_loop(self) -> None:
        while True:
            wake = self._wake = anyio.Event()
            try:
                await self._scan()
            except Exception:
                log.exception("engine scan failed")
            with anyio.move_on_after(self.scan_interval):
                await wake.wait()

    async def _scan(self) -> None:
        store, leases, owner, ttl = self.store, self.store.leases, self.owner, self.lease_ttl
        held_kinds = (("job", self._jobs), ("recruit", self._recruits), ("ranking", self._rankings))
        for kind, running in held_kinds:
            if running:
                held = set(await leases.renew(kind, sorted(running), owner, ttl))
                for key in sorted(running - held):
                    log.warning("lost the lease of %s %s; another process runs it", kind, key)
                    await self.tasks.cancel(f"{kind}:{key}")
        jobs = [
            j for j in await store.jobs.in_states(["Submitted", "Running"]) if j not in self._jobs
        ]
        if jobs:
            for job_id in await leases.acquire("job", jobs, owner, ttl):
                self._jobs.add(job_id)
                self.tasks.spawn(f"job:{job_id}", self._run_job, job_id)
        await self._scan_rankings()
        skip = self._recruits | self._unqualifiable
        audiences = [a for a in await store.audiences.in_status("Recruiting") if a not in skip]
        if audiences:
            for audience_id in await leases.acquire("recruit", audiences, owner, ttl):
                self._recruits.add(audience_id)
                self.tasks.spawn(f"recruit:{audience_id}", self._recruit, audience_id)

    async def _release(self, kind: str, key: str) -> None:
        with anyio.CancelScope(shield=True), anyio.move_on_after(5.0):
            try:
                await self.store.leases.release(kind, [key], self.owner)
            except Exception:
                log.exception("releasing the lease of %s %s failed", kind, key)

    async def _run_job(self, job_id: str) -> None:
        try:
            await JobRun(self, job_id).run()
        except (TaskError, DomainError, ValueError) as exc:
            log.warning("job %s failed: %s", job_id, exc)
            await self.store.jobs.set_state(job_id, "Failed", failure_message=str(exc))
        except Exception as exc:
            log.exception("job %s failed", job_id)
            await self.store.jobs.set_state(
                job_id, "Failed", failure_message=f"Internal error: {type(exc).__name__}: {exc}"
            )
        finally:
            self.board.withdraw(job_id)
            self._jobs.discard(job_id)
            await self._release("job", job_id)

    async def _scan_rankings(self) -> None:
        leases, owner, ttl = self.store.leases, self.owner, self.lease_ttl
        for source in list(self._ranking_sources.values()):
            wanted = {session_key(source.kind, s): s for s in await source.runnable()}
            keys = [key for key in wanted if key not in self._rankings]
            if not keys:
                continue
            for key in await leases.acquire("ranking", keys, owner, ttl):
                self._rankings.add(key)
                self.tasks.spawn(f"ranking:{key}", self._run_ranking, source, wanted[key])

    async def _run_ranking(self, source: RankingSource, session_id: str) -> None:
        key = session_key(source.kind, session_id)
        try:
            await RankingRun(self.store, self.board, source, session_id).run()
        except (TaskError, DomainError, ValueError) as exc:
            log.warning("ranking session %s failed: %s", key, exc)
            await source.failed(session_id, str(exc))
        except Exception as exc:
            log.exception("ranking session %s failed", key)
            await source.failed(session_id, f"Internal error: {type(exc).__name__}: {exc}")
        finally:
            self.board.withdraw(key)
            self._rankings.discard(key)
            await self._release("ranking", key)

    async def _recruit(self, audience_id: str) -> None:
        try:
            audience = await self.store.audiences.get(audience_id, owner=ANY_OWNER)
            await self.ensure_ready(audience)
        except (DomainError, ValueError) as exc:
            log.warning("recruiting audience %s failed: %s", audience_id, exc)
            self._unqualifiable.add(audience_id)
        finally:
            self._recruits.discard(audience_id)
            await self._release("recruit", audience_id)
