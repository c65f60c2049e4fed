"""``/job``: job definitions and their revisions, jobs, progress, retry and results.

A job definition binds a dataset to a rapid (3.27.1 ``workflow.rapid``; the Aug-2026
``workflow.blueprint`` is accepted too) and a referee. ``POST /job`` assigns it to an audience
and hands the job to the runner; ``GET /job/{id}/download-results`` serves the results JSON
once it is ``Completed``.
"""

from __future__ import annotations

import anyio.to_thread
import msgspec
from aiohttp import web

from ..._wire import job as wire
from .._context import ctx, tenant
from .._datapoints import rapid_of
from .._errors import BadRequest, field_error
from .._http import list_query, no_content, page_of, path_int, read_json, respond
from ..domain import limits
from ..domain.tasks import TaskError, allows_unsure, task_for
from ..store.base import (
    ORGANIZATION_ID,
    OWNER_ID,
    OWNER_MAIL,
    DatapointRow,
    DefinitionRow,
    JobRow,
    RevisionRow,
    Store,
)
from ..store.seeds import parse_iso
from .audiences import start_recruiting

routes: web.RouteTableDef = web.RouteTableDef()

_definition_decoder = msgspec.json.Decoder(wire.CreateJobDefinitionInput)
_job_decoder = msgspec.json.Decoder(wire.CreateJobInput)

# Query field -> logical field of the store's listings.
_DEFINITION_FILTERS = {
    "id": "id",
    "definition_id": "id",  # the Aug-2026 name of the same filter
    "name": "name",
    "definition_type": "definition_type",
    "created_at": "created_at",
    "owner_id": "owner_id",
    "owner_mail": "owner_mail",
}
_JOB_FILTERS = {
    "id": "id",
    "name": "name",
    "job_definition_id": "definition_id",
    "audience_id": "audience_id",
    "state": "state",
    "owner_mail": "owner_mail",
    "created_at": "created_at",
}
_LABELING_STATES = {
    "Submitted": "Created",
    "Completed": "Done",
    "Failed": "Failed",
    "Paused": "Paused",
}
MAX_REPORTED_ERRORS = 5


class DefinitionOut(wire.JobDefinitionOutput, omit_defaults=False):
    pass


class DefinitionListItemOut(wire.JobDefinitionListItem, omit_defaults=False):
    pass


class CreateJobOut(wire.CreateJobOutput, omit_defaults=False):
    pass


class JobOut(wire.JobOutput, omit_defaults=False):
    pass


class JobListItemOut(wire.JobListItem, omit_defaults=False):
    pass


def definition_out(row: DefinitionRow) -> DefinitionOut:
    return DefinitionOut(
        definition_id=row.id,
        name=row.name,
        definition_type=row.definition_type,
        created_at=parse_iso(row.created_at),
        owner_id=row.owner_id,
        owner_mail=row.owner_mail,
        organization_id=ORGANIZATION_ID,
        is_public=False,
    )


def definition_list_item(row: DefinitionRow) -> DefinitionListItemOut:
    return DefinitionListItemOut(
        definition_id=row.id,
        name=row.name,
        definition_type=row.definition_type,
        created_at=parse_iso(row.created_at),
        owner_id=row.owner_id,
        owner_mail=row.owner_mail,
        organization_id=ORGANIZATION_ID,
        revision_count=row.revision_count,
    )


def revision_out(row: RevisionRow) -> wire.JobRevisionOutput:
    body = row.body
    return wire.JobRevisionOutput(
        definition_id=row.definition_id,
        revision_number=row.number,
        state="Completed",
        pipeline_id=row.pipeline_id,
        dataset_id=body.dataset_id,
        workflow=body.workflow,
        referee=body.referee,
        feature_flags=list(body.rapid_feature_flags or ()),
        campaign_feature_flags=list(body.campaign_feature_flags or ()),
        created_at=parse_iso(row.created_at),
        created_by_id=OWNER_ID,
        created_by_mail=OWNER_MAIL,
        aggregator_type=body.aggregator_type,
        validation_set_id=row.validation_set_id,
    )


def _misfits(datapoints: list[DatapointRow], body: wire.CreateJobDefinitionInput) -> list[str]:
    """Datapoints that do not fit the rapid (wrong asset count, missing options...)."""
    rapid = rapid_of(body.workflow)
    assert rapid is not None
    unsure = allows_unsure(body.rapid_feature_flags)
    problems = []
    for position, dp in enumerate(datapoints):
        try:
            task_for(dp.body, dp.sort_index, position, rapid, unsure)
        except TaskError as exc:
            problems.append(str(exc))
            if len(problems) >= MAX_REPORTED_ERRORS:
                break
    return problems


def check_workflow(workflow: wire.Workflow, referee: wire.Referee) -> str:
    """The rapid's kind (``Compare``/``Classify``) of a definition's workflow, or 400."""
    rapid = rapid_of(workflow)
    if rapid is None:
        raise field_error(
            "workflow.rapid", "Set workflow.rapid (Compare or Classify), or a legacy blueprint."
        )
    limits.check_referee(referee)
    return rapid.kind


async def new_definition(
    store: Store,
    body: wire.CreateJobDefinitionInput,
    *,
    owner: str,
    validation_set_id: str | None = None,
) -> tuple[str, str]:
    """Check a definition against its dataset (every datapoint must fit the rapid) and create
    it, naming ``validation_set_id`` (an order's); ``(definition_id, pipeline_id)``."""
    kind = check_workflow(body.workflow, body.referee)
    await store.datasets.get(body.dataset_id, owner=owner, field="datasetId")
    datapoints = await store.datasets.datapoints(body.dataset_id, owner=owner)
    problems = await anyio.to_thread.run_sync(_misfits, datapoints, body)
    if problems:
        raise BadRequest(
            f"Some datapoints of dataset '{body.dataset_id}' do not fit a {kind} rapid.",
            errors={"datasetId": problems},
        )
    return await store.definitions.create(
        body, kind, owner=owner, validation_set_id=validation_set_id
    )


@routes.post("/job/definition")
async def create_definition(request: web.Request) -> web.Response:
    body = await read_json(request, _definition_decoder)
    if not body.definition_name.strip():
        raise field_error("definitionName", "The definition name must not be empty.")
    definition_id, pipeline_id = await new_definition(
        ctx(request).store, body, owner=tenant(request)
    )
    return respond(
        wire.CreateJobDefinitionOutput(definition_id=definition_id, pipeline_id=pipeline_id)
    )


@routes.get("/job/definitions")
async def list_definitions(request: web.Request) -> web.Response:
    query = list_query(request, filters=_DEFINITION_FILTERS)
    rows, total = await ctx(request).store.definitions.list(query, owner=tenant(request))
    return respond(page_of([definition_list_item(row) for row in rows], total, query))


@routes.get("/job/definition/{definitionId}")
async def get_definition(request: web.Request) -> web.Response:
    row = await ctx(request).store.definitions.get(
        request.match_info["definitionId"], owner=tenant(request)
    )
    return respond(definition_out(row))


@routes.get("/job/definition/{definitionId}/revision")
async def latest_revision(request: web.Request) -> web.Response:
    row = await ctx(request).store.definitions.revision(
        request.match_info["definitionId"], owner=tenant(request)
    )
    return respond(revision_out(row))


@routes.get("/job/definition/{definitionId}/revision/{revisionNumber}")
async def get_revision(request: web.Request) -> web.Response:
    number = path_int(request, "revisionNumber")
    row = await ctx(request).store.definitions.revision(
        request.match_info["definitionId"], number, owner=tenant(request)
    )
    return respond(revision_out(row))


def job_out(row: JobRow) -> JobOut:
    return JobOut(
        job_id=row.id,
        name=row.name,
        definition_id=row.definition_id,
        audience_id=row.audience_id,
        revision_number=row.revision_number,
        pipeline_id=row.pipeline_id,
        state=row.state,  # type: ignore[arg-type]
        created_at=parse_iso(row.created_at),
        owner_id=OWNER_ID,
        owner_mail=row.owner_mail,
        organization_id=ORGANIZATION_ID,
        is_public=False,
        audience_deleted=row.audience_name is None,
        audience_name=row.audience_name,
        completed_at=parse_iso(row.completed_at) if row.completed_at else None,
        failed_at=parse_iso(row.failed_at) if row.failed_at else None,
        failure_message=row.failure_message,
        # why a running job waits (e.g. too few qualified labelers); the API's only free-text
        # field for a job's hold-up
        review_reason=row.reason if row.state == "Running" else None,
    )


def _percentage(row: JobRow) -> float:
    if row.total:
        return round(100.0 * row.completed / row.total, 2)
    return 100.0 if row.state == "Completed" else 0.0


@routes.post("/job")
async def create_job(request: web.Request) -> web.Response:
    """Assign a definition revision (latest when ``revisionNumber`` is absent) to an audience.
    A custom audience needs at least 3 qualification examples; assigning a job to one that is
    still ``Created`` starts recruiting (``recruitingStarted: true``)."""
    body = await read_json(request, _job_decoder)
    context = ctx(request)
    store, owner = context.store, tenant(request)
    definition = await store.definitions.get(
        body.job_definition_id, owner=owner, field="jobDefinitionId"
    )
    revision = await store.definitions.revision(definition.id, body.revision_number, owner=owner)
    # Shared (global, curated) audiences take anyone's jobs; custom ones only their owner's.
    audience = await store.audiences.get(body.audience_id, owner=owner, field="audienceId")
    if body.preceding_job_id:
        await store.jobs.get(body.preceding_job_id, owner=owner, field="precedingJobId")
    recruiting = await start_recruiting(context.runner, audience)
    total = await store.datasets.datapoint_count(revision.body.dataset_id)
    limits.check_datapoint_count(total)
    job = await store.jobs.create(
        body, owner=owner, name=body.name or definition.name, revision=revision, total=total
    )
    context.runner.start(job.id)
    return respond(
        CreateJobOut(job_id=job.id, recruiting_started=recruiting, experiment_id=body.experiment_id)
    )


@routes.get("/jobs")
async def list_jobs(request: web.Request) -> web.Response:
    query = list_query(request, filters=_JOB_FILTERS)
    rows, total = await ctx(request).store.jobs.list(query, owner=tenant(request))
    items = [
        JobListItemOut(
            job_id=row.id,
            name=row.name,
            job_definition_id=row.definition_id,
            audience_id=row.audience_id,
            revision_number=row.revision_number,
            pipeline_id=row.pipeline_id,
            state=row.state,  # type: ignore[arg-type]
            owner_mail=row.owner_mail,
            organization_id=ORGANIZATION_ID,
            created_at=parse_iso(row.created_at),
            is_shared=False,
            progress=_percentage(row),
        )
        for row in rows
    ]
    return respond(page_of(items, total, query))


@routes.get("/job/{jobId}")
async def get_job(request: web.Request) -> web.Response:
    row = await ctx(request).store.jobs.get(request.match_info["jobId"], owner=tenant(request))
    return respond(job_out(row))


@routes.get("/job/{jobId}/progress")
async def job_progress(request: web.Request) -> web.Response:
    context = ctx(request)
    row = await context.store.jobs.get(request.match_info["jobId"], owner=tenant(request))
    state = _LABELING_STATES.get(row.state)
    if state is None:
        state = "Labeling" if row.completed or row.response_count else "Started"
    return respond(
        wire.JobProgressOutput(
            completion_percentage=_percentage(row),
            total=row.total,
            completed=row.completed,
            state=state,  # type: ignore[arg-type]
            response_count=row.response_count,
        )
    )


@routes.post("/job/{jobId}/retry")
async def retry_job(request: web.Request) -> web.Response:
    """Restart a ``Failed`` (or ``StaleResults``) job; responses already collected are kept."""
    context = ctx(request)
    row = await context.store.jobs.get(request.match_info["jobId"], owner=tenant(request))
    if row.state in ("Failed", "StaleResults"):
        await context.store.jobs.set_state(row.id, "Submitted")
        context.runner.start(row.id)
    return no_content()


@routes.get("/job/{jobId}/download-results")
async def download_results(request: web.Request) -> web.Response:
    context = ctx(request)
    job = await context.store.jobs.get(request.match_info["jobId"], owner=tenant(request))
    job_id = job.id
    document = await context.runner.results_document(job_id)
    return web.Response(
        body=document,
        content_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{job_id}_results.json"'},
    )
