"""The few app pages the SDKs print: ``preview()`` and ``view()`` links.

``GET /definitions/{definitionId}`` describes a job definition and shows its first datapoints;
``GET /audiences/{audienceId}/job/{jobId}`` shows a job's state and progress. Plain HTML, no
token needed (a browser opens them). Every page carries a strict Content-Security-Policy (no
script, no framing, only its own inline style), ``nosniff`` and ``Referrer-Policy: no-referrer``.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from aiohttp import web

from .._wire import job as jwire
from ._context import ctx
from ._datapoints import asset_label, rapid_of, view
from ._http import public
from .domain.errors import NotFound

routes = web.RouteTableDef()

PREVIEW_DATAPOINTS = 10

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;"
    "color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;"
    "text-align:left;vertical-align:top}code{background:#f3f3f3;padding:0 .2rem}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; img-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _page(title: str, body: str, status: int = 200) -> web.Response:
    html = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>{body}"
        "<p><small>Rapidata local backend</small></p></body></html>"
    )
    return web.Response(
        text=html, content_type="text/html", status=status, headers=SECURITY_HEADERS
    )


def _rows(pairs: list[tuple[str, object]]) -> str:
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in pairs)
    return f"<table>{cells}</table>"


def _referee(referee: jwire.Referee) -> str:
    if isinstance(referee, jwire.NaiveReferee):
        return f"{referee.total_votes} responses per datapoint"
    if isinstance(referee, jwire.EarlyStoppingReferee):
        return f"up to {referee.max_votes} responses, stop at confidence {referee.threshold}"
    return f"up to {referee.max_votes} responses, stop when {referee.threshold} agree"


@routes.get("/")
@public
async def index(request: web.Request) -> web.Response:
    return _page(
        "Rapidata local backend",
        "<p>Serves the Rapidata REST API, the token endpoint <code>/connect/token</code> and "
        "the preview pages of job definitions and jobs.</p>",
    )


@routes.get("/definitions/{definitionId}")
@public
async def definition_page(request: web.Request) -> web.Response:
    store = ctx(request).store
    definition_id = request.match_info["definitionId"]
    try:
        definition = await store.definitions.get(definition_id)
    except NotFound:
        return _page(
            "Job definition not found", f"<p>No definition {escape(definition_id)}.</p>", 404
        )
    revision = await store.definitions.revision(definition_id)
    datapoints = await store.datasets.datapoints(revision.body.dataset_id)
    rapid = rapid_of(revision.body.workflow)
    info = _rows(
        [
            ("Definition id", definition.id),
            ("Type", definition.definition_type),
            ("Instruction", rapid.instruction if rapid else ""),
            ("Referee", _referee(revision.body.referee)),
            ("Datapoints", len(datapoints)),
            (
                "Settings",
                ", ".join(f"{f.key}={f.value}" for f in revision.body.rapid_feature_flags or ())
                or "none",
            ),
            ("Created", definition.created_at),
        ]
    )
    samples = ""
    if rapid is not None and datapoints:
        rows = []
        for dp in datapoints[:PREVIEW_DATAPOINTS]:
            seen = view(dp.body, rapid)
            asset = asset_label(seen.asset) if seen.asset is not None else ""
            rows.append(
                f"<tr><td>{dp.sort_index}</td><td>{escape(asset)}</td>"
                f"<td>{escape(seen.context or '')}</td>"
                f"<td>{escape(', '.join(seen.options or []))}</td></tr>"
            )
        samples = (
            f"<h2>First datapoints</h2><table><tr><th>#</th><th>Asset</th><th>Context</th>"
            f"<th>Options</th></tr>{''.join(rows)}</table>"
        )
    return _page(definition.name, info + samples)


@routes.get("/audiences/{audienceId}/job/{jobId}")
@public
async def job_page(request: web.Request) -> web.Response:
    store = ctx(request).store
    job_id = request.match_info["jobId"]
    audience_id = request.match_info["audienceId"]
    try:
        job = await store.jobs.get(job_id)
    except NotFound:
        job = None
    # The same page for a job of another audience as for none: the path must name both.
    if job is None or job.audience_id != audience_id:
        return _page(
            "Job not found",
            f"<p>No job {escape(job_id)} in audience {escape(audience_id)}.</p>",
            404,
        )
    percent = 100.0 * job.completed / job.total if job.total else 0.0
    info = _rows(
        [
            ("Job id", job.id),
            ("State", job.state),
            ("Audience", f"{job.audience_name or ''} ({job.audience_id})"),
            ("Definition", job.definition_id),
            ("Progress", f"{job.completed} / {job.total} datapoints ({percent:.0f} %)"),
            ("Responses", job.response_count),
            ("Created", job.created_at),
            ("Completed", job.completed_at or ""),
            ("Failure", job.failure_message or ""),
        ]
    )
    return _page(job.name, info)
