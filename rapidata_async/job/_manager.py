"""``client.job``: create, find and fetch job definitions and jobs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from .. import _validate as check
from .._config import rapidata_config
from .._datapoint import Datapoint
from .._exceptions import FailedUploadException
from .._logging import echo, logger
from .._paging import Listing
from .._settings import RapidataSetting, feature_flags
from .._types import DataType
from .._uploads import UploadTracker, upload_datapoints
from .._wire import dataset as dataset_wire
from .._wire import job as wire
from .._wire.common import FeatureFlag
from ._dataset import Dataset
from ._definition import JobDefinition
from ._job import Job

if TYPE_CHECKING:
    from .._context import ClientContext

T = TypeVar("T")

_CLASSIFY_SCHEMA = [
    dataset_wire.DatasetSegmentDefinition(key="asset", label="Asset", kind="Asset", required=True),
    dataset_wire.DatasetSegmentDefinition(
        key="context", label="Context", kind="Text", required=False, max_length=400
    ),
    dataset_wire.DatasetSegmentDefinition(
        key="context_asset", label="Context asset", kind="Asset", required=False
    ),
    dataset_wire.DatasetSegmentDefinition(
        key="answer_options", label="Answer options", kind="OptionList", required=True
    ),
]


def _datapoints(
    assets: Sequence[tuple[str, ...]],
    kind: str,
    contexts: Sequence[str] | None,
    media_contexts: Sequence[str | Sequence[str]] | None,
    private_metadata: Sequence[dict[str, str]] | None,
    answer_options: tuple[str, ...] | None = None,
) -> list[Datapoint]:
    """Check the per-datapoint lists against ``assets`` and zip them into ``Datapoint``s."""
    n = len(assets)
    ctxs = check.contexts(contexts, n) or [None] * n
    media = check.media_contexts(media_contexts, n) or [None] * n
    meta = check.private_metadata(private_metadata, n) or [None] * n
    return [
        Datapoint(
            asset=tuple(a),
            sort_index=i,
            data_type=kind,
            answer_options=answer_options,
            context=c,
            media_context=m,
            private_metadata=p,
        )
        for i, (a, c, m, p) in enumerate(zip(assets, ctxs, media, meta, strict=True))
    ]


def _referee(responses: int, confidence: float | None, quorum: int | None) -> wire.Referee:
    if confidence is not None and quorum is not None:
        raise ValueError(
            "confidence_threshold and quorum_threshold: pass one of them, not both "
            "(each is a way to stop collecting responses early)"
        )
    if quorum is not None:
        if isinstance(quorum, bool) or not isinstance(quorum, int) or quorum < 1:
            raise ValueError(f"quorum_threshold: must be an integer >= 1, got {quorum!r}")
        if quorum > responses:
            raise ValueError(
                f"quorum_threshold: {quorum} agreeing responses can never be reached with "
                f"responses_per_datapoint={responses}"
            )
        return wire.QuorumReferee(max_votes=responses, threshold=quorum)
    if confidence is None:
        return wire.NaiveReferee(total_votes=responses)
    return wire.EarlyStoppingReferee(max_votes=responses, threshold=confidence)


def _tolerance(value: float | None) -> float:
    if value is None:
        return rapidata_config.upload.failureTolerance
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"failure_tolerance: must be between 0.0 and 1.0, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """What a ``create_*_job_definition`` call (or a legacy ``create_*_order``) asks for, its
    arguments checked: the datapoints to upload and the rapid, referee and settings."""

    name: str
    datapoints: list[Datapoint]
    rapid: wire.RapidSpec
    referee: wire.Referee
    flags: list[FeatureFlag] | None
    schema: list[dataset_wire.DatasetSegmentDefinition] | None
    tolerance: float


def compare_spec(
    name: str,
    instruction: str,
    datapoints: Sequence[Sequence[str]],
    data_type: DataType,
    responses_per_datapoint: int,
    contexts: Sequence[str] | None,
    media_contexts: Sequence[str | Sequence[str]] | None,
    a_b_names: Sequence[str] | None,
    confidence_threshold: float | None,
    quorum_threshold: int | None,
    settings: Sequence[RapidataSetting] | None,
    failure_tolerance: float | None,
    private_metadata: Sequence[dict[str, str]] | None,
) -> TaskSpec:
    """The checked arguments of a compare definition; ``ValueError`` naming the first bad one."""
    check.name(name)
    check.instruction(instruction)
    kind = check.data_type(data_type)
    items = check.pairs(datapoints, kind)
    responses = check.responses_per_datapoint(responses_per_datapoint)
    referee = _referee(
        responses, check.confidence_threshold(confidence_threshold), quorum_threshold
    )
    names = check.a_b_names(a_b_names)
    flags = feature_flags(settings)
    tolerance = _tolerance(failure_tolerance)
    dps = _datapoints(items, kind, contexts, media_contexts, private_metadata)
    rapid = wire.CompareRapid(
        asset=wire.AssetBinding(segment="asset"),
        criteria=wire.TextBinding(literal=instruction),
        index_identifiers=names,
    )
    return TaskSpec(name, dps, rapid, referee, flags, None, tolerance)


def classification_spec(
    name: str,
    instruction: str,
    answer_options: Sequence[str],
    datapoints: Sequence[str],
    data_type: DataType,
    responses_per_datapoint: int,
    contexts: Sequence[str] | None,
    media_contexts: Sequence[str | Sequence[str]] | None,
    confidence_threshold: float | None,
    quorum_threshold: int | None,
    settings: Sequence[RapidataSetting] | None,
    failure_tolerance: float | None,
    private_metadata: Sequence[dict[str, str]] | None,
) -> TaskSpec:
    """The checked arguments of a classification definition (``ValueError`` as for compare)."""
    check.name(name)
    check.instruction(instruction)
    options = tuple(check.answer_options(answer_options))
    kind = check.data_type(data_type)
    items = check.singles(datapoints, kind)
    responses = check.responses_per_datapoint(responses_per_datapoint)
    referee = _referee(
        responses, check.confidence_threshold(confidence_threshold), quorum_threshold
    )
    flags = feature_flags(settings)
    tolerance = _tolerance(failure_tolerance)
    dps = _datapoints(
        [(item,) for item in items], kind, contexts, media_contexts, private_metadata, options
    )
    rapid = wire.ClassifyRapid(
        asset=wire.AssetBinding(segment="asset"),
        title=wire.TextBinding(literal=instruction),
        categories=wire.OptionsBinding(segment="answer_options"),
    )
    return TaskSpec(name, dps, rapid, referee, flags, _CLASSIFY_SCHEMA, tolerance)


async def upload_within_tolerance(
    ctx: ClientContext,
    dataset: Dataset,
    spec: TaskSpec,
    tracker: UploadTracker | None,
    finish: Callable[[], Awaitable[T]],
    *,
    order: object = None,
) -> T:
    """Upload ``spec``'s datapoints into ``dataset``; once the failed fraction is within the
    tolerance (and something landed) return ``await finish()``, else raise
    ``FailedUploadException`` whose ``retry()`` uploads the failed ones again."""
    total = len(spec.datapoints)
    landed = 0

    async def upload(pending: list[Datapoint]) -> T:
        nonlocal landed
        outcome = await upload_datapoints(ctx, dataset.id, pending, tracker=tracker)
        landed += len(outcome.succeeded)
        failed = total - landed
        # The ratio is over all datapoints, so it keeps its meaning across retries.
        if landed and failed / total <= spec.tolerance:
            if failed:
                logger.warning(
                    f"{failed} of {total} datapoints failed to upload, within the failure "
                    f"tolerance of {spec.tolerance:.0%}: continuing without them",
                    failed=failed,
                    total=total,
                    tolerance=spec.tolerance,
                )
            return await finish()
        exc = FailedUploadException(
            failed_uploads=[f.item for f in outcome.failed],
            detailed_failures=outcome.failed,
            dataset=dataset,
            job_definition=None,
            order=order,
        )
        exc._retry = lambda: upload([f.item for f in outcome.failed])
        raise exc

    return await upload(spec.datapoints)


class JobManager:
    """Job definitions and jobs (``client.job``)."""

    def __init__(self, ctx: ClientContext) -> None:
        self._ctx = ctx

    # -- creation ---------------------------------------------------------------------------
    async def create_compare_job_definition(
        self,
        name: str,
        instruction: str,
        datapoints: Sequence[Sequence[str]],
        data_type: DataType = "media",
        responses_per_datapoint: int = 10,
        contexts: Sequence[str] | None = None,
        media_contexts: Sequence[str | Sequence[str]] | None = None,
        a_b_names: Sequence[str] | None = None,
        confidence_threshold: float | None = None,
        quorum_threshold: int | None = None,
        settings: Sequence[RapidataSetting] | None = None,
        failure_tolerance: float | None = None,
        private_metadata: Sequence[dict[str, str]] | None = None,
        *,
        upload_progress: UploadTracker | None = None,
    ) -> JobDefinition:
        """Create a compare job definition: each datapoint is a pair, labelers pick the better.

        On the wire: ``POST /dataset``; asset uploads (URLs in batches, files as multipart);
        ``POST /dataset/{id}/datapoint`` per pair (concurrent, bounded by ``maxWorkers``); then
        ``POST /job/definition`` with a ``Compare`` rapid. Every argument is checked before the
        first request. ``confidence_threshold`` (stop once this sure, ``EarlyStoppingReferee``)
        or ``quorum_threshold`` (stop once this many responses agree, ``QuorumReferee``) end a
        datapoint before ``responses_per_datapoint``. The definition is created when the
        failed fraction of datapoints is at most ``failure_tolerance`` (default
        ``rapidata_config.upload.failureTolerance``, 0.0) and at least one landed; otherwise
        ``FailedUploadException`` is raised, whose ``retry()`` uploads the failed ones again.
        Pass an ``UploadTracker`` as ``upload_progress`` to follow the upload from another task.
        """
        spec = compare_spec(
            name,
            instruction,
            datapoints,
            data_type,
            responses_per_datapoint,
            contexts,
            media_contexts,
            a_b_names,
            confidence_threshold,
            quorum_threshold,
            settings,
            failure_tolerance,
            private_metadata,
        )
        return await self._create(spec, upload_progress)

    async def create_classification_job_definition(
        self,
        name: str,
        instruction: str,
        answer_options: Sequence[str],
        datapoints: Sequence[str],
        data_type: DataType = "media",
        responses_per_datapoint: int = 10,
        contexts: Sequence[str] | None = None,
        media_contexts: Sequence[str | Sequence[str]] | None = None,
        confidence_threshold: float | None = None,
        quorum_threshold: int | None = None,
        settings: Sequence[RapidataSetting] | None = None,
        failure_tolerance: float | None = None,
        private_metadata: Sequence[dict[str, str]] | None = None,
        *,
        upload_progress: UploadTracker | None = None,
    ) -> JobDefinition:
        """Create a classification job definition: labelers pick one of ``answer_options``.

        On the wire: ``POST /dataset`` (with the segment schema), uploads, one
        ``POST /dataset/{id}/datapoint`` per item (carrying its options segment), then
        ``POST /job/definition`` with a ``Classify`` rapid. Stopping rules and failure
        tolerance as for compare.
        """
        spec = classification_spec(
            name,
            instruction,
            answer_options,
            datapoints,
            data_type,
            responses_per_datapoint,
            contexts,
            media_contexts,
            confidence_threshold,
            quorum_threshold,
            settings,
            failure_tolerance,
            private_metadata,
        )
        return await self._create(spec, upload_progress)

    async def _create(self, spec: TaskSpec, tracker: UploadTracker | None) -> JobDefinition:
        ds = await self._ctx.transport.request(
            "POST",
            "/dataset",
            op_id="dataset_post",
            json=dataset_wire.CreateDatasetInput(name=f"{spec.name}_dataset", schema=spec.schema),
            response_type=dataset_wire.CreateDatasetOutput,
        )
        dataset = Dataset(self._ctx, id=ds.dataset_id, name=f"{spec.name}_dataset")
        return await upload_within_tolerance(
            self._ctx,
            dataset,
            spec,
            tracker,
            lambda: self._definition(spec.name, dataset.id, spec.rapid, spec.referee, spec.flags),
        )

    async def _definition(
        self,
        name: str,
        dataset_id: str,
        rapid: wire.RapidSpec,
        referee: wire.Referee,
        flags: list[FeatureFlag] | None,
    ) -> JobDefinition:
        """``POST /job/definition`` over the uploaded dataset."""
        out = await self._ctx.transport.request(
            "POST",
            "/job/definition",
            op_id="job_definition_post",
            json=wire.CreateJobDefinitionInput(
                definition_name=name,
                workflow=wire.SimpleWorkflow(rapid=rapid),
                referee=referee,
                dataset_id=dataset_id,
                rapid_feature_flags=flags,
            ),
            response_type=wire.CreateJobDefinitionOutput,
        )
        definition = JobDefinition(
            self._ctx, id=out.definition_id, name=name, revision_number=1, dataset_id=dataset_id
        )
        # The link itself is printed by preview(): the docs' flow calls it next.
        echo(f"Job definition created: {name!r} ({definition.id})")
        return definition

    # -- lookup -----------------------------------------------------------------------------
    def find_job_definitions(
        self, name: str = "", amount: int = 10, page: int = 1
    ) -> Listing[JobDefinition]:
        """Newest first: ``GET /job/definitions?name[contains]=…&sort=-created_at``.

        ``await`` it for one page; ``async for`` over it for all matches.
        """
        return Listing(
            self._ctx,
            path="/job/definitions",
            op_id="job_definitions_get",
            item_type=wire.JobDefinitionListItem,
            wrap=lambda d: JobDefinition(self._ctx, id=d.definition_id, name=d.name),
            name=name,
            amount=amount,
            page=page,
        )

    async def get_job_definition_by_id(
        self, job_definition_id: str, revision: int | None = None
    ) -> JobDefinition:
        """``GET /job/definition/{id}`` then its latest (or given) revision."""
        definition_id = check.resource_id(job_definition_id, "job_definition_id")
        d = await self._ctx.transport.request(
            "GET",
            f"/job/definition/{definition_id}",
            op_id="job_definition_definition_id_get",
            response_type=wire.JobDefinitionOutput,
        )
        definition = JobDefinition(self._ctx, id=d.definition_id, name=d.name)
        rev = await definition.get_revision(revision)
        definition.revision_number = rev.revision_number
        return definition

    async def get_job_defintion_by_id(
        self, job_definition_id: str, revision: int | None = None
    ) -> JobDefinition:
        """The docs' spelling of ``get_job_definition_by_id`` (same call), kept for ported code."""
        return await self.get_job_definition_by_id(job_definition_id, revision)

    def find_jobs(self, name: str = "", amount: int = 10, page: int = 1) -> Listing[Job]:
        """Newest first: ``GET /jobs?name[contains]=…&sort=-created_at``; ``await`` it for one
        page, ``async for`` over it for all matches."""
        return find_jobs(self._ctx, name=name, amount=amount, page=page)

    async def get_job_by_id(self, job_id: str) -> Job:
        """``GET /job/{id}``."""
        check.resource_id(job_id, "job_id")
        out = await self._ctx.transport.request(
            "GET", f"/job/{job_id}", op_id="job_job_id_get", response_type=wire.JobOutput
        )
        return Job._from_wire(self._ctx, out)


def find_jobs(
    ctx: ClientContext, *, name: str, amount: int, page: int, audience_id: str | None = None
) -> Listing[Job]:
    return Listing(
        ctx,
        path="/jobs",
        op_id="jobs_get",
        item_type=wire.JobListItem,
        wrap=lambda j: Job._from_wire(ctx, j),
        name=name,
        amount=amount,
        page=page,
        audience_id=audience_id,
    )
