"""The job runner: makes the simulated crowd answer a job, datapoint by datapoint.

``POST /job`` stores the job as ``Submitted`` and calls ``runner.start(job_id)``. The run then

1. waits for the preceding job, if any;
2. qualifies the audience (custom audiences: ``Recruiting`` -> ``Ready``);
3. marks the job ``Running`` and, for every datapoint without stored responses, asks the crowd
   (``Crowd.collect``) and persists the responses, spaced ``response_interval`` seconds apart
   (0: as fast as possible, yielding to the event loop between datapoints);
4. marks it ``Completed`` (or ``Failed`` with a message).

Responses are persisted per datapoint, so a backend restarted on the same file DB resumes an
unfinished job where it stopped (``runner.resume()``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import Literal

import anyio
import anyio.lowlevel
import anyio.to_thread

from .._wire import audience as auwire
from .._wire import job as jwire
from ._crowd import AudienceSpec, Crowd, ExampleSpec, Oracle, Qualification, Response, TaskSpec
from ._datapoints import Rapid, asset_label, asset_labels, rapid_of, view
from ._results import ResultItem, Vote, build_results_document
from ._tasks import TaskManager
from .domain.errors import Conflict, DomainError, NotFound
from .store.base import AudienceRow, DatapointRow, ResponseRecord, Store

log = logging.getLogger("rapidata_async.local")

FINAL_STATES = frozenset({"Completed", "Failed"})
MIN_EXAMPLES = 3
UNSURE_FLAG = "compare_unsure"


class TaskError(ValueError):
    """A datapoint that does not fit its job definition."""


def task_for(
    dp: DatapointRow, position: int, rapid: Rapid, allow_neither_both: bool
) -> tuple[TaskSpec, ResultItem]:
    """The crowd task of one datapoint and the (vote-less) result item it will become."""
    seen = view(dp.body, rapid)
    sort_index = dp.sort_index if dp.sort_index is not None else position
    if seen.asset is None:
        raise TaskError(f"datapoint {sort_index} has no '{rapid.asset_key}' asset")
    context_asset = asset_label(seen.context_asset) if seen.context_asset is not None else None
    if rapid.kind == "Compare":
        options = asset_labels(seen.asset)
        if len(options) != 2:
            raise TaskError(
                f"datapoint {sort_index}: a compare datapoint needs exactly 2 assets, "
                f"got {len(options)}"
            )
        if options[0] == options[1]:
            raise TaskError(f"datapoint {sort_index}: both assets are '{options[0]}'")
        kind: Literal["compare", "classify"] = "compare"
        item = ResultItem(
            sort_index,
            options,
            [],
            context=seen.context,
            context_asset=context_asset,
            private_metadata=seen.private_metadata,
        )
    else:
        options = list(dict.fromkeys(seen.options or ()))
        if len(options) < 2:
            raise TaskError(
                f"datapoint {sort_index}: a classification needs at least 2 answer options, "
                f"got {options}"
            )
        kind = "classify"
        item = ResultItem(
            sort_index,
            options,
            [],
            context=seen.context,
            context_asset=context_asset,
            private_metadata=seen.private_metadata,
            original_file_name=asset_label(seen.asset),
        )
    key = "\x1f".join([kind, str(sort_index), *options, seen.context or ""])
    task = TaskSpec(
        key,
        kind,
        options,
        allow_neither_both=allow_neither_both and kind == "compare",
        context=seen.context,
    )
    return task, item


def allows_unsure(flags: Sequence[jwire.FeatureFlag] | None) -> bool:
    return any(flag.key == UNSURE_FLAG for flag in flags or ())


def _record(job_id: str, datapoint_id: str, response: Response) -> ResponseRecord:
    lab = response.labeler
    return ResponseRecord(
        job_id,
        datapoint_id,
        f"sim:{lab.id}",
        response.answer,
        response.user_score,
        lab.country,
        lab.language,
        lab.age,
        lab.gender,
        lab.occupation,
    )


def _vote(record: ResponseRecord) -> Vote:
    return Vote(
        record.answer,
        record.user_score,
        record.country,
        record.language,
        record.age,
        record.gender,
        record.occupation,
    )


def _quorum(responses: list[Response], threshold: int) -> list[Response]:
    counts: dict[str, int] = {}
    for i, response in enumerate(responses):
        counts[response.answer] = counts.get(response.answer, 0) + 1
        if counts[response.answer] >= threshold:
            return responses[: i + 1]
    return responses


def example_specs(
    audience_id: str, examples: Sequence[auwire.AddExampleInput]
) -> list[ExampleSpec]:
    specs = []
    for i, example in enumerate(examples):
        payload, truth = example.payload, example.truth
        if isinstance(payload, auwire.CompareExamplePayload):
            if not isinstance(truth, auwire.CompareExampleTruth):
                continue
            specs.append(
                ExampleSpec(
                    "compare", asset_labels(example.asset), [truth.winner_id], f"{audience_id}:{i}"
                )
            )
        else:
            if not isinstance(truth, auwire.ClassifyExampleTruth):
                continue
            specs.append(
                ExampleSpec(
                    "classify",
                    [c.value for c in payload.categories],
                    list(truth.correct_categories),
                    f"{audience_id}:{i}",
                )
            )
    return specs


class JobRunner:
    """Owns the crowd and the background runs of jobs and recruiting audiences."""

    def __init__(
        self,
        store: Store,
        tasks: TaskManager,
        *,
        seed: int = 0,
        response_interval: float = 0.0,
        oracle: Oracle | None = None,
    ) -> None:
        self.store = store
        self.tasks = tasks
        self.crowd: Crowd = Crowd(seed=seed, oracle=oracle)
        self.response_interval = response_interval
        # Responses drawn but not yet persisted (response_interval > 0), per job.
        self.in_flight: dict[str, int] = {}
        self._crowd_limiter = anyio.CapacityLimiter(1)

    # -- audiences -----------------------------------------------------------------------------
    async def qualification(
        self, audience: AudienceRow, examples: Sequence[auwire.AddExampleInput] | None = None
    ) -> Qualification:
        """The audience's answering pool. Custom audiences qualify through their examples,
        which takes a while for a big crowd: that runs in a worker thread."""
        kind: Literal["global", "curated", "custom"]
        if audience.kind == "global":
            kind = "global"
        elif audience.kind == "curated":
            kind = "curated"
        else:
            kind = "custom"
        specs: list[ExampleSpec] = []
        if kind == "custom":
            if examples is None:
                examples = await self.store.audiences.examples(audience.id)
            specs = example_specs(audience.id, examples)
        spec = AudienceSpec(
            audience.id, kind, audience.domain, specs, list(audience.body.filters or ())
        )
        rule = audience.body.graduation_rule
        target, min_tasks = 0.75, 10
        if isinstance(rule, auwire.TaskAccuracyRule):
            target, min_tasks = rule.target_accuracy, rule.min_tasks
        qualify = functools.partial(
            self.crowd.qualify, spec, target_accuracy=target, min_tasks=min_tasks
        )
        return await anyio.to_thread.run_sync(qualify, limiter=self._crowd_limiter)

    def recruit(self, audience_id: str) -> None:
        self.tasks.spawn(f"recruit:{audience_id}", self._recruit, audience_id)

    async def _recruit(self, audience_id: str) -> None:
        audience = await self.store.audiences.get(audience_id)
        await self._ensure_ready(audience)

    async def _ensure_ready(self, audience: AudienceRow) -> Qualification:
        qualification = await self.qualification(audience)
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

    # -- jobs ----------------------------------------------------------------------------------
    def start(self, job_id: str) -> None:
        self.tasks.spawn(f"job:{job_id}", self._run_job, job_id)

    async def resume(self) -> None:
        """Restart what a previous process left unfinished (file DBs)."""
        for audience_id in await self.store.audiences.in_status("Recruiting"):
            self.recruit(audience_id)
        for job_id in await self.store.jobs.in_states(["Submitted", "Running"]):
            self.start(job_id)

    async def _wait_for(self, job_id: str) -> None:
        while True:
            try:
                job = await self.store.jobs.get(job_id)
            except NotFound:
                return
            if job.state in FINAL_STATES:
                return
            if self.tasks.running(f"job:{job_id}"):
                await self.tasks.wait(f"job:{job_id}")
            else:
                await anyio.sleep(0.2)

    async def _run_job(self, job_id: str) -> None:
        try:
            await self._collect(job_id)
        except (TaskError, DomainError, ValueError) as exc:
            log.warning("job %s failed: %s", job_id, exc)
            await self.store.jobs.set_state(job_id, "Failed", failure_message=str(exc))
        except Exception as exc:
            log.exception("job %s failed", job_id)
            await self.store.jobs.set_state(
                job_id, "Failed", failure_message=f"Internal error: {type(exc).__name__}: {exc}"
            )
        finally:
            self.in_flight.pop(job_id, None)

    async def _collect(self, job_id: str) -> None:
        work = await self.store.jobs.work(job_id)
        if work.job.preceding_job_id:
            await self._wait_for(work.job.preceding_job_id)
        definition = work.revision.body
        rapid = rapid_of(definition.workflow)
        if rapid is None:
            raise TaskError("the job definition's workflow has neither a rapid nor a blueprint")
        qualification = await self._ensure_ready(work.audience)
        await self.store.jobs.set_state(job_id, "Running", total=len(work.datapoints))
        referee = definition.referee
        threshold: float | None = None
        quorum: int | None = None
        if isinstance(referee, jwire.NaiveReferee):
            max_votes = referee.total_votes
        elif isinstance(referee, jwire.EarlyStoppingReferee):
            max_votes, threshold = referee.max_votes, referee.threshold
        else:
            max_votes, quorum = referee.max_votes, referee.threshold
        unsure = allows_unsure(definition.rapid_feature_flags)
        interval = self.response_interval
        for position, dp in enumerate(work.datapoints):
            if dp.id in work.done:
                continue
            task, _ = task_for(dp, position, rapid, unsure)
            responses = self.crowd.collect(
                task, qualification, max_votes=max_votes, threshold=threshold
            )
            if quorum is not None:
                responses = _quorum(responses, quorum)
            if interval > 0:
                for _ in responses:
                    await anyio.sleep(interval)
                    self.in_flight[job_id] = self.in_flight.get(job_id, 0) + 1
            else:
                await anyio.lowlevel.checkpoint()
            records = [_record(job_id, dp.id, r) for r in responses]
            await self.store.jobs.record(job_id, records, [dp.id])
            self.in_flight[job_id] = 0
        await self.store.jobs.set_state(job_id, "Completed")

    async def results_document(self, job_id: str) -> bytes:
        """The results JSON of a completed job (409 while it is still running)."""
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
        items: list[ResultItem] = []
        for position, dp in enumerate(work.datapoints):
            if dp.id not in work.done:
                continue
            _, item = task_for(dp, position, rapid, unsure)
            item.votes = [_vote(r) for r in work.responses.get(dp.id, ())]
            items.append(item)
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
