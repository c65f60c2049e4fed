"""``GET /audiences/{audienceId}/job/{jobId}``: a job's progress, live, and its results.

The page subscribes to ``.../events`` (server-sent events): one ``progress`` event whenever the
job's counts or state change and a last ``done`` event when it ends; the page then loads
``.../results``, an HTML fragment with the winners or category counts and a chart.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import anyio
import msgspec
from aiohttp import web

from ..._wire.results import ClassificationDocument, CompareDocument
from .._context import ctx
from ..domain.errors import NotFound
from ..store.base import ANY_OWNER, JobRow
from ._render import not_found, page, render, secure

TERMINAL = frozenset({"Completed", "Failed"})
POLL_SECONDS = 0.25
HEARTBEAT_SECONDS = 15.0
# An open stream ends after this long; the browser reconnects by itself.
STREAM_SECONDS = 300.0
SHOWN_ITEMS = 50

_compare = msgspec.json.Decoder(CompareDocument)
_classification = msgspec.json.Decoder(ClassificationDocument)


def progress_of(job: JobRow) -> dict[str, object]:
    """What the page shows of a job's progress (also the ``progress`` event's data)."""
    percent = 100.0 * job.completed / job.total if job.total else 0.0
    return {
        "state": job.state,
        "completed": job.completed,
        "total": job.total,
        "responses": job.response_count,
        "percent": round(percent, 1),
        "reason": job.reason or job.failure_message or "",
    }


async def _job(request: web.Request) -> JobRow | None:
    """The job of the path, or None when it does not exist under that audience."""
    try:
        # By its unguessable id: whoever holds the job's link may watch it.
        job = await ctx(request).store.jobs.get(request.match_info["jobId"], owner=ANY_OWNER)
    except NotFound:
        return None
    return job if job.audience_id == request.match_info["audienceId"] else None


def _missing(request: web.Request) -> web.Response:
    return not_found(
        "Job",
        f"No job {request.match_info['jobId']} in audience {request.match_info['audienceId']}.",
    )


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    share: float  # of the largest bar, 0..1


@dataclass(slots=True)
class Row:
    number: int
    shown: str  # the pair or the item
    context: str | None
    counts: list[tuple[str, int]]
    winner: str | None


@dataclass(slots=True)
class ResultsView:
    kind: str
    headline: str
    bars: list[Bar] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    total: int = 0


def _bars(totals: dict[str, int]) -> list[Bar]:
    top = max(totals.values(), default=0) or 1
    return [Bar(label, value, value / top) for label, value in totals.items()]


def results_view(document: CompareDocument | ClassificationDocument) -> ResultsView:
    """Winners or category counts per item, the totals as bars."""
    if isinstance(document, CompareDocument):
        a_wins = document.summary.a_wins_total if document.summary else 0
        b_wins = document.summary.b_wins_total if document.summary else 0
        ties = len(document.results) - a_wins - b_wins
        compare = ResultsView(
            "Compare",
            f"A won {a_wins}, B won {b_wins} of {len(document.results)} pairs",
            _bars({"A wins": a_wins, "B wins": b_wins, "No winner": ties}),
            total=len(document.results),
        )
        for i, item in enumerate(document.results[:SHOWN_ITEMS]):
            names = list(item.aggregated_results)[:2]
            # The pair's two assets count as A and B (their names are in the Pair column).
            counts = [
                ("AB"[k] if k < 2 else name, votes)
                for k, (name, votes) in enumerate(item.aggregated_results.items())
            ]
            winner = None if item.winner_index is None else "AB"[item.winner_index]
            compare.rows.append(Row(i + 1, " vs ".join(names), item.context, counts, winner))
        return compare
    totals: dict[str, int] = {}
    for result in document.results:
        for category, votes in result.aggregated_results.items():
            totals[category] = totals.get(category, 0) + votes
    classify = ResultsView(
        "Classification",
        f"{sum(totals.values())} votes over {len(document.results)} items",
        _bars(totals),
        total=len(document.results),
    )
    for i, result in enumerate(document.results[:SHOWN_ITEMS]):
        counts = list(result.aggregated_results.items())
        top = max(counts, key=lambda kv: kv[1], default=None)
        classify.rows.append(
            Row(
                i + 1,
                result.original_file_name or "",
                result.context,
                counts,
                top[0] if top and top[1] else None,
            )
        )
    return classify


async def _results(request: web.Request, job: JobRow) -> ResultsView | None:
    if job.state != "Completed":
        return None
    context = ctx(request)
    raw = await context.runner.results_document(job.id)
    definition = await context.store.definitions.get(job.definition_id, owner=ANY_OWNER)
    decoder = _compare if definition.definition_type == "Compare" else _classification
    return results_view(decoder.decode(raw))


async def job_page(request: web.Request) -> web.Response:
    job = await _job(request)
    if job is None:
        return _missing(request)
    return page(
        "job.html",
        title=job.name,
        job=job,
        progress=progress_of(job),
        results=await _results(request, job),
        base=f"/audiences/{job.audience_id}/job/{job.id}",
    )


async def results_fragment(request: web.Request) -> web.Response:
    """The results section alone (the page loads it when the job completes)."""
    job = await _job(request)
    if job is None:
        return _missing(request)
    text = render("_results.html", results=await _results(request, job), job=job)
    return secure(web.Response(text=text, content_type="text/html"))


def _event(name: str, data: object) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


async def job_events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: ``progress`` on every change, ``done`` once the job ends."""
    job = await _job(request)
    if job is None:
        return _missing(request)
    response = secure(web.StreamResponse())
    response.content_type = "text/event-stream"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    await response.prepare(request)
    store = ctx(request).store
    last: dict[str, object] | None = None
    started = beat = time.monotonic()
    try:
        while time.monotonic() - started < STREAM_SECONDS:
            current = progress_of(job)
            if current != last:
                await response.write(_event("progress", current))
                last, beat = current, time.monotonic()
            if job.state in TERMINAL:
                await response.write(_event("done", {"state": job.state}))
                break
            if time.monotonic() - beat > HEARTBEAT_SECONDS:
                await response.write(b": keep-alive\n\n")
                beat = time.monotonic()
            await anyio.sleep(POLL_SECONDS)
            job = await store.jobs.get(job.id, owner=ANY_OWNER)
    except (ConnectionResetError, NotFound):
        return response  # the browser left, or the job was wiped
    return response
