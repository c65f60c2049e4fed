"""The pages' route table: every route public (a browser opens them without a token).

Public pages show one definition or job by its unguessable id (the link the SDK hands its
caller) and never list anything: no page leads from one tenant's data to another's. The
labeling page (``/label``) needs no bearer token either, but a session from an invite."""

from __future__ import annotations

from aiohttp import web

from .._http import public
from ._jobview import job_events, job_page, results_fragment
from ._label import answer, join, join_page, label_page, leave, qualify
from ._media import serve_media
from ._mri import benchmark_page, leaderboard_page
from ._preview import definition_page
from ._render import page, static_file

routes = web.RouteTableDef()


@public
async def index(request: web.Request) -> web.Response:
    return page("index.html", title="Rapidata local backend")


@public
async def static(request: web.Request) -> web.Response:
    return static_file(request.match_info["name"])


routes.get("/")(index)
routes.get("/definitions/{definitionId}")(public(definition_page))
routes.get("/audiences/{audienceId}/job/{jobId}")(public(job_page))
routes.get("/audiences/{audienceId}/job/{jobId}/events")(public(job_events))
routes.get("/audiences/{audienceId}/job/{jobId}/results")(public(results_fragment))
routes.get("/mri/benchmarks/{benchmarkId}")(public(benchmark_page))
routes.get("/mri/benchmarks/{benchmarkId}/leaderboard/{leaderboardId}")(public(leaderboard_page))
routes.get("/media/{name}")(public(serve_media))
routes.get("/static/{name}")(static)
routes.get("/label")(public(label_page))
routes.get("/label/join")(public(join_page))
routes.post("/label/join")(public(join))
routes.post("/label/answer")(public(answer))
routes.post("/label/qualify")(public(qualify))
routes.post("/label/leave")(public(leave))
